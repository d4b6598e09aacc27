"""Dynchat's Marketo client: REST reads and writes, paging and bulk export.

Every call goes through the shared ``RedisLimiter``; tokens, retries and Marketo's error codes
are handled in ``sync.client_base``, bulk export in ``sync.client_bulk``. Record-level results
(``skipped`` with ``reasons``) are returned to the caller, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sync.client_bulk import BulkExportClient, ExportObject, ExportStatus
from sync.limiter import default_limiter

__all__ = ["ExportObject", "ExportStatus", "MarketoClient", "Page"]

BATCH = 300  # records per call or page in the lead database
MAX_ACTIVITY_TYPES = 10


@dataclass(frozen=True)
class Page:
    results: list[dict[str, Any]]
    next_page_token: str | None
    more: bool


class MarketoClient(BulkExportClient):
    @classmethod
    def from_settings(cls, *, max_attempts: int = 5) -> MarketoClient:
        """The configured client; pages a person waits on pass fewer ``max_attempts``."""
        if not settings.MARKETO_ENABLED:
            raise ImproperlyConfigured("Marketo is not configured: set MARKETO_BASE_URL")
        return cls(
            settings.MARKETO_BASE_URL,
            settings.MARKETO_CLIENT_ID,
            settings.MARKETO_CLIENT_SECRET,
            limiter=default_limiter(),
            timeout=settings.MARKETO_TIMEOUT_SECONDS,
            max_attempts=max_attempts,
        )

    # --- describe ------------------------------------------------------------------------------

    def describe_leads(self) -> list[dict[str, Any]]:
        return _results(self._call("GET", "/rest/v1/leads/describe.json"))

    def describe_companies(self) -> list[dict[str, Any]]:
        """The ``fields`` of the Company object."""
        described = _results(self._call("GET", "/rest/v1/companies/describe.json"))
        return list(described[0].get("fields", [])) if described else []

    def activity_types(self) -> list[dict[str, Any]]:
        return _results(self._call("GET", "/rest/v1/activities/types.json"))

    # --- incremental reads: one page at a time, so the caller can commit each watermark ----------

    def paging_token(self, since: datetime) -> str:
        if since.tzinfo is None:
            raise ValueError("paging_token needs an aware datetime")
        moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        envelope = self._call(
            "GET", "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": moment}
        )
        return str(envelope["nextPageToken"])

    def activities_page(self, token: str, type_ids: Sequence[int], batch_size: int = BATCH) -> Page:
        """One page of activities; it may be empty while ``more`` is still true."""
        if not 1 <= len(type_ids) <= MAX_ACTIVITY_TYPES:
            raise ValueError(f"between 1 and {MAX_ACTIVITY_TYPES} activity type ids per call")
        if not 1 <= batch_size <= BATCH:
            raise ValueError(f"batch_size must be between 1 and {BATCH}")
        params = {
            "nextPageToken": token,
            "activityTypeIds": ",".join(str(type_id) for type_id in type_ids),
            "batchSize": batch_size,
        }
        return _page(self._call("GET", "/rest/v1/activities.json", params=params), token)

    def lead_changes_page(self, token: str, fields: Sequence[str]) -> Page:
        if not fields:
            raise ValueError("Marketo needs at least one field to report changes of")
        params = {"nextPageToken": token, "fields": ",".join(fields), "batchSize": BATCH}
        return _page(
            self._call("GET", "/rest/v1/activities/leadchanges.json", params=params), token
        )

    # --- lookups: every page, since a lookup of ≤ 300 values is small ---------------------------

    def leads_by(
        self, filter_type: str, values: Sequence[str | int], fields: Sequence[str]
    ) -> list[dict[str, Any]]:
        return self._lookup("/rest/v1/leads.json", filter_type, values, fields)

    def companies_by(
        self, filter_type: str, values: Sequence[str | int], fields: Sequence[str]
    ) -> list[dict[str, Any]]:
        return self._lookup("/rest/v1/companies.json", filter_type, values, fields)

    def _lookup(
        self, path: str, filter_type: str, values: Sequence[str | int], fields: Sequence[str]
    ) -> list[dict[str, Any]]:
        _check_batch(values)
        if not values:
            return []
        params: dict[str, Any] = {
            "filterType": filter_type,
            "filterValues": ",".join(str(value) for value in values),
            "batchSize": BATCH,
        }
        if fields:
            params["fields"] = ",".join(fields)
        records: list[dict[str, Any]] = []
        while True:
            envelope = self._get(path, params)
            records += _results(envelope)
            token = envelope.get("nextPageToken")
            if not envelope.get("moreResult") or not token:
                return records
            params["nextPageToken"] = token

    # --- writes ----------------------------------------------------------------------------------

    def push_leads(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        program_name: str,
        source: str,
        reason: str,
        lookup_field: str = "email",
    ) -> list[dict[str, Any]]:
        """Upsert leads with a "Push Lead to Marketo" activity; one result per record, in order."""
        _check_batch(records)
        body = {
            "programName": program_name,
            "source": source,
            "reason": reason,
            "lookupField": lookup_field,
            "input": [dict(record) for record in records],
        }
        return _results(self._call("POST", "/rest/v1/leads/push.json", json=body))

    def custom_activity_types(self) -> list[dict[str, Any]]:
        return _results(self._call("GET", "/rest/v1/activities/external/types.json"))

    def create_custom_activity_type(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        envelope = self._call("POST", "/rest/v1/activities/external/type.json", json=dict(spec))
        return _first(envelope)

    def approve_custom_activity_type(self, api_name: str) -> dict[str, Any]:
        path = f"/rest/v1/activities/external/type/{quote(api_name, safe='')}/approve.json"
        return _first(self._call("POST", path))

    def add_custom_activities(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        _check_batch(records)
        body = {"input": [dict(record) for record in records]}
        return _results(self._call("POST", "/rest/v1/activities/external.json", json=body))

    def program_member_status(
        self, program_id: int, status_name: str, lead_ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        _check_batch(lead_ids)
        body = {"statusName": status_name, "input": [{"leadId": lead} for lead in lead_ids]}
        path = f"/rest/v1/programs/{int(program_id)}/members/status.json"
        return _results(self._call("POST", path, json=body))


def _results(envelope: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(envelope.get("result") or [])


def _first(envelope: Mapping[str, Any]) -> dict[str, Any]:
    results = _results(envelope)
    return results[0] if results else {}


def _page(envelope: Mapping[str, Any], token: str) -> Page:
    return Page(
        results=_results(envelope),
        next_page_token=envelope.get("nextPageToken") or token,
        more=bool(envelope.get("moreResult")),
    )


def _check_batch(items: Sequence[Any]) -> None:
    if len(items) > BATCH:
        raise ValueError(f"Marketo takes at most {BATCH} records per call, not {len(items)}")
