"""Which fields of which people an operation's answer holds: the audit log's raw material.

Execution notes every object it builds — its GraphQL type's selected fields, and the person
the object is about — so the record is exact per object (aliases, fragments, @include and
@skip are resolved by then) at the cost of one list append per object, never per field.

An object's subject is its own personal ID for the types that describe a person (a civil
servant, a person in the population registry, an agency system's record); any other object
belongs to the nearest such object above it (a discipline decision, an agency or a rank
reached from a civil servant tells something about that civil servant). A root field looked
up by personal ID (``person(personalId: ...)``) is noted against that ID even when the
answer is null: the lookup itself is an access to that person.

A declared relative (``FamilyMember``) is about two people: the employee who declared them,
and, when the declaration names their personal ID, the relative too, whose own access
history must show that their name and ID were read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import GraphQLObjectType
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["RELATED_SUBJECT_COLUMNS", "SUBJECT_ARGUMENT", "SUBJECT_COLUMNS",
           "AuditingExecutionContext", "DisclosedGroups",
           "Disclosures", "disclosed_fields", "subject_of"]

# GraphQL types describing one person, and the row key holding that person's real (unmasked)
# personal ID: loaders always fetch it (resolvers/entities.py ALWAYS_FETCHED).
SUBJECT_COLUMNS: dict[str, str] = {
    "CivilServant": "personal_id",
    "Person": "personal_id",
    "AgencyRecord": "personal_id",
    "SyncConflict": "personal_id",
}
# Types whose objects are about the person above them AND, when this column holds a
# personal ID, about that person too (loaders always fetch it).
RELATED_SUBJECT_COLUMNS: dict[str, str] = {
    "FamilyMember": "personal_id",
    # a duplicate's national side is the person registered under another ID
    "SyncSide": "personal_id",
}
# A root field with this argument looks a person up.
SUBJECT_ARGUMENT = "personalId"

# (fields, subjects): one group per distinct set of fields, subjects sorted; a group without
# subjects holds fields about no person.
DisclosedGroups = list[tuple[tuple[str, ...], list[str]]]


class Disclosures:
    """What one operation disclosed, noted as execution builds each object."""

    __slots__ = ("_notes",)

    def __init__(self) -> None:
        self._notes: list[tuple[str | None, frozenset[str]]] = []

    def note(self, subject: str | None, fields: frozenset[str]) -> None:
        self._notes.append((subject, fields))

    def looked_up(self, personal_id: str, field: str) -> None:
        self._notes.append((personal_id, frozenset((field,))))

    def by_subject(self) -> dict[str | None, set[str]]:
        found: dict[str | None, set[str]] = {}
        for subject, fields in self._notes:
            known = found.get(subject)
            if known is None:
                found[subject] = set(fields)
            else:
                known.update(fields)
        return found

    def groups(self) -> DisclosedGroups:
        """Subjects grouped by the exact set of fields disclosed of each."""
        grouped: dict[frozenset[str], list[str]] = {}
        anonymous: set[str] = set()
        for subject, fields in self.by_subject().items():
            if subject is None:
                anonymous = fields
            else:
                grouped.setdefault(frozenset(fields), []).append(subject)
        result = [(tuple(sorted(fields)), sorted(subjects))
                  for fields, subjects in grouped.items()]
        if anonymous:
            result.append((tuple(sorted(anonymous)), []))
        result.sort()
        return result


def disclosed_fields(type_name: str, field_names: Iterable[str]) -> frozenset[str]:
    return frozenset(f"{type_name}.{name}" for name in field_names if name != "__typename")


def _subject_value(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def related_subject_of(type_name: str, obj: Any) -> str | None:
    """The second person an object of ``type_name`` is about (RELATED_SUBJECT_COLUMNS), or
    None."""
    column = RELATED_SUBJECT_COLUMNS.get(type_name)
    if column is None or not isinstance(obj, dict):
        return None
    return _subject_value(obj.get(column))


def subject_of(type_name: str, obj: Any) -> str | None:
    """The personal ID an object of ``type_name`` is about, when the type describes a
    person (None otherwise, and for a person without a known ID)."""
    column = SUBJECT_COLUMNS.get(type_name)
    if column is None or not isinstance(obj, dict):
        return None
    return _subject_value(obj.get(column))


class AuditingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, noting each completed object in the request's disclosures.
    The plan executor (resolvers/plan) builds most objects itself and notes them there; this
    covers whatever graphql-core completes (and every object when plans are turned off)."""

    def _disclosures(self) -> Disclosures | None:
        found = getattr(self.context_value, "disclosures", None)
        return found if isinstance(found, Disclosures) else None

    def root_subject(self, field_details_list: Any, path: Path) -> str | None:
        """The personal ID a root field looked up (noted before it ran, see
        ``execute_field``), which everything below belongs to until an object names its
        own."""
        found = self._subject_paths().get(id(path))
        return found[1] if found is not None and found[0] is path else None

    def execute_field(self, parent_type: GraphQLObjectType, source: Any,
                      field_details_list: Any, path: Path, position_context: Any) -> Any:
        # Before the resolver runs: a lookup that finds nobody (or nobody the caller may
        # see) raises, and graphql-core then completes nothing, yet it was an access.
        if path.prev is None:
            self._note_lookup(field_details_list, path)
        return super().execute_field(parent_type, source, field_details_list, path,
                                     position_context)

    def _note_lookup(self, field_details_list: Any, path: Path) -> None:
        disclosures = self._disclosures()
        root_type = self.schema.get_root_type(self.operation.operation)
        if disclosures is None or root_type is None:
            return
        node = field_details_list[0].node
        field_def = root_type.fields.get(node.name.value)
        if field_def is None or SUBJECT_ARGUMENT not in field_def.args:
            return
        try:
            arguments = get_argument_values(field_def, node, self.variable_values)
        except Exception:  # a bad argument fails the field itself; nothing was looked up
            return
        subject = _subject_value(arguments.get(SUBJECT_ARGUMENT))
        if subject is not None:
            disclosures.looked_up(subject, f"{root_type.name}.{node.name.value}")
            self._subject_paths()[id(path)] = (path, subject)

    def _subject_paths(self) -> dict[int, tuple[Path, str | None]]:
        # The subject of each object graphql-core completed, by its path (the path objects
        # are kept alive beside their ids).
        paths: dict[int, tuple[Path, str | None]] | None = getattr(self, "_hub_subjects", None)
        if paths is None:
            paths = {}
            self._hub_subjects = paths
        return paths

    def _inherited_subject(self, path: Path | None) -> str | None:
        paths = self._subject_paths()
        while path is not None:
            found = paths.get(id(path))
            if found is not None and found[0] is path:
                return found[1]
            path = path.prev
        return None

    def collect_and_execute_subfields(self, return_type: GraphQLObjectType,
                                      field_details_list: Any, path: Path, result: Any,
                                      position_context: Any) -> Any:
        disclosures = self._disclosures()
        if disclosures is not None and not return_type.name.startswith("__"):
            grouped = self.collect_subfields(return_type, field_details_list)[0]
            fields = disclosed_fields(return_type.name,
                                      (details[0].node.name.value
                                       for details in grouped.values()))
            subject = self._inherited_subject(path)
            if return_type.name in SUBJECT_COLUMNS:
                subject = subject_of(return_type.name, result) or subject
                self._subject_paths()[id(path)] = (path, subject)
            disclosures.note(subject, fields)
            related = related_subject_of(return_type.name, result)
            if related is not None and related != subject:
                disclosures.note(related, fields)
        return super().collect_and_execute_subfields(return_type, field_details_list, path,
                                                     result, position_context)
