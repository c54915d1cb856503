"""The National Population Database (Ministry of Public Security), reached over HTTP.

The hub never has database access to it: only batch lookup by personal ID and identity
verification. Batches larger than the registry's cap are split and sent concurrently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from adapters.batch_lookup import fetch_in_batches, records_or_fail
from adapters.filters import RowFilter
from adapters.http_json import call_json
from adapters.record_mapping import RecordMapping
from adapters.resilience import Guard, Resilience

__all__ = ["CITIZEN_COLUMNS", "Identity", "PopulationRegistry", "PopulationRegistryConfig"]

_CITIZEN = RecordMapping(
    fields={
        "personal_id": "personalId", "full_name": "fullName", "birth_date": "birthDate",
        "sex": "sex", "ethnicity": "ethnicity", "religion": "religion",
        "nationality": "nationality", "place_of_origin": "placeOfOrigin",
        "permanent_address": "permanentAddress", "current_address": "currentAddress",
        "father_id": "fatherId", "mother_id": "motherId", "spouse_id": "spouseId",
        "death_date": "deathDate", "updated_at": "updatedAt",
    },
    types={"birth_date": "date", "death_date": "date", "updated_at": "datetime"},
)
CITIZEN_COLUMNS = tuple(_CITIZEN.fields)
_IDENTITY_COLUMNS = ("personal_id", "full_name", "birth_date", "sex", "death_date")


@dataclass(frozen=True, slots=True)
class Identity:
    """What the registry holds to verify a person's identity against: the name, birth date
    and sex on record, and the date of death if the person has died."""

    personal_id: str
    full_name: str
    birth_date: date | None
    sex: str
    death_date: date | None

    @property
    def alive(self) -> bool:
        return self.death_date is None


@dataclass(frozen=True, slots=True)
class PopulationRegistryConfig:
    base_url: str
    api_key: str
    timeout_seconds: float = 2.0
    max_batch: int = 500
    resilience: Resilience = field(default_factory=Resilience)


class PopulationRegistry:
    name = "population"

    def __init__(self, client: httpx.AsyncClient, config: PopulationRegistryConfig) -> None:
        self._client = client
        self._config = config
        self._headers = {"x-api-key": config.api_key}
        self.guard = Guard(self.name, config.resilience)

    async def fetch_many(self, keys: Sequence[str], columns: Sequence[str],
                         row_filter: RowFilter = ()) -> list[dict[str, Any]]:
        """Citizens by personal ID; ids the registry does not know are simply absent."""
        return await fetch_in_batches(self._lookup, _CITIZEN, self._config.max_batch, keys,
                                      columns, row_filter)

    async def identities(self, personal_ids: Sequence[str]) -> dict[str, Identity]:
        """The identity records of many people at once (one call per ``max_batch`` ids),
        by personal ID; an id the registry does not know is absent from the answer. Only the
        fields identity verification needs are asked for."""
        wanted = list(dict.fromkeys(personal_ids))
        if not wanted:
            return {}
        rows = await self.fetch_many(wanted, _IDENTITY_COLUMNS)
        return {row["personal_id"]: Identity(
            personal_id=row["personal_id"], full_name=str(row.get("full_name") or ""),
            birth_date=row.get("birth_date"), sex=str(row.get("sex") or ""),
            death_date=row.get("death_date")) for row in rows if row.get("personal_id")}

    async def _lookup(self, ids: Sequence[str], wanted: tuple[str, ...]
                      ) -> list[dict[str, Any]]:
        async def once(seconds: float) -> list[dict[str, Any]]:
            answer = await call_json(
                self._client, self.name, "POST", f"{self._config.base_url}/v1/citizens/batch",
                body={"personalIds": list(ids)}, headers=self._headers, timeout=seconds,
                max_bytes=self.guard.settings.max_response_bytes)
            citizens = answer.get("citizens") if isinstance(answer, dict) else None
            return records_or_fail(self.name, citizens)

        # A lookup reads: safe to try again.
        return await self.guard.run(once, timeout=self._config.timeout_seconds,
                                    idempotent=True, operation="lookup", batch=len(ids))

    async def ping(self) -> None:
        self.guard.raise_if_open()
        await call_json(self._client, self.name, "GET", f"{self._config.base_url}/healthz",
                        timeout=self._config.timeout_seconds)
