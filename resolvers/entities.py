"""Which source entity backs each GraphQL object type, and the columns always fetched for it.

Loaders fetch only the columns a query needs (the adapter contract: fetch many by key, with
the columns asked); these are the columns needed whatever the query asks: the keys loaders
group and order by, and the keys links are resolved with.
"""

from __future__ import annotations

from graphql import GraphQLField

__all__ = ["ALWAYS_FETCHED", "ENTITY_OF_TYPE", "NATIONAL_ENTITIES", "REFERENCE_TYPES",
           "SAME_FACTS", "STRUCTURE_FOR", "column_of"]

ENTITY_OF_TYPE: dict[str, str] = {
    "CivilServant": "employee",
    "Agency": "agency",
    "Person": "citizen",
    "AgencyRecord": "agency_record",
    "Allowance": "allowance",
    "WorkHistoryEntry": "work_history",
    "Qualification": "qualification",
    "Training": "training",
    "Award": "award",
    "Discipline": "discipline",
    "Evaluation": "evaluation",
    "PartyMembership": "party_membership",
    "HealthRecord": "health_record",
    "AssetDeclaration": "asset_declaration",
    "PersonalHistoryEntry": "personal_history",
    "FamilyMember": "family_member",
    "AccessEvent": "access_event",
    # Read back from the write side (resolvers/history.py): not fetched by column, but a
    # policy's masks and row conditions on them apply as on any other type.
    "RecordVersion": "record_version",
    "FieldChange": "field_change",
    "Submission": "submission",
    # Data-quality measures of an agency (resolvers/quality.py): a row scope compares the
    # agency's authority; the series, measures and details inside come with it.
    "DataQuality": "data_quality",
    # Synchronisation's review queue (resolvers/sync_conflicts.py): a conflict's row is
    # national (its row conditions follow `agency`); its sides and differences are shaped
    # from it, masked as their own types.
    "SyncConflict": "sync_conflict",
    "SyncSide": "sync_side",
    "SyncDifference": "sync_difference",
}

ALWAYS_FETCHED: dict[str, tuple[str, ...]] = {
    "employee": ("employee_code", "personal_id", "agency_code"),
    "agency": ("code", "parent_code"),
    "citizen": ("personal_id",),
    "agency_record": ("personal_id",),
    "allowance": ("id", "employee_code", "since"),
    "work_history": ("id", "employee_code", "from_date"),
    "qualification": ("id", "employee_code", "awarded_on"),
    "training": ("id", "employee_code", "from_date"),
    "award": ("id", "employee_code", "decided_on"),
    "discipline": ("id", "employee_code", "decided_on"),
    "evaluation": ("employee_code", "year"),
    "asset_declaration": ("id", "employee_code", "year"),
    "personal_history": ("id", "employee_code", "from_date"),
    # The relative's ID: the audit record names them too (resolvers/disclosures.py).
    "family_member": ("id", "employee_code", "personal_id"),
    "party_membership": ("employee_code",),
    "health_record": ("employee_code",),
}

# Entities held in the national database: row filters on them may follow a link into another
# national table (an SQL sub-select); the HTTP sources can only compare their own fields.
NATIONAL_ENTITIES = frozenset(ENTITY_OF_TYPE.values()) - {"citizen", "agency_record",
                                                          "access_event", "record_version",
                                                          "field_change", "submission"}

# Types that hold no personal data: published code lists, and the structure of a page. A
# client that may reach one through a granted field sees all of it; no grant is needed.
REFERENCE_TYPES = frozenset({"Province", "LegacyProvince", "Rank", "Position", "DisciplineForm",
                             "CivilServantConnection", "CivilServantEdge", "PageInfo",
                             "AccessHistory", "AccessHistoryPageInfo",
                             "RecordHistory", "RecordHistoryPageInfo", "SubmissionPage",
                             "SubmissionPageInfo", "SubmissionReason", "QualitySeries",
                             "QualityMeasure", "QualityDetail", "SyncConflictPage",
                             "SyncConflictPageInfo", "SyncResolutionOutcome",
                             "SyncOutcomeReason"})

# Structural types exist for the sake of another type: without it they are not visible either
# (a connection's totalCount would otherwise count rows of a type the client may not read).
STRUCTURE_FOR: dict[str, str] = {"CivilServantConnection": "CivilServant",
                                 "CivilServantEdge": "CivilServant", "PageInfo": "CivilServant",
                                 "AccessHistory": "AccessEvent",
                                 "AccessHistoryPageInfo": "AccessEvent",
                                 "RecordHistory": "RecordVersion",
                                 "RecordHistoryPageInfo": "RecordVersion",
                                 "SubmissionPage": "Submission",
                                 "SubmissionPageInfo": "Submission",
                                 # also shown with the answer to a mutation (SUBMISSION_TYPES)
                                 "SubmissionReason": "Submission",
                                 "QualitySeries": "DataQuality",
                                 "QualityMeasure": "DataQuality",
                                 "QualityDetail": "DataQuality",
                                 "SyncConflictPage": "SyncConflict",
                                 "SyncConflictPageInfo": "SyncConflict",
                                 "SyncResolutionOutcome": "SyncConflict",
                                 "SyncOutcomeReason": "SyncConflict"}


# Fields that hold the same fact about a person, as different sources keep it: a mask on one
# would be undone by another shown unmasked (the national database's birth date beside the
# population registry's), so the policy compiler requires them masked alike.
SAME_FACTS: tuple[frozenset[tuple[str, str]], ...] = tuple(frozenset(group) for group in (
    {("CivilServant", "personalId"), ("Person", "personalId"), ("AgencyRecord", "personalId")},
    {("CivilServant", "fullName"), ("Person", "fullName"), ("AgencyRecord", "fullName")},
    {("CivilServant", "birthDate"), ("Person", "birthDate"), ("AgencyRecord", "birthDate")},
    {("CivilServant", "sex"), ("Person", "sex"), ("AgencyRecord", "sex")},
    {("CivilServant", "ethnicity"), ("Person", "ethnicity")},
    {("CivilServant", "religion"), ("Person", "religion")},
    {("CivilServant", "agencyCode"), ("AgencyRecord", "agencyCode")},
    {("CivilServant", "unitName"), ("AgencyRecord", "unitName")},
    {("CivilServant", "salaryStep"), ("AgencyRecord", "salaryStep")},
    {("CivilServant", "salaryCoefficient"), ("AgencyRecord", "salaryCoefficient")},
    {("CivilServant", "hiredOn"), ("AgencyRecord", "hiredOn")},
    # A discipline decision, as the national record, an agency system and an appointment
    # check show it (the check's types cannot be masked: a mask here withholds them there).
    {("Discipline", "decisionNumber"), ("AgencyDiscipline", "decisionNumber"),
     ("AppointmentDecision", "decisionNumber"), ("AppointmentBar", "decisionNumber"),
     ("DisciplineDisagreement", "decisionNumber")},
    {("Discipline", "decidedOn"), ("AgencyDiscipline", "decidedOn"),
     ("AppointmentDecision", "decidedOn")},
    {("Discipline", "issuer"), ("AgencyDiscipline", "issuer"), ("AppointmentDecision", "issuer")},
    {("Discipline", "reason"), ("AgencyDiscipline", "reason"), ("AppointmentDecision", "reason")},
    {("Discipline", "effectiveFrom"), ("AgencyDiscipline", "effectiveFrom"),
     ("AppointmentDecision", "effectiveFrom")},
    {("Discipline", "effectiveTo"), ("AgencyDiscipline", "effectiveTo"),
     ("AppointmentDecision", "effectiveTo")},
    {("AgencyRecord", "pendingDiscipline"), ("PendingDisciplineCase", "description")},
    {("Evaluation", "year"), ("AppointmentEvaluation", "year")},
    {("Evaluation", "grade"), ("AppointmentEvaluation", "grade")},
))

def column_of(field: GraphQLField, name: str) -> str:
    """The row key (source column) behind a GraphQL field: its python name. Objects are dicts
    keyed so, and the GraphQL name is its camel-cased form."""
    definition = field.extensions.get("strawberry-definition")
    return definition.python_name if definition is not None else name
