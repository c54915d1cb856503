"""Field groups: what a person's access history tells them was read about them.

The audit log names the exact fields (``CivilServant.salaryCoefficient``); a citizen reading
their history sees the group (``salary``), as the national database's decree groups a record
(Decree 27/2026/ND-CP: identity, family, history, recruitment and appointments, education and
training, job/salary/evaluation/awards/discipline, organisation membership, assets, health),
with the sensitive kinds of the personal data law kept apart so they show by themselves.

Every field of every object type has an entry (a test holds the schema to it): a group, or
None for a field that says nothing about the person it is noted against (the structure of a
page, code lists and directory listings read at the root). A field the log names that this
table does not know (from an older schema) shows as ``other``, never as nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["FIELD_GROUPS", "GROUPS", "groups_of"]

# In the order a citizen reads them.
GROUPS = ("identity", "ethnicity-religion", "contact", "family", "personal-history",
          "employment", "salary",
          "education", "training", "evaluation", "awards", "discipline", "party", "health",
          "assets", "record-keeping", "access-history", "other")

_VERSIONED = ("version", "updatedAt", "updatedBy")


def _table() -> dict[str, str | None]:
    table: dict[str, str | None] = {}

    def add(type_name: str, group: str | None, fields: Iterable[str]) -> None:
        for name in fields:
            table[f"{type_name}.{name}"] = group

    # The person, as the national database holds them.
    add("CivilServant", "identity", ("employeeCode", "personalId", "familyName", "middleName",
                                     "givenName", "fullName", "birthDate", "sex"))
    add("CivilServant", "ethnicity-religion", ("ethnicity", "religion"))
    add("CivilServant", "employment", ("category", "status", "agencyCode", "unitName",
                                       "position", "hiredOn", "agency", "workHistory"))
    add("CivilServant", "salary", ("rank", "salaryStep", "salaryCoefficient", "allowances"))
    add("CivilServant", "education", ("qualifications",))
    add("CivilServant", "training", ("trainings",))
    add("CivilServant", "awards", ("awards",))
    add("CivilServant", "discipline", ("disciplines",))
    add("CivilServant", "evaluation", ("evaluations",))
    add("CivilServant", "party", ("partyMembership",))
    add("CivilServant", "health", ("health",))
    add("CivilServant", "assets", ("assetDeclarations",))
    add("CivilServant", "family", ("familyMembers",))
    add("CivilServant", "personal-history", ("personalHistory",))
    add("CivilServant", "record-keeping", _VERSIONED)
    add("CivilServant", "access-history", ("accessHistory",))
    # Links to the same person's other records: their own fields are noted as read.
    add("CivilServant", None, ("person", "agencyRecord"))

    # The person, as the population registry holds them.
    add("Person", "identity", ("personalId", "fullName", "birthDate", "sex", "nationality",
                               "placeOfOrigin", "deathDate", "alive"))
    add("Person", "ethnicity-religion", ("ethnicity", "religion"))
    add("Person", "contact", ("permanentAddress", "currentAddress"))
    add("Person", "family", ("father", "mother", "spouse"))
    add("Person", "record-keeping", ("updatedAt",))
    add("Person", None, ("civilServant",))

    # The person, as their agency's own HR system holds them.
    add("AgencyRecord", "identity", ("localId", "personalId", "fullName", "birthDate", "sex"))
    add("AgencyRecord", "employment", ("agencyCode", "unitName", "positionCode"))
    add("AgencyRecord", "salary", ("rankCode", "salaryStep", "salaryCoefficient"))
    add("AgencyRecord", "discipline", ("pendingDiscipline", "disciplines"))
    add("AgencyRecord", "employment", ("hiredOn",))
    add("AgencyDiscipline", "discipline", ("decisionNumber", "decidedOn", "formCode", "issuer",
                                           "reason", "effectiveFrom", "effectiveTo"))
    add("AgencyRecord", "contact", ("address",))
    add("AgencyRecord", "record-keeping", ("system", "updatedAt"))

    # Records of the person's career: each whole type is one group.
    for type_name, group, fields in (
            ("Allowance", "salary", ("kind", "coefficient", "percent", "since")),
            ("WorkHistoryEntry", "employment", ("fromDate", "toDate", "agencyCode",
                                                "agencyName", "positionCode", "description")),
            ("Qualification", "education", ("kind", "level", "field", "institution",
                                            "awardedOn")),
            ("Training", "training", ("course", "institution", "fromDate", "toDate",
                                      "certificate")),
            ("Award", "awards", ("form", "decisionNumber", "decidedOn", "issuer")),
            ("Discipline", "discipline", ("form", "decisionNumber", "decidedOn", "issuer",
                                          "reason", "effectiveFrom", "effectiveTo",
                                          "inEffect")),
            ("Evaluation", "evaluation", ("year", "grade")),
            ("PartyMembership", "party", ("joinedOn", "officialOn", "branch", "cardNumber")),
            ("HealthRecord", "health", ("status", "heightCm", "weightKg", "bloodType",
                                        "checkedOn")),
            ("AssetDeclaration", "assets", ("year", "declaredOn", "landPlots", "houses",
                                            "totalAssetsVnd", "annualIncomeVnd")),
            ("PersonalHistoryEntry", "personal-history", ("id", "fromDate", "toDate",
                                                          "activity", "place")),
            ("FamilyMember", "family", ("id", "relation", "fullName", "birthYear", "occupation",
                                        "workplaceOrAddress", "personalId", "deceased",
                                        "deathYear"))):
        add(type_name, group, (*fields, *_VERSIONED))

    # Reached from a person, these tell about them: where they work, their rank's ladder,
    # the form of their discipline.
    add("Agency", "employment", ("code", "name", "kind", "parentCode", "provinceCode",
                                 "authority", "headcountQuota", "province", "parent",
                                 "children", "headcount", "employees"))
    add("Province", "employment", ("code", "name", "validFrom"))
    add("Position", "employment", ("code", "name", "leadership", "allowanceCoefficient"))
    add("Rank", "salary", ("code", "name", "category", "payGroup", "ladder"))
    add("DisciplineForm", "discipline", ("code", "name", "severity", "appointmentBarMonths"))

    # Who read the person's data: reading it is itself recorded.
    add("AccessHistory", "access-history", ("events",))
    add("AccessEvent", "access-history", ("at", "agencyCode", "agency", "system", "endUser",
                                          "purpose", "operationName", "fieldGroups", "fields",
                                          "outcome", "requestId"))

    # An appointment check (resolvers/types/appointment.py): discipline and evaluations
    # from every source; which sources answered is the check's own record-keeping.
    add("Query", "discipline", ("appointmentCheck",))
    add("CivilServant", "discipline", ("appointmentCheck",))
    add("AppointmentCheck", "discipline", ("asOf", "verdict", "complete", "incompleteReasons",
                                           "disciplines", "pendingCases", "bars",
                                           "disagreements"))
    add("AppointmentCheck", "evaluation", ("evaluations",))
    add("AppointmentCheck", "record-keeping", ("sources",))
    add("AppointmentCheck", None, ("civilServant",))
    add("AppointmentDecision", "discipline", ("source", "decisionNumber", "form", "decidedOn",
                                              "issuer", "reason", "effectiveFrom",
                                              "effectiveTo", "inEffect", "barsAppointment",
                                              "barredUntil"))
    add("AppointmentBar", "discipline", ("source", "decisionNumber", "form", "kind", "until"))
    add("PendingDisciplineCase", "discipline", ("system", "description"))
    add("AppointmentEvaluation", "evaluation", ("year", "grade"))
    add("DisciplineDisagreement", "discipline", ("kind", "system", "decisionNumber", "fields"))
    add("CheckedSource", "record-keeping", ("name", "kind", "answered", "holdsRecord",
                                            "required", "servesAgency", "error"))

    # Root lookups are noted against the person looked up; listings name no one.
    add("Query", "identity", ("civilServant", "civilServantByPersonalId", "person"))
    add("Query", "access-history", ("accessHistory",))
    add("Query", None, ("civilServants", "agency", "agencies", "provinces", "legacyProvinces",
                        "ranks"))
    add("LegacyProvince", None, ("code", "name", "validTo", "successorCode", "mergedOn"))
    add("CivilServantConnection", None, ("edges", "nodes", "pageInfo", "totalCount"))
    add("CivilServantEdge", None, ("cursor", "node"))
    add("PageInfo", None, ("hasNextPage", "endCursor"))
    add("AccessHistory", None, ("pageInfo",))
    add("AccessHistoryPageInfo", None, ("hasNextPage", "endCursor"))
    # Submitting a change discloses nothing of the person beyond what the submitter sent.
    add("Mutation", None, ("submitBatch", "changePosition", "recordDisciplineDecision",
                           "endDiscipline", "recordEvaluation", "recordTraining",
                           "recordQualification", "recordAward", "registerEmployee",
                           "declareAssets", "declarePersonalHistory", "declareFamilyMember",
                           "releaseForTransfer", "receiveTransfer"))
    add("SubmissionResult", None, ("id", "status", "reasons", "version", "currentVersion",
                                   "record", "repeated", "receivedAt"))
    add("SubmissionReason", None, ("code", "path", "message"))
    # --- record history and the submissions inbox (resolvers/history.py) ---
    # A file's versions are part of its record-keeping: what changed, when, by whom.
    add("CivilServant", "record-keeping", ("history",))
    add("RecordHistory", "record-keeping", ("versions",))
    add("RecordVersion", "record-keeping", ("version", "entity", "recordKey", "appliedAt",
                                            "submittedBy", "agencyCode", "sourceSystem",
                                            "signerKeys", "submissionId", "changedFields",
                                            "changes"))
    add("FieldChange", "record-keeping", ("field", "before", "after", "masked"))
    add("RecordHistory", None, ("pageInfo",))
    add("RecordHistoryPageInfo", None, ("hasNextPage", "endCursor"))
    # The caller's own inbox: what it submitted, noted against no one.
    add("Query", None, ("submissions",))
    add("SubmissionPage", None, ("submissions", "pageInfo"))
    add("SubmissionPageInfo", None, ("hasNextPage", "endCursor"))
    add("Submission", None, ("id", "kind", "status", "reasons", "employeeCode", "agencyCode",
                             "idempotencyKey", "batchId", "receivedAt", "decidedAt",
                             "version", "currentVersion", "record", "resubmissionOf",
                             "resubmittedBy"))
    # --- end record history and inbox ---
    # Synchronisation's review queue (resolvers/sync_conflicts.py): a conflict shows the
    # person's file as the national database and their agency's system hold it.
    add("Query", None, ("syncConflicts",))
    add("Mutation", None, ("resolveSyncConflict",))
    add("SyncConflictPage", None, ("conflicts", "pageInfo"))
    add("SyncConflictPageInfo", None, ("hasNextPage", "endCursor"))
    add("SyncConflict", "record-keeping", ("id", "system", "kind", "status", "detectedAt",
                                           "resolvedAt", "resolvedBy", "resolutionNote",
                                           "resolutionOutcome", "canTakeAgency"))
    add("SyncConflict", "identity", ("employeeCode", "personalId"))
    add("SyncConflict", "employment", ("agencyCode", "agency"))
    # Which fields differ, with both values: any group, read as the record's keeping.
    add("SyncConflict", "record-keeping", ("differences",))
    add("SyncConflict", None, ("national", "agencyRecord"))
    add("SyncDifference", "record-keeping", ("field", "national", "agency"))
    add("SyncSide", "identity", ("employeeCode", "localId", "personalId", "fullName",
                                 "birthDate", "sex"))
    add("SyncSide", "employment", ("agencyCode", "unitName", "positionCode", "hiredOn"))
    add("SyncSide", "salary", ("rankCode", "salaryStep", "salaryCoefficient"))
    add("SyncSide", "record-keeping", ("version", "updatedAt"))
    add("SyncResolutionOutcome", None, ("status", "reasons"))
    add("SyncOutcomeReason", None, ("code", "path", "message"))
    # Data-quality measures (resolvers/quality.py) describe an agency's data, not a person.
    add("Query", None, ("dataQuality",))
    add("DataQuality", None, ("agencyCode", "agencyName", "authority", "scope", "from", "to",
                              "truncated", "latest", "series"))
    add("QualitySeries", None, ("dimension", "source", "measures"))
    add("QualityMeasure", None, ("measuredAt", "runId", "dimension", "source", "status",
                                 "numerator", "denominator", "score", "reason", "details"))
    add("QualityDetail", None, ("item", "passed", "checked", "value", "note", "examples"))
    return table


# "Type.field" -> its group (None: nothing about a person).
FIELD_GROUPS: Mapping[str, str | None] = _table()
_RANK = {group: index for index, group in enumerate(GROUPS)}

# The audit log notes fields per person, not the path to them. An agency (and its province)
# tells where the person works only when reached from their record; reached from one of
# their access events it is the reader's agency, which the access-history group covers.
_ONLY_THROUGH = {"Agency": "CivilServant.agency", "Province": "CivilServant.agency"}


def groups_of(fields: Iterable[str]) -> list[str]:
    """The groups of these fields (one operation's, about one person), each once, in
    reading order."""
    names = set(fields)
    found: set[str] = set()
    for name in names:
        through = _ONLY_THROUGH.get(name.partition(".")[0])
        if through is not None and through not in names:
            continue
        group = FIELD_GROUPS.get(name, "other")
        if group is not None:
            found.add(group)
    return sorted(found, key=_RANK.__getitem__)
