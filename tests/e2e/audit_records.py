"""The audit log as the end-to-end tests read it: records found by request id (read as the
database owner, past the hub's role), and what an answer discloses, walked beside its document,
to compare the two.

Each test sends its own ``X-Request-Id`` (:func:`request_id`) and finds its record by it; a
batch's operations are recorded as ``<id>/<index>``.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    parse,
)

from tests.e2e.oracle import fetch
from tests.e2e.policy_cases import FULL
from tests.e2e.policy_checks import collect

__all__ = ["Disclosed", "Record", "answer_leaves", "batch_records", "check_disclosed",
           "check_no_values", "disclosed_in", "fetch_rows", "record", "records", "request_id",
           "run_sql"]

PERSONAL_ID = re.compile(r"\d{12}")
# Types whose objects are about one person (resolvers/disclosures.py SUBJECT_COLUMNS).
SUBJECT_TYPES = frozenset({"CivilServant", "Person", "AgencyRecord"})
# Links from a person's object to another object about the same person.
SAME_PERSON = frozenset({"CivilServant.person", "CivilServant.agencyRecord",
                         "Person.civilServant"})
SUBJECT_ARGUMENT = "personalId"
# Types also about a second person, named by their own personalId (RELATED_SUBJECT_COLUMNS).
RELATED_TYPES = frozenset({"FamilyMember"})


def request_id(stem: str) -> str:
    """A request id of the test's own, well formed (``[A-Za-z0-9._:-]{1,128}``)."""
    return f"e2e-{stem}-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class Record:
    """One stored audit record: the entry, its text as stored, and the row's columns."""

    entry: dict[str, Any]
    text: str
    columns: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.entry[key]

    @property
    def subjects(self) -> set[str]:
        return {s for group in self.entry["disclosed"] for s in group["subjects"]}

    @property
    def fields(self) -> set[str]:
        return {f for group in self.entry["disclosed"] for f in group["fields"]}

    def fields_of(self, subject: str) -> set[str]:
        return {f for group in self.entry["disclosed"] if subject in group["subjects"]
                for f in group["fields"]}

    @property
    def anonymous_fields(self) -> set[str]:
        return {f for group in self.entry["disclosed"] if not group["subjects"]
                for f in group["fields"]}

    def strings(self) -> set[str]:
        """Every string the entry holds, keys aside."""
        found: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(self.entry)
        return found


_SELECT = ("SELECT entry::text AS text, chain_id, seq, client_id, purpose, outcome, subject_ids,"
           " recorded_at FROM audit_record WHERE entry->>'request' = ANY($1::text[])")


def records(dsn: str, *request_ids: str) -> list[Record]:
    """The records of these request ids, in the order asked (as the owner: ``dsn``)."""
    rows = fetch(dsn, _SELECT, list(request_ids))
    found = []
    for row in rows:
        text = row.pop("text")
        found.append(Record(json.loads(text), text, row))
    return sorted(found, key=lambda r: request_ids.index(r.entry["request"]))


def record(dsn: str, request: str) -> Record:
    """The one record of a request: exactly one must exist once its answer has arrived."""
    found = records(dsn, request)
    assert len(found) == 1, f"{len(found)} records of request {request}: {found}"
    return found[0]


def batch_records(dsn: str, request: str, count: int) -> list[Record]:
    """One record per operation of a batch, ``<id>/<index>``, and none for the batch itself."""
    ids = [f"{request}/{i}" for i in range(count)]
    found = records(dsn, request, *ids)
    assert [r["request"] for r in found] == ids, [r["request"] for r in found]
    return found


def fetch_rows(dsn: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    return fetch(dsn, sql, *args)


async def execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def run_sql(dsn: str, *statements: str) -> None:
    asyncio.run(execute(dsn, *statements))


# -- what an answer discloses ------------------------------------------------------------------

_UNKNOWN = "?"  # an object about a person the answer does not name


@dataclass
class Disclosed:
    """What an answer shows, per subject, as the audit record must hold it."""

    # (personal ID, Type.field): shown of that person
    pairs: set[tuple[str, str]] = field(default_factory=set)
    # Type.field shown about no person (objects with no person above them)
    anonymous: set[str] = field(default_factory=set)
    # Type.field of objects whose person the answer does not name
    unidentified: set[str] = field(default_factory=set)
    # (personal ID, Query.field): root fields looking a person up, and those of them that
    # found nobody (null)
    lookups: set[tuple[str, str]] = field(default_factory=set)
    unfound: set[tuple[str, str]] = field(default_factory=set)
    # how many objects of each subject type were identified / not
    identified: dict[str, int] = field(default_factory=dict)

    @property
    def subjects(self) -> set[str]:
        return {s for s, _ in self.pairs} | {s for s, _ in self.lookups}

    def fields_of(self, subject: str) -> set[str]:
        return ({f for s, f in self.pairs if s == subject}
                | {f for s, f in self.lookups if s == subject})


def _argument(node: FieldNode, name: str, variables: Mapping[str, Any]) -> Any:
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, VariableNode):
                return variables.get(value.name.value)
            if isinstance(value, StringValueNode):
                return value.value
    return None


def disclosed_in(data: Mapping[str, Any] | None, query: str,
                 variables: Mapping[str, Any] | None, operation_name: str | None,
                 personal_ids: Mapping[str, str],
                 relatives: Mapping[str, str | None] | None = None) -> Disclosed:
    """Walk ``data`` beside the operation of ``query`` (aliases, fragments, @include and @skip
    resolved): each object's selected fields under the person it is about. A civil servant is
    known by its employee code (``personal_ids``: employee code -> personal ID) or an unmasked
    personal ID; a person or an agency system's record by an unmasked personal ID, or as the
    civil servant (or person) it was reached from. A declared relative (``FamilyMember``) is
    about the person above it and, with a personal ID, about the relative too: known by an
    unmasked ``personalId``, or by its ``id`` in ``relatives`` (member id -> personal ID or
    None); otherwise its fields count as shown of someone the answer does not name."""
    document = parse(query)
    variables = variables or {}
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(o for o in operations if operation_name is None
                     or (o.name is not None and o.name.value == operation_name))
    found = Disclosed()

    def identify(type_name: str, value: Mapping[str, Any],
                 keys: Mapping[str, list[FieldNode]]) -> str | None:
        for key, nodes in keys.items():
            name, item = nodes[0].name.value, value.get(key)
            if not isinstance(item, str):
                continue
            if type_name == "CivilServant" and name == "employeeCode" and item in personal_ids:
                return personal_ids[item]
            if name == "personalId" and PERSONAL_ID.fullmatch(item):
                return item
        return None

    def relative_of(value: Mapping[str, Any],
                    keys: Mapping[str, list[FieldNode]]) -> str | None:
        by_id = None
        for key, nodes in keys.items():
            name, item = nodes[0].name.value, value.get(key)
            if name == "personalId" and isinstance(item, str) and PERSONAL_ID.fullmatch(item):
                return item
            if name == "id" and isinstance(item, str) and relatives is not None \
                    and item in relatives:
                by_id = relatives[item] or ""
        if by_id is not None:
            return by_id or None
        return _UNKNOWN

    def walk(value: Any, type_: GraphQLOutputType, nodes: list[FieldNode], subject: str | None,
             via: str) -> None:
        if value is None:
            return
        if isinstance(type_, GraphQLNonNull):
            walk(value, type_.of_type, nodes, subject, via)
        elif isinstance(type_, GraphQLList):
            for item in value:
                walk(item, type_.of_type, nodes, subject, via)
        elif isinstance(type_, GraphQLObjectType):
            obj(value, type_, [n.selection_set for n in nodes if n.selection_set], subject, via)

    def obj(value: Mapping[str, Any], type_: GraphQLObjectType,
            selection_sets: list[SelectionSetNode], subject: str | None, via: str) -> None:
        type_name = type_.name
        if type_name.startswith("__"):
            return
        keys = collect(type_name, selection_sets, fragments, variables)
        if type_name in SUBJECT_TYPES:
            own = identify(type_name, value, keys)
            if own is None:
                # The same person as the object it was reached from, or as the personal
                # ID a root field looked up.
                same = via in SAME_PERSON or via.startswith("Query.")
                own = subject if same and subject is not None else _UNKNOWN
            found.identified[type_name if own != _UNKNOWN else f"{type_name}?"] = (
                found.identified.get(type_name if own != _UNKNOWN else f"{type_name}?", 0) + 1)
            subject = own
        related = relative_of(value, keys) if type_name in RELATED_TYPES else None
        for key, key_nodes in keys.items():
            name = key_nodes[0].name.value
            if name.startswith("__"):
                continue
            field_def = type_.fields[name]
            if type_name == "Query":
                looked_up = (_argument(key_nodes[0], SUBJECT_ARGUMENT, variables)
                             if SUBJECT_ARGUMENT in field_def.args else None)
                if isinstance(looked_up, str):
                    found.lookups.add((looked_up, f"Query.{name}"))
                    if value.get(key) is None:
                        found.unfound.add((looked_up, f"Query.{name}"))
                walk(value.get(key), field_def.type, key_nodes,
                     looked_up if isinstance(looked_up, str) else None, f"Query.{name}")
                continue
            named = f"{type_name}.{name}"
            if subject is None:
                found.anonymous.add(named)
            elif subject == _UNKNOWN:
                found.unidentified.add(named)
            else:
                found.pairs.add((subject, named))
            if related == _UNKNOWN:
                found.unidentified.add(named)
            elif related is not None and related != subject:
                found.pairs.add((related, named))
            walk(value.get(key), field_def.type, key_nodes, subject, named)

    query_type = FULL.query_type
    assert query_type is not None
    if data is not None:
        obj(data, query_type, [operation.selection_set], None, "")
    return found


def check_disclosed(entry: Record, shown: Disclosed, *, exact: bool,
                    unfound: bool = True) -> None:
    """Everything the answer shows is in the record, under the right person; with ``exact``,
    the record names no person the answer does not (lookups aside). Without ``unfound``,
    lookups that found nobody are not looked for."""
    lookups = shown.lookups if unfound else shown.lookups - shown.unfound
    for subject, named in sorted(shown.pairs | lookups):
        assert named in entry.fields_of(subject), (
            f"{named} of {subject} is in the answer, not in the record: "
            f"{sorted(entry.fields_of(subject))}")
    missing = shown.anonymous - entry.anonymous_fields
    assert not missing, f"{sorted(missing)} about no person are not in the record"
    unplaced = shown.unidentified - entry.fields
    assert not unplaced, f"{sorted(unplaced)} are in the answer, in no group of the record"
    if exact:
        extra = entry.subjects - shown.subjects
        assert not extra, f"the record names {sorted(extra)}, whom the answer does not show"


def answer_leaves(value: Any) -> Iterator[str]:
    """Every string value of an answer (its leaves)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from answer_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from answer_leaves(item)


def check_no_values(entry: Record, data: Any, *, allowed: set[str]) -> int:
    """No value of the answer is stored in the record, but the personal IDs it is about
    (and ``allowed``: strings the record holds for its own reasons, such as the agency code
    of the client). Returns how many values were checked."""
    stored = entry.strings()
    text = entry.text
    checked = 0
    for value in set(answer_leaves(data)):
        if value in allowed or value in entry.subjects or len(value) < 4:
            continue
        checked += 1
        assert value not in stored, f"the answer's value {value!r} is stored in the record"
        if " " in value or not value.isascii():  # names, addresses: not even inside a string
            assert value not in text, f"the answer's value {value!r} is in the record's text"
    return checked
