"""The access matrix as one self-contained HTML page, for reviews and audit files.

Inline CSS only: no script, no external asset, so the page opens the same from a mail
attachment or an archive years later. Every text from a policy file is escaped.
"""

from __future__ import annotations

from html import escape

from hub.policy.matrix import VISIBLE, Matrix, Row, WriteRow

__all__ = ["render_html"]

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2329; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
.legend { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .75rem 0 1rem;
          padding: .5rem .75rem; border: 1px solid #d0d7de; border-radius: 4px; }
.legend span { white-space: nowrap; }
.swatch { display: inline-block; min-width: 1.4em; padding: 0 .3em; margin-right: .3em;
          text-align: center; border: 1px solid #d0d7de; }
table { border-collapse: separate; border-spacing: 0; }
th, td { border-bottom: 1px solid #e4e8ec; padding: .2rem .5rem; text-align: center; }
thead th { position: sticky; top: 0; z-index: 2; background: #f6f8fa; vertical-align: bottom;
           border-bottom: 2px solid #8c959f; font-weight: 600; }
thead th small { display: block; font-weight: 400; color: #57606a; }
tbody th { text-align: left; font-weight: 400; font-family: ui-monospace, monospace;
           position: sticky; left: 0; background: #fff; z-index: 1; }
tr.type th { background: #eaeef2; font-family: inherit; font-weight: 600; }
tr.sensitive td, tr.sensitive th, .swatch.sensitive { background: #fff1e5; }
td.category { color: #9a3412; font-size: .85em; }
td.yes { color: #1a7f37; font-weight: 700; }
td.mask, .swatch.mask { color: #7c2d12; font-style: italic; background: #fef3c7; }
td.write, .swatch.write { color: #1e3a8a; background: #e0e7ff; }
"""


def _head(matrix: Matrix) -> str:
    cells = "".join(
        f'<th scope="col" title="{escape(column.client_name)}: {escape(column.description)}">'
        f"{escape(column.client_id)}<small>{escape(column.purpose)}</small></th>"
        for column in matrix.columns)
    return f'<thead><tr><th scope="col">field</th><th scope="col">sensitive</th>{cells}</tr>' \
           "</thead>"


def _cell(value: str) -> str:
    if value == VISIBLE:
        return '<td class="yes">✓</td>'
    if value:
        return f'<td class="mask">{escape(value)}</td>'
    return "<td></td>"


def _row(row: Row) -> str:
    css = ' class="sensitive"' if row.sensitive else ""
    category = escape(row.sensitive or "")
    cells = "".join(_cell(value) for value in row.cells)
    return (f'<tr{css}><th scope="row">{escape(row.label)}</th>'
            f'<td class="category">{category}</td>{cells}</tr>')


def _write_cell(value: str) -> str:
    return f'<td class="write">{escape(value)}</td>' if value else "<td></td>"


def _write_row(row: WriteRow) -> str:
    cells = "".join(_write_cell(value) for value in row.cells)
    return f'<tr><th scope="row">{escape(row.label)}</th><td></td>{cells}</tr>'


def _body(matrix: Matrix) -> str:
    parts = []
    current = None
    for row in matrix.rows:
        if row.type_name != current:
            current = row.type_name
            parts.append(f'<tr class="type"><th colspan="{len(matrix.columns) + 2}">'
                         f"{escape(current)}</th></tr>")
        parts.append(_row(row))
    if matrix.writes:
        parts.append(f'<tr class="type"><th colspan="{len(matrix.columns) + 2}">Changes the '
                     "client may submit (write grants)</th></tr>")
        parts.extend(_write_row(row) for row in matrix.writes)
    return "<tbody>" + "\n".join(parts) + "</tbody>"


def render_html(matrix: Matrix, title: str = "Hub access matrix") -> str:
    digest = f" (policy set {escape(matrix.digest)})" if matrix.digest else ""
    legend = (
        '<div class="legend">'
        '<span><span class="swatch">✓</span>visible</span>'
        '<span><span class="swatch mask">hash</span>visible, masked (the mask\'s name)</span>'
        '<span><span class="swatch"> </span>not in the client\'s schema</span>'
        '<span><span class="swatch sensitive"> </span>sensitive field: needs a legal basis'
        "</span>"
        '<span><span class="swatch write">✓</span>may submit that change for any record; '
        '<span class="swatch write">rows</span>within its row scope; '
        '<span class="swatch write">+co</span>co-signed by the employee</span></div>')
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n"
        f"<p>Which client may read which field, and submit which change, per purpose of "
        f"use{digest}: {len(matrix.columns)} client purposes, {len(matrix.rows)} fields, "
        f"{len(matrix.writes)} change kinds.</p>\n"
        f"{legend}\n<table>\n{_head(matrix)}\n{_body(matrix)}\n</table>\n</body>\n</html>\n")
