"""Bulk extract endpoints under /bulk/v1/{leads|activities}/export (reference §11)."""

from __future__ import annotations

from typing import Any

from sync.sandbox import tokens
from sync.sandbox.call import Call, Envelope, FileBody
from sync.sandbox.clock import DAY, DateError, parse_datetime
from sync.sandbox.errors import ApiError
from sync.sandbox.export_files import ACTIVITY_COLUMNS, DEFAULT_ACTIVITY_FIELDS, DELIMITERS, Spec
from sync.sandbox.fields import LEAD_FIELD

MAX_SPAN = 31 * DAY
LEAD_FILTERS = (
    "createdAt",
    "updatedAt",
    "staticListId",
    "staticListName",
    "smartListId",
    "smartListName",
)
STATUSES = ("Created", "Queued", "Processing", "Cancelled", "Canceled", "Completed", "Failed")


def _window(filter_body: Any, name: str) -> tuple[float, float]:
    if not isinstance(filter_body, dict):
        raise ApiError("1003", f"Invalid value for filter '{name}'")
    values = []
    for key in ("startAt", "endAt"):
        raw = filter_body.get(key)
        if not isinstance(raw, str):
            raise ApiError("1003", f"Invalid data: {name}.{key} is required")
        try:
            moment, fractional = parse_datetime(raw)
        except DateError:
            raise ApiError(
                "1003", f"Invalid data: {name}.{key} '{raw}' is not a datetime"
            ) from None
        if fractional:
            raise ApiError("1003", f"Invalid data: {name}.{key} must not have milliseconds")
        values.append(moment)
    start, end = values
    if end < start:
        raise ApiError("1003", f"Invalid data: {name}.endAt is before startAt")
    if end - start > MAX_SPAN:
        raise ApiError("1003", f"Invalid data: {name} spans more than 31 days")
    return start, end


def _format_and_headers(body: dict[str, Any], fields: list[str]) -> tuple[str, tuple[str, ...]]:
    export_format = str(body.get("format") or "CSV").upper()
    if export_format not in DELIMITERS:
        raise ApiError("1003", f"Invalid format '{body.get('format')}' (CSV, TSV or SSV)")
    names = body.get("columnHeaderNames") or {}
    if not isinstance(names, dict):
        raise ApiError("1003", "columnHeaderNames must be an object")
    return export_format, tuple(str(names.get(name, name)) for name in fields)


def lead_spec(body: dict[str, Any]) -> Spec:
    fields = body.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise ApiError("1003", "Invalid data: fields is required")
    for name in fields:
        if name not in LEAD_FIELD:
            raise ApiError("1003", f"Invalid data: field '{name}' not found")
    filters = body.get("filter")
    if not isinstance(filters, dict) or len(filters) != 1:
        raise ApiError("1003", "Invalid data: exactly one filter is required")
    ((name, value),) = filters.items()
    if name not in LEAD_FILTERS:
        raise ApiError("1003", f"Invalid data: unknown filter '{name}'")
    if name.startswith("smartList"):
        raise ApiError("1035")
    if name.startswith("staticList"):
        raise ApiError("1003", f"Invalid data: static list '{value}' not found")
    start, end = _window(value, name)
    export_format, headers = _format_and_headers(body, fields)
    return Spec("leads", export_format, tuple(fields), headers, name, start, end)


def activity_spec(body: dict[str, Any], known_types: set[int]) -> Spec:
    fields = body.get("fields") or list(DEFAULT_ACTIVITY_FIELDS)
    if not isinstance(fields, list) or not all(f in ACTIVITY_COLUMNS for f in fields):
        raise ApiError("1003", f"Invalid data: fields must be among {', '.join(ACTIVITY_COLUMNS)}")
    filters = body.get("filter")
    if not isinstance(filters, dict) or "createdAt" not in filters:
        raise ApiError("1003", "Invalid data: filter.createdAt is required")
    for name in filters:
        if name not in ("createdAt", "activityTypeIds"):
            raise ApiError("1003", f"Invalid data: filter '{name}' is not supported")
    start, end = _window(filters["createdAt"], "createdAt")
    type_ids = None
    if filters.get("activityTypeIds") is not None:
        raw = filters["activityTypeIds"]
        if not isinstance(raw, list) or not all(isinstance(t, int) for t in raw) or not raw:
            raise ApiError("1003", "Invalid data: activityTypeIds must be a list of ids")
        if 37 in raw:
            raise ApiError("1003", "Invalid data: Delete Lead (37) cannot be exported")
        unknown = [t for t in raw if t not in known_types]
        if unknown:
            raise ApiError("1003", f"Invalid data: unknown activityTypeIds {unknown}")
        type_ids = frozenset(raw)
    export_format, headers = _format_and_headers(body, fields)
    return Spec(
        "activities", export_format, tuple(fields), headers, "createdAt", start, end, type_ids
    )


def create(call: Call) -> Envelope:
    body = call.json()
    if call.groups["object"] == "leads":
        spec = lead_spec(body)
    else:
        spec = activity_spec(body, call.app.world.activity_types())
    job = call.app.exports.create(call.client_id, spec)
    return Envelope([job.view()])


def enqueue(call: Call) -> Envelope:
    exports, groups = call.app.exports, call.groups
    return Envelope([exports.enqueue(call.client_id, groups["object"], groups["id"]).view()])


def status(call: Call) -> Envelope:
    exports, groups = call.app.exports, call.groups
    return Envelope([exports.status(call.client_id, groups["object"], groups["id"]).view()])


def cancel(call: Call) -> Envelope:
    exports, groups = call.app.exports, call.groups
    return Envelope([exports.cancel(call.client_id, groups["object"], groups["id"]).view()])


def listing(call: Call) -> Envelope:
    wanted = set(call.list_param("status"))
    if wanted - set(STATUSES):
        raise ApiError("1003", f"Invalid status {sorted(wanted - set(STATUSES))}")
    if wanted & {"Cancelled", "Canceled"}:
        wanted |= {"Cancelled", "Canceled"}
    jobs = call.app.exports.listing(call.client_id, call.groups["object"], wanted or None)
    size = call.batch_size()
    token = call.param("nextPageToken")
    start = tokens.decode("J", token) if token else 0
    page = [job.view() for job in jobs[start : start + size]]
    if start + size < len(jobs):
        return Envelope(page, more_result=True, next_page_token=tokens.encode("J", start + size))
    return Envelope(page)


def file(call: Call) -> FileBody:
    exports, groups = call.app.exports, call.groups
    job = exports.completed_file(call.client_id, groups["object"], groups["id"])
    assert job.path is not None  # noqa: S101 - a Completed job has its file
    assert job.written is not None  # noqa: S101 - and its size
    return FileBody(job.path, job.written.size, job.export_id)
