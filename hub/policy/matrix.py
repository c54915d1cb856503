"""``hub policy matrix``: every field against every client and purpose, on one page.

Rows are the ``Type.field`` of the types that carry personal data (reference types are public
and left out), in schema order; columns are the compiled views. A cell holds what the client's
schema holds: ✓, the mask's name, or nothing. Then one row per change kind
(``write:position-change``): ✓ (may submit it for any record), ``rows`` (within its row
scope), ``+co`` when the employee must co-sign, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.policy.compile import ClientView, sensitive_category
from hub.policy.paths import object_types
from hub.policy.workspace import Workspace
from hub.policy.writes import WRITE_KINDS, write_subject
from resolvers.entities import REFERENCE_TYPES

__all__ = ["SCOPED", "VISIBLE", "Column", "Matrix", "Row", "WriteRow", "build_matrix",
           "render_text"]

VISIBLE = "✓"
SCOPED = "rows"      # a write grant with a row scope
COSIGNED = "+co"     # ... that needs the employee's co-signature too


@dataclass(frozen=True, slots=True)
class Column:
    client_id: str
    client_name: str
    purpose: str
    description: str

    @property
    def label(self) -> str:
        return f"{self.client_id}/{self.purpose}"


@dataclass(frozen=True, slots=True)
class Row:
    type_name: str
    field_name: str
    sensitive: str | None     # the category, when the field is sensitive
    cells: tuple[str, ...]    # per column: VISIBLE, a mask's name, or ""

    @property
    def label(self) -> str:
        return f"{self.type_name}.{self.field_name}"


@dataclass(frozen=True, slots=True)
class WriteRow:
    kind: str
    cells: tuple[str, ...]    # per column: VISIBLE or SCOPED, maybe + COSIGNED; or ""

    @property
    def label(self) -> str:
        return write_subject(self.kind)


@dataclass(frozen=True, slots=True)
class Matrix:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    digest: str | None
    writes: tuple[WriteRow, ...] = ()


def _cell(view: ClientView, type_name: str, field_name: str) -> str:
    if not view.shows(type_name, field_name):
        return ""
    return view.visible[type_name][field_name] or VISIBLE


def _write_cell(view: ClientView, kind: str) -> str:
    grant = view.writes.get(kind)
    if grant is None:
        return ""
    return (SCOPED if grant.rows else VISIBLE) + (COSIGNED if grant.cosign else "")


def build_matrix(workspace: Workspace) -> Matrix:
    views = workspace.views()
    columns = tuple(Column(v.client.client_id, v.client.name, v.purpose.name,
                           v.purpose.description) for v in views)
    rows = tuple(
        Row(type_name, name, sensitive_category(field),
            tuple(_cell(view, type_name, name) for view in views))
        for type_name, object_type in object_types(workspace.schema).items()
        if type_name not in REFERENCE_TYPES
        for name, field in object_type.fields.items())
    writes = tuple(WriteRow(kind, tuple(_write_cell(view, kind) for view in views))
                   for kind in WRITE_KINDS)
    return Matrix(columns, rows, workspace.digest, writes)


def render_text(matrix: Matrix) -> str:
    keys = [str(n) for n in range(1, len(matrix.columns) + 1)]
    table: list[Row | WriteRow] = [*matrix.rows, *matrix.writes]
    widths = [max([len(key), *(len(row.cells[i]) for row in table)])
              for i, key in enumerate(keys)]
    label_width = max([len("field"), *(len(row.label) + 2 for row in table)])
    lines = ["columns:"]
    lines += [f"  {key:>2}  {column.label}" for key, column in zip(keys, matrix.columns,
                                                                    strict=True)]
    lines += ["cells: ✓ visible; a mask's name: visible, masked so; blank: not visible.",
              "* marks a sensitive field (its category ends the row).",
              "the last rows, write:KIND, are changes: ✓ may submit it for any record; rows: "
              "within its row scope; +co: co-signed by the employee.", ""]

    def line(label: str, cells: list[str], tail: str = "") -> str:
        body = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return f"{label.ljust(label_width)}  {body}  {tail}".rstrip()

    lines.append(line("field", keys))
    for row in matrix.rows:
        label = row.label + (" *" if row.sensitive else "")
        lines.append(line(label, list(row.cells), row.sensitive or ""))
    for write in matrix.writes:
        lines.append(line(write.label, list(write.cells)))
    return "\n".join(lines) + "\n"
