"""Data-quality measures per agency and source, after the DAMA dimensions, kept over time.

``measure_quality`` (``hub quality measure``) measures every agency asked for in each source
and stores one run (migration 0015); ``dataQuality`` (GraphQL) and ``hub quality report``
read the series back. Each measure is numerator / denominator = score in [0, 1], with details
per field or rule (passed of checked, and at most five employee codes of failing values: no
other personal data). Sources: ``national`` (the national database), ``population`` (the
national database against the population registry) and each agency HR system by its name in
``config/sources.yaml`` (for the agencies it serves). Counts are of values, not of records:
a record missing two fields counts two.

Completeness: required values present (not null; text not blank).
  national: per employee, family name, given name (a middle name may be empty), birth date,
  sex, agency, unit, position, rank, salary step, coefficient, hire date (11 values each).
  agency system: per record it holds, of local id, full name, birth date, sex, agency, unit,
  position, rank, step, coefficient and last change time, those its mapping maps.

Validity: values that hold (rules below; passed of checked).
  national, per employee: position-known, rank-known, agency-known (codes in the national
  code lists); coefficient-on-ladder (the rank's ladder has this coefficient at this step);
  personal-id (``resolvers/personal_id.py``: 12 digits, a birth-registration province
  (pre-merger codes; current ones only for births from 1 July 2025), the century-and-sex digit
  and the year digits stating the birth date and sex held); dates-in-order (born and hired on
  or before the measuring day, hired at 18 or older). Per discipline decision of the agency's
  employees: discipline-form (the form exists and applies to the employee's category),
  discipline-dates (decided on or before it took effect, effect ending after it began if it
  ends, not decided in the future).
  agency system, per record and rule, when the values a rule needs are present and mapped:
  position-translated, rank-translated, sex-translated (the vendor's code became a national
  code: one the mapping left as the vendor holds it is invalid), agency-known,
  coefficient-on-ladder, personal-id (consistent with the system's own birth date and sex).

Uniqueness: records of distinct persons. A person is a normalised full name (NFC, runs of
  white space as one space; case and diacritics count), birth date and sex; records of one
  person under more than one personal ID are duplicates, each ID beyond the first one
  surplus. numerator = records - surplus, denominator = records (records without a name, birth
  date or sex are left out; completeness counts them). national: within each agency.
  agency system: within the records it holds of each agency's employees.

Consistency: agreeing fields / compared fields, field by field; a field is compared when both
  sides hold a value. Names compare normalised (as above), coefficients to two decimals.
  population: per employee, ``record`` (the registry knows the personal ID), then full name,
  birth date, sex and alive (national status not deceased = no date of death in the registry).
  agency system: per employee of an agency it serves, ``record`` (it holds one), then full
  name, birth date, sex, agency, position, rank, step and coefficient, those it maps.

Timeliness:
  national: the share of the agency's personnel files updated within the last N days
  (``employee.updated_at``; N = 365 unless asked otherwise), with the latest update and its
  age in days (``max(updated_at)``) as details.
  agency system: the share of its records of the agency whose last change synchronisation has
  taken in (change time at or before ``sync_state.synced_through``, migration 0014), with its
  latest change, the synchronised-through time, the lag between them in seconds and the last
  successful synchronisation. A system never synchronised takes in nothing: 0, said so in a
  detail. A change time without a UTC offset is read as UTC.

An agency without employees measures ``empty`` (no score). A source that failed for any of an
agency's employees (unreachable, timed out, answered garbage) leaves that agency's measures of
it ``not_measured`` with the reason; the other sources and dimensions are stored as usual.
Per reporting authority (the last segment of an agency code: G02, H01) the agencies' counts
add up into one measure of each dimension and source (``scope = authority``).

The national side is set-wise (one grouped query per dimension over every agency); the other
sources are read a page of employees at a time (2,000, in agency order), one batched call per
source per page, which the adapters split into each source's ``max_batch``.
"""

from hub.quality.model import DIMENSIONS, Detail, Measure
from hub.quality.run import (
    DEFAULT_WITHIN_DAYS,
    QualityRun,
    UnknownAgency,
    measure_quality,
    resolve_agencies,
)

__all__ = ["DEFAULT_WITHIN_DAYS", "DIMENSIONS", "Detail", "Measure", "QualityRun",
           "UnknownAgency", "measure_quality", "resolve_agencies"]
