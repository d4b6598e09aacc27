"""REST handlers for activities: types, paging tokens, activity pages, custom activities (§9)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sync.sandbox import tokens, writes
from sync.sandbox.activities import Activity
from sync.sandbox.activity_types import STANDARD_TYPES, describe_type
from sync.sandbox.call import Call, Envelope
from sync.sandbox.clock import DateError, parse_datetime
from sync.sandbox.errors import ApiError
from sync.sandbox.fields import LEAD_FIELD

# One call walks at most this many activities of the stream, so sparse filters get short or
# empty pages with moreResult true, as Marketo's do.
SCAN_BLOCK = 3000
MAX_TYPE_IDS = 10
MAX_LEAD_IDS = 30
KIND = "A"


def activity_types(call: Call) -> Envelope:
    with call.app.world.lock:
        custom = call.app.world.custom_types.describe_standard()
    return Envelope([describe_type(t) for t in STANDARD_TYPES] + custom)


def paging_token(call: Call) -> Envelope:
    raw = call.required("sinceDatetime")
    try:
        since, _ = parse_datetime(raw)
    except DateError:
        raise ApiError("1003", f"Invalid value for sinceDatetime '{raw}'") from None
    with call.app.world.lock:
        position = call.app.world.stream.position_at(since)
    return Envelope(None, next_page_token=tokens.encode(KIND, position))


def _lead_filter(call: Call) -> Callable[[Activity], bool] | None:
    if call.param("listId"):
        raise ApiError("1013", f"Static list '{call.param('listId')}' not found")
    lead_ids = call.int_list("leadIds")
    if len(lead_ids) > MAX_LEAD_IDS:
        raise ApiError("1003", f"Too many leadIds: {len(lead_ids)} (at most 30)")
    if not lead_ids:
        return None
    wanted = frozenset(lead_ids)
    return lambda activity: activity.lead_id in wanted


def _walk(
    call: Call,
    types: Collection[int],
    keep: Callable[[Activity], bool] | None,
    shape: Callable[[Activity], dict[str, Any] | None],
) -> Envelope:
    position = tokens.decode(KIND, call.required("nextPageToken"))
    limit = call.batch_size()
    stream = call.app.world.stream
    wanted = frozenset(types)
    with call.app.world.lock:
        found, after = stream.scan(position, wanted.__contains__, keep, limit, SCAN_BLOCK, wanted)
        more = after <= stream.last_id
    result = [item for item in map(shape, found) if item is not None]
    return Envelope(result, more_result=more, next_page_token=tokens.encode(KIND, after))


def activities(call: Call) -> Envelope:
    type_ids = call.int_list("activityTypeIds")
    if not type_ids:
        raise ApiError("701", "activityTypeIds cannot be blank")
    if len(type_ids) > MAX_TYPE_IDS:
        raise ApiError("1003", f"Too many activityTypeIds: {len(type_ids)} (at most 10)")
    known = call.app.world.activity_types()
    for type_id in type_ids:
        if type_id not in known:
            raise ApiError("1003", f"Invalid activityTypeId '{type_id}'")
    return _walk(call, type_ids, _lead_filter(call), Activity.rest)


def lead_changes(call: Call) -> Envelope:
    fields = call.list_param("fields")
    if not fields:
        raise ApiError("701", "fields cannot be blank")
    for name in fields:
        if name not in LEAD_FIELD:
            raise ApiError("1006", f"Field '{name}' not found")
    wanted = frozenset(fields)

    def shape(activity: Activity) -> dict[str, Any] | None:
        changes = [dict(c) for c in activity.changes if c["name"] in wanted]
        if activity.type_id == 13 and not changes:
            return None
        attributes = [
            {"name": k, "value": v}
            for k, v in activity.attributes
            if k in ("Reason", "Source", "Source Type")
        ]
        attributes.append({"name": "Lead ID", "value": activity.lead_id})
        item = activity.rest()
        item.pop("attributes")
        item.pop("primaryAttributeValue", None)
        item.pop("primaryAttributeValueId", None)
        return {**item, "fields": changes, "attributes": attributes}

    return _walk(call, (12, 13), _lead_filter(call), shape)


def deleted_leads(call: Call) -> Envelope:
    return _walk(call, (37,), None, Activity.rest)


# Custom activity types and custom activities


def custom_types_list(call: Call) -> Envelope:
    with call.app.world.lock:
        return Envelope(call.app.world.custom_types.listing())


def custom_type_create(call: Call) -> Envelope:
    body = call.json()
    world = call.app.world
    with world.lock:
        return Envelope([world.custom_types.create(body, world.now())])


def custom_type_describe(call: Call) -> Envelope:
    draft = (call.param("draft") or "").lower() == "true"
    with call.app.world.lock:
        return Envelope([call.app.world.custom_types.view(call.groups["api_name"], draft=draft)])


def custom_type_approve(call: Call) -> Envelope:
    world = call.app.world
    with world.lock:
        return Envelope([world.custom_types.approve(call.groups["api_name"], world.now())])


def custom_type_attributes(call: Call) -> Envelope:
    body = call.json()
    world = call.app.world
    with world.lock:
        return Envelope(
            [
                world.custom_types.add_attributes(
                    call.groups["api_name"], body.get("attributes"), world.now()
                )
            ]
        )


def custom_activities_add(call: Call) -> Envelope:
    body = call.json()
    with call.app.world.lock:
        return Envelope(writes.add_custom_activities(call.app.world, body))
