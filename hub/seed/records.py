"""The national database's rows for a chunk of employees: the employee table and every record
table (about ten record rows per employee in all)."""

from __future__ import annotations

from typing import Final

from hub.seed import binary, career, declarations, education, form2c
from hub.seed.context import Context
from hub.seed.employees import Employee
from hub.seed.plan import chunk_random
from hub.seed.tables import (
    ALLOWANCE,
    ASSET_DECLARATION,
    AWARD,
    DISCIPLINE,
    EMPLOYEE,
    EVALUATION,
    HEALTH_RECORD,
    PARTY_MEMBERSHIP,
    PERSONAL_HISTORY,
    QUALIFICATION,
    TRAINING,
    WORK_HISTORY,
    Table,
)

__all__ = ["national_rows"]

_EMPLOYEE_FIELDS: Final = binary.field_count(len(EMPLOYEE.columns))


def national_rows(context: Context, chunk: int, employees: list[Employee]
                  ) -> dict[Table, list[bytes]]:
    rng = chunk_random(context.plan.seed, chunk, "records")
    # Its own generator: the other record tables are the same with or without it.
    history_rng = chunk_random(context.plan.seed, chunk, "personal-history")
    rows: dict[Table, list[bytes]] = {t: [] for t in (
        EMPLOYEE, ALLOWANCE, WORK_HISTORY, QUALIFICATION, TRAINING, AWARD, DISCIPLINE,
        EVALUATION, PARTY_MEMBERSHIP, HEALTH_RECORD, ASSET_DECLARATION, PERSONAL_HISTORY)}
    employee_rows, allowance_rows = rows[EMPLOYEE], rows[ALLOWANCE]
    history_rows, qualification_rows = rows[WORK_HISTORY], rows[QUALIFICATION]
    training_rows, award_rows, discipline_rows = rows[TRAINING], rows[AWARD], rows[DISCIPLINE]
    evaluation_rows, party_rows = rows[EVALUATION], rows[PARTY_MEMBERSHIP]
    health_rows, asset_rows = rows[HEALTH_RECORD], rows[ASSET_DECLARATION]
    personal_rows = rows[PERSONAL_HISTORY]
    text = context.text
    for e in employees:
        code = binary.text(e.code)
        employee_rows.append(b"".join((
            _EMPLOYEE_FIELDS, code, e.pid_field, text[e.family], text[e.middle],
            text[e.given], binary.date(e.birth), text[e.sex], text[e.ethnicity],
            text[e.religion], text[e.category], text[e.status], e.agency.code_field,
            text[e.unit], text[e.position], text[e.rank.code], binary.int2(e.step),
            context.coefficient_field(e.rank.coefficients[e.step - 1]), binary.date(e.hired),
            binary.timestamp(e.updated_at))))
        career.work_history(context, rng, e, code, history_rows)
        career.allowances(context, rng, e, code, allowance_rows)
        excellent_years = career.awards(context, rng, e, code, award_rows)
        career.discipline(context, rng, e, code, discipline_rows)
        career.evaluations(context, rng, e, code, excellent_years, evaluation_rows)
        member = declarations.party_membership(context, rng, e, code, party_rows)
        education.qualifications(context, rng, e, code, member, qualification_rows)
        education.training(context, rng, e, code, training_rows)
        declarations.health_record(context, rng, e, code, health_rows)
        declarations.asset_declarations(context, rng, e, code, asset_rows)
        form2c.personal_history(context, history_rng, e, code, personal_rows)
    return rows
