"""Write-back to Marketo through an outbox.

Callers queue what Marketo must hear about inside their own transaction (``queue_*``); the row
commits with the change it describes, and ``drain_outbox`` sends rows in batches of at most 300
within Dynchat's share of Marketo's limits: leads first (push lead, one record per email), then
custom activities and program member statuses, which need the lead's Marketo id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from sync import tasks
from sync.client import MarketoClient
from sync.errors import DailyQuotaReached, FatalMarketoError, MarketoError
from sync.fields import marketo_time
from sync.models import (
    CustomActivityType,
    MarketoLead,
    OutboxKind,
    OutboxMessage,
    OutboxState,
)

logger = logging.getLogger("sync.outbox")

BATCH = 300
MAX_ATTEMPTS = 8
WAIT_FOR_PUSH = timedelta(seconds=30)


class ChatActivity(models.TextChoices):
    ENGAGED = "engaged", "Engaged with Dialogue"
    GOAL = "goal", "Reached Dialogue Goal"
    MEETING = "meeting", "Scheduled Meeting in Dialogue"
    FIELD = "field", "Filled Field in Dialogue"


# Four custom activity types (Marketo allows ten per instance): named after Dynamic Chat's own.
ACTIVITY_TYPES: dict[str, dict[str, Any]] = {
    ChatActivity.ENGAGED: {
        "apiName": "dynchatEngagedDialogue",
        "name": "Engaged with Dialogue",
        "triggerName": "Engages with Dialogue",
        "filterName": "Engaged with Dialogue",
        "attributes": ["pageUrl", "status"],
    },
    ChatActivity.GOAL: {
        "apiName": "dynchatReachedGoal",
        "name": "Reached Dialogue Goal",
        "triggerName": "Reaches Dialogue Goal",
        "filterName": "Reached Dialogue Goal",
        "attributes": ["pageUrl", "goalName"],
    },
    ChatActivity.MEETING: {
        "apiName": "dynchatScheduledMeeting",
        "name": "Scheduled Meeting in Dialogue",
        "triggerName": "Schedules Meeting in Dialogue",
        "filterName": "Scheduled Meeting in Dialogue",
        "attributes": ["pageUrl", "agent", "scheduledFor", "status"],
    },
    ChatActivity.FIELD: {
        "apiName": "dynchatFilledField",
        "name": "Filled Field in Dialogue",
        "triggerName": "Fills Field in Dialogue",
        "filterName": "Filled Field in Dialogue",
        "attributes": ["pageUrl", "fieldName", "fieldValue"],
    },
}


def _queue(
    kind: OutboxKind, email: str, payload: Mapping[str, Any], key: str | None
) -> OutboxMessage:
    email = email.strip().lower()
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                kind=kind, email=email, payload=dict(payload), key=key
            )
    except IntegrityError:
        return OutboxMessage.objects.get(key=key)  # queued before under the same key
    transaction.on_commit(lambda: tasks.drain_outbox.delay())
    return message


def queue_lead_push(
    *, email: str, fields: Mapping[str, Any], reason: str, key: str | None = None
) -> OutboxMessage:
    """Push a lead captured in chat to Marketo (upsert on email) once this transaction commits."""
    return _queue(OutboxKind.PUSH_LEAD, email, {"fields": dict(fields), "reason": reason}, key)


def queue_chat_activity(
    *,
    email: str,
    activity: ChatActivity,
    dialogue: str,
    attributes: Mapping[str, str],
    occurred_at: datetime,
    key: str | None = None,
) -> OutboxMessage:
    """Record a chat event as a Marketo custom activity on the lead with ``email``."""
    allowed = set(ACTIVITY_TYPES[activity]["attributes"])
    unknown = set(attributes) - allowed
    if unknown:
        raise ValueError(f"unknown attributes for {activity}: {', '.join(sorted(unknown))}")
    payload = {
        "activity": str(activity),
        "dialogue": dialogue,
        "attributes": dict(attributes),
        "occurred_at": occurred_at.isoformat(),
    }
    return _queue(OutboxKind.ACTIVITY, email, payload, key)


def queue_program_status(
    *, email: str, program_id: int, status: str, key: str | None = None
) -> OutboxMessage:
    """Add the lead to a Marketo program with ``status`` (statuses only move forward)."""
    payload = {"program_id": program_id, "status": status}
    return _queue(OutboxKind.PROGRAM_STATUS, email, payload, key)


@dataclass
class DrainReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


def drain_outbox(client: MarketoClient | None = None, *, rounds: int = 20) -> DrainReport:
    """Send ready outbox rows, in batches of up to 300, until none are left or ``rounds`` end."""
    report = DrainReport()
    if not settings.MARKETO_ENABLED:
        return report
    client = client or MarketoClient.from_settings()
    try:
        for _ in range(rounds):
            busy = _push_leads(client, report)
            busy |= _send_activities(client, report)
            busy |= _send_program_statuses(client, report)
            if not busy:
                break
    except DailyQuotaReached as quota:
        report.errors.append(str(quota))  # rows stay pending; the limiter holds every call
    return report


def _ready(kind: OutboxKind) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.ready(kind).select_for_update(skip_locked=True)[:BATCH])


def _sent(message: OutboxMessage, marketo_id: Any, report: DrainReport) -> None:
    message.state, message.sent_at = OutboxState.SENT, timezone.now()
    message.marketo_id, message.last_error = str(marketo_id or ""), ""
    message.attempts += 1
    message.save(update_fields=["state", "sent_at", "marketo_id", "last_error", "attempts"])
    report.sent += 1


def _retry(message: OutboxMessage, error: str, report: DrainReport, *, final: bool = False) -> None:
    message.attempts += 1
    message.last_error = error[:2000]
    if final or message.attempts >= MAX_ATTEMPTS:
        message.state = OutboxState.FAILED
        report.failed += 1
        logger.error("outbox %s for %s failed: %s", message.kind, message.email, error)
    else:
        message.next_attempt_at = timezone.now() + timedelta(seconds=30 * 2**message.attempts)
        report.deferred += 1
    message.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])


def _fatal(error: MarketoError) -> bool:
    """A request Marketo refuses as such (bad status name, access denied) will not succeed later."""
    return isinstance(error, FatalMarketoError)


def _reasons(result: Mapping[str, Any]) -> str:
    reasons = result.get("reasons") or result.get("errors") or []
    return "; ".join(f"{r.get('code')}: {r.get('message')}" for r in reasons) or "skipped"


def _push_leads(client: MarketoClient, report: DrainReport) -> bool:
    with transaction.atomic():
        batch = _ready(OutboxKind.PUSH_LEAD)
        if not batch:
            return False
        records: dict[str, dict[str, Any]] = {}
        for message in batch:  # oldest first: later answers overwrite earlier ones
            records.setdefault(message.email, {"email": message.email}).update(
                message.payload.get("fields", {})
            )
        reason = batch[-1].payload.get("reason", "Captured in chat")
        try:
            results = client.push_leads(
                list(records.values()),
                program_name=settings.MARKETO_PUSH_PROGRAM,
                source=settings.MARKETO_PUSH_SOURCE,
                reason=reason,
            )
        except DailyQuotaReached:
            raise
        except MarketoError as error:
            for message in batch:
                _retry(message, str(error), report, final=_fatal(error))
            return True
        by_email = dict(zip(records, results, strict=False))
        for message in batch:
            result = by_email.get(message.email, {})
            if result.get("id") and result.get("status") in ("created", "updated"):
                MarketoLead.objects.get_or_create(
                    id=result["id"], defaults={"email": message.email}
                )
                _sent(message, result["id"], report)
            else:
                _retry(message, _reasons(result), report, final=True)
    return True


def _lead_ids(client: MarketoClient, emails: Sequence[str]) -> dict[str, int]:
    """Marketo lead ids by email: from the mirror, else asked of Marketo (and mirrored)."""
    found = {
        lead.email.lower(): lead.id
        for lead in MarketoLead.objects.annotate(lower=Lower("email")).filter(lower__in=emails)
    }
    missing = [email for email in emails if email not in found]
    if missing:
        for lead in client.leads_by("email", missing, ["id", "email"]):
            email = str(lead.get("email", "")).lower()
            MarketoLead.objects.get_or_create(id=lead["id"], defaults={"email": email})
            found[email] = int(lead["id"])
    return found


def _resolve(
    client: MarketoClient, batch: list[OutboxMessage], report: DrainReport
) -> dict[str, int]:
    """Lead ids for the batch; messages whose lead is not in Marketo (yet) wait or fail."""
    emails = sorted({message.email for message in batch})
    waiting = set(
        OutboxMessage.objects.filter(
            kind=OutboxKind.PUSH_LEAD, state=OutboxState.PENDING, email__in=emails
        ).values_list("email", flat=True)
    )
    ids = _lead_ids(client, [email for email in emails if email not in waiting])
    for message in batch:
        if message.email in waiting:
            message.next_attempt_at = timezone.now() + WAIT_FOR_PUSH
            message.save(update_fields=["next_attempt_at"])
            report.deferred += 1
        elif message.email not in ids:
            _retry(message, "No lead with this email in Marketo.", report, final=True)
    return ids


def _activity_type(client: MarketoClient, activity: str) -> CustomActivityType:
    spec = ACTIVITY_TYPES[activity]
    known = CustomActivityType.objects.filter(api_name=spec["apiName"]).first()
    if known:
        return known
    existing = {t.get("apiName"): t for t in client.custom_activity_types()}
    marketo = existing.get(spec["apiName"])
    if marketo is None:
        marketo = client.create_custom_activity_type({
            "apiName": spec["apiName"],
            "name": spec["name"],
            "triggerName": spec["triggerName"],
            "filterName": spec["filterName"],
            "description": "Written by Dynchat",
            "primaryAttribute": {
                "apiName": "dialogueName", "name": "Dialogue Name",
                "description": "The dialogue the visitor chatted with",
            },
        })  # fmt: skip
        client.request(
            "POST", f"/rest/v1/activities/external/type/{spec['apiName']}/attributes/create.json",
            json={"attributes": [
                {"apiName": name, "name": name, "dataType": "string"} for name in spec["attributes"]
            ]},
        )  # fmt: skip
        client.approve_custom_activity_type(spec["apiName"])
    return CustomActivityType.objects.create(
        api_name=spec["apiName"], marketo_id=int(marketo["id"]), attributes=spec["attributes"]
    )


def _send_activities(client: MarketoClient, report: DrainReport) -> bool:
    with transaction.atomic():
        batch = _ready(OutboxKind.ACTIVITY)
        if not batch:
            return False
        ids = _resolve(client, batch, report)
        sendable = [m for m in batch if m.email in ids and m.state == OutboxState.PENDING]
        sendable = [m for m in sendable if m.next_attempt_at <= timezone.now()]
        if not sendable:
            return True
        kinds = {
            name: _activity_type(client, name) for name in {m.payload["activity"] for m in sendable}
        }
        records = []
        for message in sendable:
            kind = kinds[message.payload["activity"]]
            occurred = datetime.fromisoformat(message.payload["occurred_at"])
            records.append({
                "leadId": ids[message.email],
                "activityDate": marketo_time(occurred),
                "activityTypeId": kind.marketo_id,
                "primaryAttributeValue": message.payload["dialogue"],
                "attributes": [
                    {"apiName": name, "value": value}
                    for name, value in message.payload["attributes"].items()
                ],
            })  # fmt: skip
        try:
            results = client.add_custom_activities(records)
        except DailyQuotaReached:
            raise
        except MarketoError as error:
            for message in sendable:
                _retry(message, str(error), report, final=_fatal(error))
            return True
        for message, result in zip(sendable, results, strict=False):
            if result.get("status") == "added":
                _sent(message, result.get("marketoGUID") or result.get("id"), report)
            elif _type_unknown(result):
                # The instance no longer has the type we remembered (a reset sandbox, a type
                # deleted by an admin): forget it, so the next round finds or creates it again.
                CustomActivityType.objects.filter(
                    marketo_id=records[sendable.index(message)]["activityTypeId"]
                ).delete()
                _retry(message, _reasons(result), report)
            else:
                _retry(message, _reasons(result), report, final=True)
    return True


def _type_unknown(result: Mapping[str, Any]) -> bool:
    reasons = result.get("reasons") or result.get("errors") or []
    return any(str(r.get("code")) == "1013" and "type" in str(r.get("message")) for r in reasons)


def _send_program_statuses(client: MarketoClient, report: DrainReport) -> bool:
    with transaction.atomic():
        batch = _ready(OutboxKind.PROGRAM_STATUS)
        if not batch:
            return False
        ids = _resolve(client, batch, report)
        groups: dict[tuple[int, str], list[OutboxMessage]] = {}
        for message in batch:
            if message.email in ids and message.next_attempt_at <= timezone.now():
                key = (int(message.payload["program_id"]), str(message.payload["status"]))
                groups.setdefault(key, []).append(message)
        for (program_id, status), messages in groups.items():
            try:
                results = client.program_member_status(
                    program_id, status, [ids[m.email] for m in messages]
                )
            except DailyQuotaReached:
                raise
            except MarketoError as error:
                for message in messages:
                    _retry(message, str(error), report, final=_fatal(error))
                continue
            for message, result in zip(messages, results, strict=False):
                reasons = result.get("reasons") or []
                if result.get("status") in ("created", "updated"):
                    _sent(message, result.get("leadId"), report)
                elif any(str(r.get("code")) == "1037" for r in reasons):
                    _sent(message, "", report)  # already at or past this status: nothing to do
                else:
                    _retry(message, _reasons(result), report, final=True)
    return True


def cancel_for(email: str) -> int:
    """Cancel everything still queued for ``email`` (a visitor's data is being erased)."""
    return OutboxMessage.objects.filter(
        email=email.strip().lower(), state=OutboxState.PENDING
    ).update(state=OutboxState.CANCELLED)
