"""`hub policy matrix`: every field against every client purpose, as text and as HTML."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema

from hub.policy.paths import object_types
from resolvers.entities import REFERENCE_TYPES
from tests.policy.helpers import Outcome, write_policy

Run = Callable[..., Outcome]


def _row(outcome: Outcome, label: str) -> list[str]:
    return next(line.split() for line in outcome.lines if line.split()[:1] == [label])


def test_text_matrix_of_the_shipped_policies(hub_policy: Run) -> None:
    outcome = hub_policy("matrix")
    assert outcome.code == 0
    lines = outcome.lines
    assert lines[0] == "columns:"
    columns = [line.split()[1] for line in lines[1:] if line.startswith("  ") and
               line.split()[0].isdigit()]
    assert "moha-personnel-db/administration" in columns
    assert "mof-payroll/salary-budget" in columns
    header = next(line for line in lines if line.startswith("field"))
    assert header.split() == ["field", *map(str, range(1, len(columns) + 1))]
    # Reference types are not rows; the order is the schema's
    labels = [line.split()[0] for line in lines[lines.index(header) + 1:]]
    assert not any(label.startswith(("Rank.", "Province.", "PageInfo.")) for label in labels)
    assert labels.index("Query.civilServant") < labels.index("CivilServant.employeeCode") \
        < labels.index("CivilServant.personalId") < labels.index("Agency.code")
    # sensitive rows are marked and end in their category
    religion = next(line for line in lines if line.startswith("CivilServant.religion "))
    assert religion.startswith("CivilServant.religion *")
    assert religion.endswith("religious_beliefs")


def test_cells_hold_a_tick_a_mask_or_nothing(hub_policy: Run, tmp_path: Path,
                                             base: dict[str, Any]) -> None:
    base["purposes"]["review"]["grants"]["CivilServant"]["masks"] = {"birthDate": "year-only"}
    base["purposes"]["second"] = {"description": "A second purpose.", "grants": {
        "Query": {"fields": ["ranks"]}}}
    write_policy(tmp_path, base)
    outcome = hub_policy("matrix", "--dir", tmp_path)
    assert outcome.code == 0
    assert outcome.lines[1:3] == ["   1  test-client/review", "   2  test-client/second"]
    assert _row(outcome, "CivilServant.fullName") == ["CivilServant.fullName", "✓"]
    assert _row(outcome, "CivilServant.birthDate") == ["CivilServant.birthDate", "year-only"]
    assert _row(outcome, "Query.ranks") == ["Query.ranks", "✓", "✓"]
    assert _row(outcome, "CivilServant.personalId") == ["CivilServant.personalId"]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.sensitive_rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "tr" and ("class", "sensitive") in attrs:
            self.sensitive_rows += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_matrix_is_self_contained_and_escaped(hub_policy: Run, tmp_path: Path,
                                                    base: dict[str, Any],
                                                    schema: GraphQLSchema) -> None:
    base["client"]["name"] = "<script>alert('x')</script> & co"
    base["purposes"]["review"]["grants"]["CivilServant"]["fields"].append("religion")
    base["purposes"]["review"]["grants"]["CivilServant"]["legal_basis"] = {
        "religion": "Decree 27/2026/ND-CP, art. 6"}
    write_policy(tmp_path, base)
    target = tmp_path / "matrix.html"
    outcome = hub_policy("matrix", "--dir", tmp_path, "--html", target)
    assert outcome.code == 0
    fields = sum(len(t.fields) for name, t in object_types(schema).items()
                 if name not in REFERENCE_TYPES)
    assert outcome.lines == [f"wrote {target}: {fields} fields x 1 client purposes"]
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "position: sticky" in page
    parsed = _Page()
    parsed.feed(page)
    assert not {"script", "link", "img", "iframe"} & set(parsed.tags)
    assert not any(name in {"src", "href"} for name, _ in parsed.attrs)
    assert {"style", "thead"} <= set(parsed.tags)
    assert parsed.sensitive_rows == 11  # every sensitive field of the schema is highlighted
    text = "".join(parsed.text)
    assert "CivilServant.religion" in text
    assert "religious_beliefs" in text
    assert "sensitive field: needs a legal basis" in text  # the legend


def test_broken_policies_give_no_matrix(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, "client: [\n", "broken")
    outcome = hub_policy("matrix", "--dir", tmp_path)
    assert outcome.code == 1
    assert outcome.out == ""
