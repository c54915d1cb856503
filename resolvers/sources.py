"""The systems of record a hub instance talks to, opened by the app and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters import (
    AgencySystemRegistry,
    AuditLog,
    NationalDatabase,
    PopulationRegistry,
    SubmissionReads,
)

__all__ = ["Sources"]


@dataclass(frozen=True, slots=True)
class Sources:
    national: NationalDatabase
    population: PopulationRegistry
    agency_systems: AgencySystemRegistry
    # The audit log is kept in the national database: read through its pool unless given.
    audit_log: AuditLog = field(default=None)  # type: ignore[assignment]
    # Record versions and the submissions inbox, in the national database too.
    submission_reads: SubmissionReads = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.audit_log is None:
            object.__setattr__(self, "audit_log", AuditLog(self.national))
        if self.submission_reads is None:
            object.__setattr__(self, "submission_reads", SubmissionReads(self.national))
