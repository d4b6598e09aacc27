"""Writes through the API: sync and push leads, sync companies, custom activities, program status.

Each function validates the request as Marketo does (response-level errors raise ``ApiError``;
record-level problems become ``skipped`` results) and records the activities Marketo would.
Callers hold ``world.lock``.
"""

from __future__ import annotations

import json
from typing import Any

from sync.sandbox.clock import DateError, parse_datetime
from sync.sandbox.errors import ApiError
from sync.sandbox.fields import COMPANY_FIELD, INHERITED, LEAD_FIELD
from sync.sandbox.values import coerce
from sync.sandbox.world import World

MAX_BATCH = 300
LEAD_ACTIONS = ("createOnly", "updateOnly", "createOrUpdate", "createDuplicate")
LOOKUP_FIELDS = ("email", "id", "cookies", "externalCompanyId")
MAX_ATTRIBUTE_BYTES = 65_536
API_REASON = "Web service API"


def skipped(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "status": "skipped", "reasons": [{"code": code, "message": message}]}


def batch(body: dict[str, Any], key: str = "input") -> list[Any]:
    records = body.get(key)
    if not records:
        raise ApiError("701", f"{key} cannot be blank")
    if not isinstance(records, list):
        raise ApiError("1003", f"{key} must be a list")
    if len(records) > MAX_BATCH:
        raise ApiError("1003", f"Batch size of {len(records)} exceeds {MAX_BATCH}")
    return records


def clean_lead(record: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(values to write, a skip reason or None)."""
    if not isinstance(record, dict):
        return {}, skipped("1003", "Each input record must be an object")
    values: dict[str, Any] = {}
    for name, raw in record.items():
        field = LEAD_FIELD.get(name)
        if field is None:
            return {}, skipped("1006", f"Field '{name}' not found")
        if field.read_only:
            continue
        try:
            values[name] = coerce(field, raw)
        except ValueError as error:
            return {}, skipped("1001", f"Invalid value for field '{name}': {error}")
    return values, None


def lookup(world: World, field: str, record: dict[str, Any]) -> tuple[list[int], str | None]:
    value = record.get(field)
    if value in (None, ""):
        return [], f"Value for lookup field '{field}' not found"
    return world.leads.find(field, [str(value)]), None


def sync_leads(world: World, body: dict[str, Any]) -> list[dict[str, Any]]:
    action = body.get("action") or "createOrUpdate"
    field = body.get("lookupField") or "email"
    if action not in LEAD_ACTIONS:
        raise ApiError("1003", f"Invalid action '{action}'")
    if field not in LOOKUP_FIELDS:
        raise ApiError("1011", f"Field '{field}' not supported for lookupField")
    if field == "id" and action != "updateOnly":
        raise ApiError("1003", "lookupField 'id' is only allowed with action 'updateOnly'")
    now, result = world.now(), []
    for record in batch(body):
        values, problem = clean_lead(record)
        if problem:
            result.append(problem)
            continue
        matches, missing = lookup(world, field, record)
        if missing and action != "createDuplicate" and (field != "email" or action == "updateOnly"):
            result.append(skipped("1003", missing))
            continue
        if len(matches) > 1 and action != "createDuplicate":
            result.append(skipped("1007", "Multiple lead match lookup criteria"))
        elif matches and action == "createOnly":
            result.append(skipped("1005", "Lead already exists", id=matches[0]))
        elif not matches and action == "updateOnly":
            result.append(skipped("1004", "Lead not found"))
        elif matches and action != "createDuplicate":
            lead_id = matches[0]
            linked = world.leads.value(lead_id, "externalCompanyId")
            if linked and any(name in values for name in INHERITED):
                result.append(skipped("1021", "Company update not allowed in syncLead", id=lead_id))
                continue
            changes = world.leads.update(lead_id, values, now)
            world.record_changes(lead_id, changes, now, API_REASON)
            result.append({"id": lead_id, "status": "updated"})
        else:
            lead_id = world.leads.create(values, now)
            world.record_new_lead(lead_id, now)
            result.append({"id": lead_id, "status": "created"})
    return result


def push_leads(world: World, body: dict[str, Any]) -> list[dict[str, Any]]:
    if not body.get("programName"):
        raise ApiError("701", "programName cannot be blank")
    program = world.programs.by_name(str(body["programName"]))
    status = program.status(str(body["programStatus"])) if body.get("programStatus") else None
    field = body.get("lookupField") or "email"
    if field not in LOOKUP_FIELDS:
        raise ApiError("1011", f"Field '{field}' not supported for lookupField")
    reason, source = str(body.get("reason") or ""), str(body.get("source") or "")
    now, result = world.now(), []
    for record in batch(body):
        values, problem = clean_lead(record)
        if problem:
            result.append(problem)
            continue
        matches, missing = lookup(world, field, record)
        if missing and field != "email":
            result.append(skipped("1003", missing))
            continue
        if len(matches) > 1:
            result.append(skipped("1007", "Multiple lead match lookup criteria"))
            continue
        if matches:
            lead_id, outcome = matches[0], "updated"
            changes = world.leads.update(lead_id, values, now)
            world.record_changes(lead_id, changes, now, "Push Lead to Marketo")
        else:
            lead_id, outcome = world.leads.create(values, now), "created"
            world.record_new_lead(lead_id, now)
        attributes = tuple((k, v) for k, v in (("Reason", reason), ("Source", source)) if v)
        world.record(lead_id, 145, now, attributes=attributes)
        if status is not None:
            moved, previous = world.programs.set_status(program, lead_id, status, now)
            if moved != "skipped":
                world.record_status(lead_id, program, previous, status, now)
        result.append({"id": lead_id, "status": outcome})
    return result


def sync_companies(world: World, body: dict[str, Any]) -> list[dict[str, Any]]:
    action = body.get("action") or "createOrUpdate"
    dedupe = body.get("dedupeBy") or "dedupeFields"
    if action not in ("createOnly", "updateOnly", "createOrUpdate"):
        raise ApiError("1003", f"Invalid action '{action}'")
    if dedupe not in ("dedupeFields", "idField"):
        raise ApiError("1003", f"Invalid dedupeBy '{dedupe}'")
    if dedupe == "idField" and action == "createOnly":
        raise ApiError("1003", "dedupeBy 'idField' cannot be used with action 'createOnly'")
    key = "externalCompanyId" if dedupe == "dedupeFields" else "id"
    now, result, seen = world.now(), [], set()
    for seq, record in enumerate(batch(body)):
        if not isinstance(record, dict) or record.get(key) in (None, ""):
            result.append(skipped("1003", f"Value for field '{key}' is required", seq=seq))
            continue
        if str(record[key]) in seen:
            result.append(skipped("1036", "Duplicate key in input", seq=seq))
            continue
        seen.add(str(record[key]))
        values: dict[str, Any] = {}
        problem = None
        for name, raw in record.items():
            field = COMPANY_FIELD.get(name)
            if field is None:
                problem = skipped("1006", f"Field '{name}' not found", seq=seq)
                break
            if field.read_only:
                continue
            try:
                values[name] = coerce(field, raw)
            except ValueError as error:
                problem = skipped("1001", f"Invalid value for field '{name}': {error}", seq=seq)
                break
        if problem:
            result.append(problem)
            continue
        found = world.companies.find(key, str(record[key]))
        if found and action == "createOnly":
            result.append(skipped("1017", "Company already exists", seq=seq, id=found[0]))
        elif not found and (action == "updateOnly" or key == "id"):
            result.append(skipped("1013", "Company not found", seq=seq))
        elif found:
            world.companies.update(found[0], values, now)
            result.append({"seq": seq, "status": "updated", "id": found[0]})
        else:
            company_id = world.companies.create(values, now)
            result.append({"seq": seq, "status": "created", "id": company_id})
    return result


def add_custom_activities(world: World, body: dict[str, Any]) -> list[dict[str, Any]]:
    now, result = world.now(), []
    for item in batch(body):
        if not isinstance(item, dict):
            result.append(_activity_skip("1003", "Each input record must be an object"))
            continue
        lead_id = item.get("leadId")
        if not isinstance(lead_id, int) or not world.leads.exists(lead_id):
            result.append(_activity_skip("1004", "Lead not found"))
            continue
        kind = world.custom_types.approved_by_id(int(item.get("activityTypeId") or 0))
        if kind is None:
            result.append(_activity_skip("1013", "Activity type not found"))
            continue
        try:
            date = int(parse_datetime(str(item.get("activityDate") or ""))[0])
        except DateError:
            result.append(_activity_skip("1001", "Invalid value for field 'activityDate'"))
            continue
        if item.get("primaryAttributeValue") in (None, ""):
            result.append(_activity_skip("1003", "primaryAttributeValue cannot be blank"))
            continue
        by_key = {a["apiName"]: a["name"] for a in kind["attributes"]}
        by_key.update({a["name"]: a["name"] for a in kind["attributes"]})
        attributes, problem = [], None
        for attribute in item.get("attributes") or []:
            if not isinstance(attribute, dict):
                problem = _activity_skip("1003", "Each attribute must be an object")
                break
            key = attribute.get("apiName") or attribute.get("name")
            if key not in by_key:
                problem = _activity_skip("1006", f"Attribute '{key}' not found")
                break
            attributes.append((by_key[key], attribute.get("value")))
        if problem is None and len(json.dumps(attributes)) > MAX_ATTRIBUTE_BYTES:
            problem = _activity_skip("1049", "Activity attributes exceed 65536 bytes")
        if problem:
            result.append(problem)
            continue
        activity = world.stream.add(
            lead_id=lead_id,
            type_id=kind["id"],
            date=date,
            recorded=int(now),
            value=str(item["primaryAttributeValue"]),
            attributes=tuple(attributes),
        )
        result.append({"id": activity.id, "marketoGUID": str(activity.id), "status": "added"})
    return result


def _activity_skip(code: str, message: str) -> dict[str, Any]:
    return {"status": "skipped", "errors": [{"code": code, "message": message}]}


def member_status(world: World, program_id: int, body: dict[str, Any]) -> list[dict[str, Any]]:
    program = world.programs.get(program_id)
    if not body.get("statusName"):
        raise ApiError("701", "statusName cannot be blank")
    status = program.status(str(body["statusName"]))
    now, result = world.now(), []
    for seq, item in enumerate(batch(body)):
        lead_id = item.get("leadId") if isinstance(item, dict) else None
        if not isinstance(lead_id, int) or not world.leads.exists(lead_id):
            result.append(skipped("1004", "Lead not found", seq=seq))
            continue
        outcome, previous = world.programs.set_status(program, lead_id, status, now)
        if outcome == "skipped":
            result.append(
                skipped(
                    "1037", "Lead skipped because it is already in or past this status", seq=seq
                )
            )
            continue
        world.record_status(lead_id, program, previous, status, now)
        result.append({"seq": seq, "status": outcome, "leadId": lead_id})
    return result
