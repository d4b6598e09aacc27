"""Which handler answers which method and path; unknown paths are 610, wrong methods 605."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sync.sandbox import bulk_api, rest_activities, rest_records
from sync.sandbox.call import Call, Reply
from sync.sandbox.errors import ApiError

Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    name: str  # the path pattern, as stats report it
    regex: re.Pattern[str]
    handler: Handler


def _route(method: str, pattern: str, handler: Handler) -> Route:
    regex = re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")
    regex = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", regex)
    return Route(method, pattern, re.compile(regex), handler)


_BULK = "/bulk/v1/{object}/export"
ROUTES = (
    _route("GET", "/rest/v1/leads/describe.json", rest_records.leads_describe),
    _route("GET", "/rest/v1/leads/describe2.json", rest_records.leads_describe2),
    _route("GET", "/rest/v1/lead/{id}.json", rest_records.lead_by_id),
    _route("GET", "/rest/v1/leads.json", rest_records.leads_by_filter),
    _route("POST", "/rest/v1/leads.json", rest_records.leads_sync),
    _route("POST", "/rest/v1/leads/push.json", rest_records.leads_push),
    _route("GET", "/rest/v1/companies/describe.json", rest_records.companies_describe),
    _route("GET", "/rest/v1/companies.json", rest_records.companies_by_filter),
    _route("POST", "/rest/v1/companies.json", rest_records.companies_sync),
    _route("GET", "/rest/v1/programs.json", rest_records.programs_list),
    _route("GET", "/rest/v1/program/byName.json", rest_records.program_by_name),
    _route("GET", "/rest/v1/program/{id}.json", rest_records.program_by_id),
    _route("GET", "/rest/v1/programs/{id}/members.json", rest_records.program_members),
    _route(
        "POST", "/rest/v1/programs/{id}/members/status.json", rest_records.program_member_status
    ),
    _route("GET", "/rest/v1/activities/types.json", rest_activities.activity_types),
    _route("GET", "/rest/v1/activities/pagingtoken.json", rest_activities.paging_token),
    _route("GET", "/rest/v1/activities.json", rest_activities.activities),
    _route("GET", "/rest/v1/activities/leadchanges.json", rest_activities.lead_changes),
    _route("GET", "/rest/v1/activities/deletedleads.json", rest_activities.deleted_leads),
    _route("GET", "/rest/v1/activities/external/types.json", rest_activities.custom_types_list),
    _route("POST", "/rest/v1/activities/external/type.json", rest_activities.custom_type_create),
    _route(
        "GET",
        "/rest/v1/activities/external/type/{api_name}/describe.json",
        rest_activities.custom_type_describe,
    ),
    _route(
        "POST",
        "/rest/v1/activities/external/type/{api_name}/approve.json",
        rest_activities.custom_type_approve,
    ),
    _route(
        "POST",
        "/rest/v1/activities/external/type/{api_name}/attributes/create.json",
        rest_activities.custom_type_attributes,
    ),
    _route("POST", "/rest/v1/activities/external.json", rest_activities.custom_activities_add),
    _route("POST", _BULK + "/create.json", bulk_api.create),
    _route("POST", _BULK + "/{id}/enqueue.json", bulk_api.enqueue),
    _route("GET", _BULK + "/{id}/status.json", bulk_api.status),
    _route("GET", _BULK + "/{id}/file.json", bulk_api.file),
    _route("POST", _BULK + "/{id}/cancel.json", bulk_api.cancel),
    _route("GET", _BULK + ".json", bulk_api.listing),
)
BULK_OBJECTS = ("leads", "activities")


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request; ApiError 610 (no such path) or 605 (no such method there)."""
    allowed = False
    for route in ROUTES:
        match = route.regex.fullmatch(path)
        if match is None or match.groupdict().get("object", "leads") not in BULK_OBJECTS:
            continue
        if route.method == method:
            return route, match.groupdict()
        allowed = True
    raise ApiError("605" if allowed else "610")


def pattern_of(path: str) -> str:
    """The route pattern a path belongs to (the path itself when none)."""
    for route in ROUTES:
        if route.regex.fullmatch(path):
            return route.name
    return path
