"""What every resolver can reach: the caller, the sources, the code lists and the loaders.

One RequestContext per GraphQL operation. The caller is the seam for access policies (who is
asking, for which agency and purpose); the loaders are per request, so batching and caching
never cross from one caller to another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from resolvers.code_lists import CodeLists
from resolvers.disclosures import Disclosures
from resolvers.grants import UNRESTRICTED, Grants
from resolvers.loaders import Loaders
from resolvers.sources import Sources
from resolvers.submissions import SubmissionDesk

__all__ = ["ANONYMOUS", "Caller", "QueryLimits", "RequestContext", "Sources"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: the authenticated client, its agency and the declared purpose of use."""

    client_id: str
    agency_code: str | None = None
    purpose: str | None = None


# The hub's own internal calls (schema export, benchmarks' in-process runs): no client.
ANONYMOUS = Caller(client_id="anonymous")


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_page_size: int = 100
    default_page_size: int = 20


@dataclass(slots=True)
class RequestContext:
    caller: Caller
    sources: Sources
    code_lists: CodeLists
    limits: QueryLimits
    today: date
    grants: Grants = UNRESTRICTED
    # Where signed changes go (hub.updates); None where the hub takes no submissions.
    desk: SubmissionDesk | None = None
    # The client's policy view (hub.policy), for the desk's write grants; opaque here.
    view: Any = None
    loaders: Loaders = field(init=False)
    # What the answer discloses of whom, noted as objects are built (the audit record).
    disclosures: Disclosures = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sources, self.code_lists, self.today, self.grants)
        self.disclosures = Disclosures()

    def release(self) -> None:
        """The request is answered: what its loaders hold may go (see Loaders.release)."""
        self.loaders.release()
