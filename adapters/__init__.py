"""Connectors to the systems of record. They know nothing of GraphQL, policies or HTTP clients
of the hub: each fetches many records by key, with the columns and row filter asked for, and
reports failures as SourceError naming the source."""

from adapters.agency_systems import (
    AGENCY_RECORD_COLUMNS,
    AgencySystem,
    AgencySystemRegistry,
    GraphQLAgencySystem,
    GraphQLAgencySystemConfig,
    RestAgencySystem,
    RestAgencySystemConfig,
)
from adapters.audit_log import AuditLog, EventKey, HistoryWindow
from adapters.call_log import current_call_log, open_call_log
from adapters.errors import SourceError, SourceTimeout, SourceUnavailable
from adapters.filters import Condition, RowFilter, eq, one_of, prefix, related
from adapters.population import CITIZEN_COLUMNS, PopulationRegistry, PopulationRegistryConfig
from adapters.postgres import NationalDatabase, Row
from adapters.record_mapping import RecordMapping
from adapters.submission_reads import (
    InboxWindow,
    SubmissionKey,
    SubmissionReads,
    VersionKey,
    VersionWindow,
)

__all__ = [
    "AGENCY_RECORD_COLUMNS", "CITIZEN_COLUMNS", "AgencySystem", "AgencySystemRegistry",
    "AuditLog", "Condition", "EventKey", "GraphQLAgencySystem", "GraphQLAgencySystemConfig",
    "HistoryWindow", "InboxWindow", "NationalDatabase",
    "PopulationRegistry", "PopulationRegistryConfig", "RecordMapping",
    "RestAgencySystem", "RestAgencySystemConfig", "Row", "RowFilter", "SourceError",
    "SourceTimeout", "SourceUnavailable", "SubmissionKey", "SubmissionReads", "VersionKey",
    "VersionWindow", "current_call_log", "eq", "one_of", "open_call_log",
    "prefix", "related",
]
