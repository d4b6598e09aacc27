"""REST handlers for leads, companies and programs (reference §7, §8, §10)."""

from __future__ import annotations

from typing import Any

from sync.sandbox import tokens, writes
from sync.sandbox.call import Call, Envelope
from sync.sandbox.errors import ApiError
from sync.sandbox.fields import (
    COMPANY_FIELD,
    DEFAULT_COMPANY_FIELDS,
    DEFAULT_LEAD_FIELDS,
    LEAD_FIELD,
    LEAD_FILTERS,
    describe_companies,
    describe_leads,
    describe_leads2,
)

MAX_FILTER_VALUES = 300
MAX_MATCHES = 1000


def _fields(call: Call, known: dict[str, Any], default: tuple[str, ...]) -> list[str]:
    fields = call.list_param("fields") or list(default)
    for name in fields:
        if name not in known:
            raise ApiError("1006", f"Field '{name}' not found")
    return fields


def _view(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The requested fields; a null value is left out (Marketo: "implied to be null")."""
    view = {"id": record["id"]}
    view.update((name, record[name]) for name in fields if record.get(name) is not None)
    return view


def _page(call: Call, kind: str, items: list[Any]) -> Envelope:
    size = call.batch_size()
    token = call.param("nextPageToken")
    start = tokens.decode(kind, token) if token else 0
    page = items[start : start + size]
    if start + size < len(items):
        return Envelope(page, more_result=True, next_page_token=tokens.encode(kind, start + size))
    return Envelope(page)


def _filter_values(call: Call) -> list[str]:
    values = call.list_param("filterValues")
    if not values:
        raise ApiError("701", "filterValues cannot be blank")
    if len(values) > MAX_FILTER_VALUES:
        raise ApiError("1003", f"Too many filterValues: {len(values)} (at most 300)")
    return values


# Leads


def leads_describe(call: Call) -> Envelope:
    return Envelope(describe_leads())


def leads_describe2(call: Call) -> Envelope:
    return Envelope(describe_leads2())


def lead_by_id(call: Call) -> Envelope:
    fields = _fields(call, LEAD_FIELD, DEFAULT_LEAD_FIELDS)
    with call.app.world.lock:
        lead = call.app.world.leads.get(call.number_group("id"))
    return Envelope([] if lead is None else [_view(lead, fields)])


def leads_by_filter(call: Call) -> Envelope:
    filter_type = call.required("filterType")
    if filter_type not in LEAD_FILTERS:
        raise ApiError("1011", f"Field '{filter_type}' not supported for filterType")
    values = _filter_values(call)
    fields = _fields(call, LEAD_FIELD, DEFAULT_LEAD_FIELDS)
    world = call.app.world
    with world.lock:
        ids = world.leads.find(filter_type, values)
        if len(ids) > MAX_MATCHES:
            raise ApiError("1003", "Too many results match the filter")
        leads = [world.leads.get(i) for i in ids]
    return _page(call, "L", [_view(lead, fields) for lead in leads if lead is not None])


def leads_sync(call: Call) -> Envelope:
    body = call.json()
    with call.app.world.lock:
        return Envelope(writes.sync_leads(call.app.world, body))


def leads_push(call: Call) -> Envelope:
    body = call.json()
    with call.app.world.lock:
        return Envelope(writes.push_leads(call.app.world, body), warnings=[])


# Companies


def companies_describe(call: Call) -> Envelope:
    return Envelope(describe_companies())


def companies_by_filter(call: Call) -> Envelope:
    filter_type = call.required("filterType")
    if filter_type not in ("externalCompanyId", "id", "company", "idField", "dedupeFields"):
        raise ApiError("1003", f"Invalid filterType '{filter_type}'")
    values = _filter_values(call)
    fields = _fields(call, COMPANY_FIELD, DEFAULT_COMPANY_FIELDS)
    world, found = call.app.world, []
    with world.lock:
        for seq, value in enumerate(values):
            for company_id in world.companies.find(filter_type, value):
                company = world.companies.get(company_id)
                if company is not None:
                    found.append({"seq": seq, **_view(company, fields)})
    return _page(call, "C", found)


def companies_sync(call: Call) -> Envelope:
    body = call.json()
    with call.app.world.lock:
        return Envelope(writes.sync_companies(call.app.world, body))


# Programs


def programs_list(call: Call) -> Envelope:
    programs = call.app.world.programs
    offset = int(call.param("offset") or 0)
    limit = min(200, int(call.param("maxReturn") or 20))
    listed = [p.rest() for p in programs.by_id.values()][offset : offset + limit]
    if not listed:
        return Envelope([], warnings=["No assets found for the given search criteria."])
    return Envelope(listed)


def program_by_id(call: Call) -> Envelope:
    return Envelope([call.app.world.programs.get(call.number_group("id")).rest()])


def program_by_name(call: Call) -> Envelope:
    return Envelope([call.app.world.programs.by_name(call.required("name")).rest()])


MEMBER_FIELDS = (
    "leadId",
    "programId",
    "membershipDate",
    "reachedSuccess",
    "acquiredBy",
    "statusName",
    "progressionStatus",
    "progressionStatusType",
    "isExhausted",
)
DEFAULT_MEMBER_FIELDS = ("acquiredBy", "leadId", "membershipDate", "programId", "reachedSuccess")


def program_members(call: Call) -> Envelope:
    world = call.app.world
    program = world.programs.get(call.number_group("id"))
    filter_type = call.required("filterType")
    if filter_type != "leadId":
        raise ApiError("1003", f"filterType '{filter_type}' is not supported by the sandbox")
    fields = call.list_param("fields") or list(DEFAULT_MEMBER_FIELDS)
    for name in fields:
        if name not in MEMBER_FIELDS:
            raise ApiError("1006", f"Field '{name}' not found")
    values = _filter_values(call)
    found = []
    with world.lock:
        for seq, value in enumerate(values):
            if value.isdigit() and (program.id, int(value)) in world.programs.members:
                view = world.programs.member_view(program, int(value), fields)
                found.append({"seq": seq, **view})
    return _page(call, "M", found)


def program_member_status(call: Call) -> Envelope:
    body = call.json()
    with call.app.world.lock:
        return Envelope(writes.member_status(call.app.world, call.number_group("id"), body))
