"""The write-back outbox: queued with the change, sent in batches, each kind its own way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from django.db import transaction
from django.test import override_settings

from sync.limiter import default_limiter
from sync.models import CustomActivityType, MarketoLead, OutboxKind, OutboxMessage, OutboxState
from sync.outbox import (
    ChatActivity,
    cancel_for,
    drain_outbox,
    queue_chat_activity,
    queue_lead_push,
    queue_program_status,
)
from sync.sandbox import Dataset, Fault, Limits, MarketoSandbox

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@pytest.fixture
def sandbox(
    marketo_sandbox: Callable[..., MarketoSandbox],
    marketo_settings: Callable[[MarketoSandbox], override_settings],
) -> Iterator[MarketoSandbox]:
    sandbox = marketo_sandbox(
        dataset=Dataset(leads=200, companies=20, activities=500), limits=Limits(daily_quota=200)
    )
    with marketo_settings(sandbox):
        default_limiter().reset()
        yield sandbox


def marketo_lead(sandbox: MarketoSandbox, email: str) -> dict[str, object]:
    """The lead as Marketo itself has it, asked over the API."""
    token = requests.get(
        f"{sandbox.base_url}/identity/oauth/token",
        params={"grant_type": "client_credentials", "client_id": sandbox.client_id,
                "client_secret": sandbox.client_secret},
        timeout=5,
    ).json()["access_token"]  # fmt: skip
    answer = requests.get(
        f"{sandbox.base_url}/rest/v1/leads.json",
        params={"filterType": "email", "filterValues": email, "fields": "id,email,firstName,title"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert answer["success"], answer
    return answer["result"][0] if answer["result"] else {}


@pytest.mark.django_db
def test_a_queued_push_commits_with_the_change_and_drains_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        message = queue_lead_push(email="Ada@Example.com", fields={"firstName": "Ada"}, reason="x")
        assert message.email == "ada@example.com"
    assert len(callbacks) == 1  # the drain task, enqueued only once the row is committed


def test_pushes_for_one_email_become_one_marketo_record(sandbox: MarketoSandbox) -> None:
    with transaction.atomic():  # one commit, one drain after it
        queue_lead_push(email="grace@navy.example", fields={"firstName": "Grace"}, reason="Chat")
        queue_lead_push(email="GRACE@navy.example", fields={"title": "Rear Admiral"}, reason="x")
    lead = marketo_lead(sandbox, "grace@navy.example")
    assert lead["firstName"] == "Grace"
    assert lead["title"] == "Rear Admiral"
    assert sandbox.stats().calls_by_path.get("/rest/v1/leads/push.json") == 1
    sent = OutboxMessage.objects.filter(state=OutboxState.SENT)
    assert set(sent.values_list("marketo_id", flat=True)) == {str(lead["id"])}
    assert isinstance(lead["id"], int)
    assert MarketoLead.objects.filter(id=lead["id"]).exists()


def test_a_chat_activity_waits_for_its_leads_push_then_lands_on_the_lead(
    sandbox: MarketoSandbox,
) -> None:
    with transaction.atomic():
        queue_lead_push(email="linus@example.org", fields={"firstName": "Linus"}, reason="Chat")
        queue_chat_activity(
            email="linus@example.org",
            activity=ChatActivity.ENGAGED,
            dialogue="Pricing questions",
            attributes={"pageUrl": "https://a.example/pricing", "status": "Completed"},
            occurred_at=WHEN,
        )
    assert OutboxMessage.objects.filter(state=OutboxState.SENT).count() == 2
    kind = CustomActivityType.objects.get(api_name="dynchatEngagedDialogue")
    assert sandbox.activity_count(type_ids=[kind.marketo_id]) == 1
    activity = OutboxMessage.objects.get(kind=OutboxKind.ACTIVITY)
    assert activity.state == OutboxState.SENT
    assert activity.marketo_id


@pytest.mark.django_db
def test_an_activity_type_marketo_no_longer_has_is_made_again(sandbox: MarketoSandbox) -> None:
    """A remembered custom activity type the instance lost (1013) is forgotten and recreated."""
    queue_lead_push(email="ada@example.org", fields={"firstName": "Ada"}, reason="Chat")
    CustomActivityType.objects.create(
        api_name="dynchatReachedGoal", marketo_id=987654, attributes=["pageUrl", "goalName"]
    )
    queue_chat_activity(
        email="ada@example.org", activity=ChatActivity.GOAL, dialogue="Demo",
        attributes={"goalName": "Booked"}, occurred_at=WHEN,
    )  # fmt: skip
    drain_outbox()
    activity = OutboxMessage.objects.get(kind=OutboxKind.ACTIVITY)
    assert activity.state == OutboxState.PENDING
    assert "1013" in activity.last_error
    OutboxMessage.objects.filter(pk=activity.pk).update(next_attempt_at=WHEN)
    drain_outbox()
    activity.refresh_from_db()
    assert activity.state == OutboxState.SENT
    assert CustomActivityType.objects.get(api_name="dynchatReachedGoal").marketo_id != 987654


def test_an_activity_for_an_unknown_email_fails_with_a_reason(sandbox: MarketoSandbox) -> None:
    queue_chat_activity(
        email="nobody@nowhere.example", activity=ChatActivity.GOAL, dialogue="Demo",
        attributes={"goalName": "Booked"}, occurred_at=WHEN,
    )  # fmt: skip
    drain_outbox()
    message = OutboxMessage.objects.get()
    assert message.state == OutboxState.FAILED
    assert "No lead" in message.last_error


def test_unknown_activity_attributes_are_refused_when_queued() -> None:
    with pytest.raises(ValueError, match="unknown attributes"):
        queue_chat_activity(
            email="a@b.example", activity=ChatActivity.GOAL, dialogue="Demo",
            attributes={"favouriteColour": "blue"}, occurred_at=WHEN,
        )  # fmt: skip


def test_program_status_moves_forward_and_a_lower_one_is_already_done(
    sandbox: MarketoSandbox,
) -> None:
    lead = sandbox.lead(5)
    assert lead is not None
    email = str(lead["email"])
    # Each queued message is sent by the drain that runs after its commit.
    queue_program_status(email=email, program_id=1001, status="Influenced")
    queue_program_status(email=email, program_id=1001, status="Engaged")  # a step back: 1037
    assert OutboxMessage.objects.filter(state=OutboxState.SENT).count() == 2
    queue_program_status(email=email, program_id=1001, status="Delighted")  # no such status: 1025
    failed = OutboxMessage.objects.get(state=OutboxState.FAILED)
    assert "1025" in failed.last_error


def test_the_same_key_queues_once(db: None) -> None:
    first = queue_lead_push(email="a@b.example", fields={}, reason="Chat", key="conversation-1")
    second = queue_lead_push(email="a@b.example", fields={}, reason="Chat", key="conversation-1")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1


def test_the_daily_quota_leaves_everything_queued(sandbox: MarketoSandbox) -> None:
    sandbox.add_fault(Fault("607"))
    with transaction.atomic():
        queue_lead_push(email="quota@example.org", fields={}, reason="Chat")
        report = drain_outbox()  # inside the transaction: before the drain task after commit
    assert report.sent == 0
    assert "607" in report.errors[0]
    assert OutboxMessage.objects.get().state == OutboxState.PENDING


def test_erasing_a_visitor_cancels_what_is_still_queued(db: None) -> None:
    queue_lead_push(email="erase.me@example.org", fields={}, reason="Chat")
    assert cancel_for("Erase.Me@example.org") == 1
    assert OutboxMessage.objects.get().state == OutboxState.CANCELLED
