"""Disclosures: notes per built object grouped into the audit record's shape."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resolvers.disclosures import Disclosures, disclosed_fields, subject_of

FIELDS = st.frozensets(st.sampled_from(["CivilServant.fullName", "CivilServant.birthDate",
                                        "Agency.name", "Person.fullName", "Rank.code"]),
                       min_size=1)
SUBJECTS = st.none() | st.sampled_from(["001000000001", "001000000002", "079000000003"])


def test_subjects_with_the_same_fields_share_a_group() -> None:
    disclosures = Disclosures()
    disclosures.note("001000000002", frozenset({"CivilServant.fullName"}))
    disclosures.note("001000000001", frozenset({"CivilServant.fullName"}))
    disclosures.note("001000000001", frozenset({"Agency.name"}))
    disclosures.note("001000000003", frozenset({"CivilServant.fullName", "Agency.name"}))
    disclosures.note(None, frozenset({"PageInfo.hasNextPage"}))
    assert disclosures.groups() == [
        (("Agency.name", "CivilServant.fullName"), ["001000000001", "001000000003"]),
        (("CivilServant.fullName",), ["001000000002"]),
        (("PageInfo.hasNextPage",), []),
    ]


def test_a_lookup_is_noted_against_the_id() -> None:
    disclosures = Disclosures()
    disclosures.looked_up("001000000009", "Query.person")
    assert disclosures.by_subject() == {"001000000009": {"Query.person"}}


def test_typename_is_not_a_disclosure_and_subjects_come_from_real_ids() -> None:
    assert disclosed_fields("Agency", ["name", "__typename"]) == frozenset({"Agency.name"})
    row = {"personal_id": "001000000001", "personal_id@last4": "********0001"}
    assert subject_of("CivilServant", row) == "001000000001"
    assert subject_of("Agency", {"personal_id": "001000000001"}) is None
    assert subject_of("Person", {"personal_id": None}) is None
    assert subject_of("Person", "not a row") is None


@given(st.lists(st.tuples(SUBJECTS, FIELDS), max_size=30))
def test_groups_hold_exactly_what_was_noted(notes: list[tuple[str | None,
                                                              frozenset[str]]]) -> None:
    disclosures = Disclosures()
    expected: dict[str | None, set[str]] = {}
    for subject, fields in notes:
        disclosures.note(subject, fields)
        expected.setdefault(subject, set()).update(fields)
    rebuilt: dict[str | None, set[str]] = {}
    seen_subjects: list[str] = []
    for names, subjects in disclosures.groups():
        assert list(names) == sorted(names)
        assert subjects == sorted(subjects)
        owners: list[str | None] = list(subjects) or [None]
        for owner in owners:
            assert owner not in rebuilt, "a subject appears in one group only"
            rebuilt[owner] = set(names)
        seen_subjects.extend(subjects)
    assert rebuilt == expected
    assert len(seen_subjects) == len(set(seen_subjects))
