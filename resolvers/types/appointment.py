"""The appointment check: may this person be appointed on this day, as far as discipline goes?

``appointmentCheck(personalId, asOf)`` (a root lookup) and ``CivilServant.appointmentCheck``
(for civil servants already in hand, e.g. found by employee code) answer the same check: every
discipline decision the national database and the agency HR systems hold about the person,
each labelled with its source; pending cases; recent evaluations; what bars the appointment
and until when; where the sources disagree; and which sources answered. The verdict is CLEAR
only when every source that may hold a decision about the person was read.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from adapters import SourceError
from resolvers.appointment.check import run_check
from resolvers.errors import BadUserInput, NotFound
from resolvers.info import Info, Row
from resolvers.links import Link, link
from resolvers.types.code_lists import DisciplineForm
from resolvers.types.enums import EvaluationGrade

if TYPE_CHECKING:
    from resolvers.types.civil_servant import CivilServant

__all__ = ["AppointmentBar", "AppointmentBarKind", "AppointmentCheck", "AppointmentDecision",
           "AppointmentEvaluation", "AppointmentVerdict", "CheckedSource", "CheckedSourceKind",
           "DisciplineDisagreement", "DisciplineDisagreementKind", "PendingDisciplineCase",
           "check_by_personal_id", "civil_servant_appointment_check"]

CivilServantRef = Annotated["CivilServant", strawberry.lazy("resolvers.types.civil_servant")]

# The days a check may be asked for: the national database's records start long after the
# first, and nothing is planned beyond the last.
FIRST_DAY = date(1950, 1, 1)
LAST_DAY = date(2100, 12, 31)


@strawberry.enum(description="CLEAR: every source that may hold a decision about the person "
                             "was read and nothing bars the appointment; BARRED: a decision "
                             "bars it (whatever a missing source holds); PENDING_CASE: "
                             "nothing bars it but an agency is handling a discipline case; "
                             "INCOMPLETE: nothing read bars it, but a source that may hold a "
                             "decision could not be read (never CLEAR then).")
class AppointmentVerdict(Enum):
    CLEAR = "clear"
    BARRED = "barred"
    PENDING_CASE = "pending_case"
    INCOMPLETE = "incomplete"


@strawberry.enum(description="Why a decision bars the appointment on the day checked.")
class AppointmentBarKind(Enum):
    IN_EFFECT = "in_effect"
    BAR_PERIOD = strawberry.enum_value(
        "bar_period", description="Taken, not in effect that day, but within the months its "
                                  "form bars appointment for.")
    NOT_IN_SERVICE = strawberry.enum_value(
        "not_in_service", description="A form that ends the service: barred with no end.")


@strawberry.enum
class DisciplineDisagreementKind(Enum):
    MISSING_NATIONALLY = strawberry.enum_value(
        "missing_nationally", description="The agency system holds a decision the national "
                                          "database does not.")
    MISSING_IN_AGENCY_SYSTEM = strawberry.enum_value(
        "missing_in_agency_system", description="The national database holds a decision the "
                                                "agency system holding the person does not.")
    CONFLICTING = strawberry.enum_value(
        "conflicting", description="The same decision number with another form, dates or "
                                   "issuer.")


@strawberry.enum
class CheckedSourceKind(Enum):
    NATIONAL_DATABASE = "national_database"
    AGENCY_SYSTEM = "agency_system"


@strawberry.type(description="A discipline decision as one source holds it.")
class AppointmentDecision:
    source: str = strawberry.field(
        description="`national` (the national database) or the agency system's name.")
    decision_number: str | None
    form: DisciplineForm | None = strawberry.field(
        description="As a national code; a code the hub cannot translate as the source "
                    "holds it, without a name.")
    decided_on: date | None
    issuer: str | None
    reason: str | None
    effective_from: date | None
    effective_to: date | None
    in_effect: bool | None = strawberry.field(
        description="In effect on the day checked; null when the decision cannot be read.")
    bars_appointment: bool | None = strawberry.field(
        description="Bars the appointment on the day checked; null when the decision cannot "
                    "be read (the check is then incomplete).")
    barred_until: date | None = strawberry.field(
        description="The last day it bars appointment: the later of its end and the months "
                    "its form bars for, from the day it took effect. Null with "
                    "barsAppointment: no end.")


@strawberry.type(description="A decision that bars the appointment on the day checked.")
class AppointmentBar:
    source: str
    decision_number: str | None
    form: DisciplineForm | None
    kind: AppointmentBarKind
    until: date | None = strawberry.field(description="The last day barred; null: no end.")


@strawberry.type(description="A discipline case an agency is handling, not yet decided.")
class PendingDisciplineCase:
    system: str
    description: str


@strawberry.type(description="A yearly evaluation from the national database.")
class AppointmentEvaluation:
    year: int
    grade: EvaluationGrade


@strawberry.type(description="Where an agency system and the national database disagree "
                             "about the person's discipline decisions.")
class DisciplineDisagreement:
    kind: DisciplineDisagreementKind
    system: str = strawberry.field(description="The agency system compared.")
    decision_number: str | None
    fields: list[str] = strawberry.field(
        description="CONFLICTING: which facts differ (form, decidedOn, effectiveFrom, "
                    "effectiveTo, issuer).")


@strawberry.type(description="A source the check consulted.")
class CheckedSource:
    name: str
    kind: CheckedSourceKind
    answered: bool
    holds_record: bool | None = strawberry.field(
        description="Whether it holds a record of the person; null when it did not answer.")
    required: bool = strawberry.field(
        description="Whether the check needs its answer to be complete: the national "
                    "database, and the systems serving the agencies the person works or "
                    "worked at (every system when the national database does not know them).")
    serves_agency: bool = strawberry.field(
        description="Whether it serves the agency the person works at now.")
    error: str | None = strawberry.field(
        description="Why it could not be read (SOURCE_UNAVAILABLE, SOURCE_TIMEOUT).")


_civil_servant = link("AppointmentCheck", "civilServant", Link(
    key_columns=("personal_id",), loader=attrgetter("employee_by_personal_id"),
    shows=("personalId",)))


@strawberry.type(description="Whether discipline bars appointing the person on a day, across "
                             "the national database and the agency HR systems.")
class AppointmentCheck:
    as_of: date = strawberry.field(description="The day checked.")
    verdict: AppointmentVerdict
    complete: bool = strawberry.field(
        description="Every source that may hold a decision about the person was read.")
    incomplete_reasons: list[str] = strawberry.field(
        description="What kept the check from being complete.")
    civil_servant: CivilServantRef | None = strawberry.field(
        resolver=_civil_servant,
        description="The person in the national database (null when it does not hold them, "
                    "or they are outside the rows the client may read).")
    disciplines: list[AppointmentDecision] = strawberry.field(
        description="Every decision of every source, national first.")
    pending_cases: list[PendingDisciplineCase]
    evaluations: list[AppointmentEvaluation] = strawberry.field(
        description="The national database's evaluations of the three years before the day "
                    "checked (and of its year, once made).")
    bars: list[AppointmentBar]
    disagreements: list[DisciplineDisagreement]
    sources: list[CheckedSource]


def checked_day(as_of: date | None, today: date) -> date:
    day = today if as_of is None else as_of
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadUserInput(f"`asOf` must be a day from {FIRST_DAY.isoformat()} to "
                           f"{LAST_DAY.isoformat()}", argument="asOf")
    return day


async def check_by_personal_id(info: Info, personal_id: str,
                               as_of: date | None) -> AppointmentCheck:
    """The root lookup. A client held to some civil servants checks only them (anyone else is
    not found, as if absent); an unrestricted one also people only agency systems know."""
    context = info.context
    day = checked_day(as_of, context.today)
    reads = context.loaders.appointments
    try:
        person: Row | None = await reads.person.load(personal_id)
        national_error = None
    except SourceError as error:
        if reads.scoped:  # whom it may check cannot be told without the national database
            raise
        person, national_error = None, error
    if person is None and national_error is None and reads.scoped:
        raise NotFound("no civil servant with this personal ID")
    row = await run_check(reads, context.code_lists, personal_id, day, person, national_error)
    if row is None:
        raise NotFound("no civil servant or agency record with this personal ID")
    return cast("AppointmentCheck", row)


async def civil_servant_appointment_check(
        root: strawberry.Parent[Row], info: Info,
        as_of: Annotated[date | None, strawberry.argument(
            description="The day of the appointment; today when not given.")] = None
        ) -> AppointmentCheck:
    """The same check for a civil servant in hand, batched across the list they are in.
    Keyed by the real personal ID and agency (always fetched), never masked values."""
    context = info.context
    person = {"employee_code": root["employee_code"], "personal_id": root["personal_id"],
              "agency_code": root["agency_code"]}
    row = await run_check(context.loaders.appointments, context.code_lists,
                          root["personal_id"], checked_day(as_of, context.today), person, None)
    if row is None:  # the national database holds them: never the case
        raise NotFound("no civil servant with this personal ID")
    return cast("AppointmentCheck", row)
