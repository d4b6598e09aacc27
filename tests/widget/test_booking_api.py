"""The widget's booking endpoints: what they refuse before anything is booked, and a visitor
booking a time with an agent whose calendar is the sandbox's (TESTPLAN §2.4, W-4, W-8, W-10)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from dialogues.booking import record_booking
from dialogues.models import ConversationEvent, ConversationState, EventKind
from dialogues.runtime import Refused
from dynchat.models import Site
from meetings.models import Meeting, MeetingStatus
from tests.calendars.factories import connected_agent
from tests.conftest import ALLOWED_ORIGIN
from tests.widget.api import raised_limits
from tests.widget.booking import (
    CARD,
    at_meeting_card,
    get_slots,
    headers,
    post_booking,
    post_hold,
    published_meeting,
)

SOON = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def version(site: Site) -> Any:
    return published_meeting(site)


@pytest.fixture
def waiting(version: Any) -> Any:
    """A visitor at the meeting card."""
    return at_meeting_card(version, "booking-visitor-0001", firstName="Ada", lastName="Lovelace")


# What is refused before anything is booked


def test_a_booking_needs_the_conversations_own_token(
    client: Client, version: Any, waiting: Any
) -> None:
    other = at_meeting_card(version, "booking-visitor-0002", email="bob@example.com")
    url = reverse("widget:bookings", kwargs={"conversation_id": waiting.pk})
    body = {"card": CARD, "start": "2030-01-07T10:00:00Z", "duration": 30, "time_zone": "UTC"}
    missing = client.post(url, body, content_type="application/json")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "token_missing"
    foreign = client.post(url, body, content_type="application/json", headers=headers(other))
    assert foreign.status_code == 403
    assert foreign.json()["error"]["code"] == "token_mismatch"
    assert not Meeting.objects.exists()


def test_a_booking_body_must_be_json(client: Client, waiting: Any) -> None:
    url = reverse("widget:bookings", kwargs={"conversation_id": waiting.pk})
    response = client.post(url, "card=meet", content_type="text/plain", headers=headers(waiting))
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"agent": 1}, ""),
        ({"start": "tomorrow at ten"}, "start"),
        ({"start": "2030-01-07T10:00:00"}, "start"),  # no offset: whose ten o'clock?
        ({"start": "2030-13-07T10:00:00Z"}, "start"),
        ({"duration": 0}, "duration"),
        ({"duration": "30"}, "duration"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"card": ""}, "card"),
        ({"hold": -1}, "hold"),
    ],
)
def test_a_malformed_booking_is_refused_naming_the_field(
    client: Client, waiting: Any, change: dict[str, Any], field: str
) -> None:
    changed = dict(change)
    response = post_booking(client, waiting, changed.pop("start", SOON), **changed)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["fields"]
    assert not Meeting.objects.exists()


def test_an_idempotency_key_must_look_like_one(client: Client, waiting: Any) -> None:
    response = post_booking(client, waiting, SOON, key="short")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


def test_only_the_meeting_card_awaiting_the_visitor_can_be_booked(
    client: Client, waiting: Any
) -> None:
    other_card = post_booking(client, waiting, SOON, card="email")
    assert other_card.status_code == 409
    assert other_card.json()["error"]["code"] == "card_not_current"
    assert get_slots(client, waiting, card="thanks").json()["error"]["code"] == "card_not_current"
    waiting.state, waiting.card = ConversationState.COMPLETED, ""
    waiting.save()
    ended = post_booking(client, waiting, SOON)
    assert ended.status_code == 409
    assert ended.json()["error"]["code"] == "conversation_completed"
    assert not Meeting.objects.exists()


def test_a_visitor_who_gave_no_email_cannot_book(client: Client, version: Any) -> None:
    anonymous = at_meeting_card(version, "booking-visitor-0003", email="")
    response = post_booking(client, anonymous, SOON)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_required"


@pytest.mark.parametrize(
    ("query", "field"),
    [({"tz": "Europe/Paris"}, "card"), ({"card": CARD, "tz": "Not/A_Zone"}, "tz")],
)
def test_slots_need_the_card_and_a_real_time_zone(
    client: Client, waiting: Any, query: dict[str, str], field: str
) -> None:
    url = reverse("widget:slots", kwargs={"conversation_id": waiting.pk})
    response = client.get(url, query, headers=headers(waiting))
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_the_preflight_lets_the_site_send_an_idempotency_key(client: Client, waiting: Any) -> None:
    url = reverse("widget:bookings", kwargs={"conversation_id": waiting.pk})
    response = client.options(
        url,
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "Idempotency-Key" in response["Access-Control-Allow-Headers"]


def test_bookings_are_rate_limited_per_address_and_site(client: Client, waiting: Any) -> None:
    """W-10 on the booking route: the third attempt in a minute waits."""
    with override_settings(RATELIMITS=raised_limits(**{"widget-booking": "2/m"})):
        answers = [post_booking(client, waiting, SOON, card="email") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [409, 409, 429]
    assert int(answers[2]["Retry-After"]) >= 1


# Recording a booking in the conversation


def test_a_recorded_booking_walks_the_flow_on_as_an_answer(waiting: Any) -> None:
    outcome = record_booking(waiting, CARD, 42)
    assert outcome.walked == ["thanks"]
    assert outcome.conversation.state == ConversationState.COMPLETED
    booked = ConversationEvent.objects.get(conversation=waiting, kind=EventKind.BOOKED)
    assert (booked.card, booked.value) == (CARD, "42")
    assert outcome.conversation.last_seq == waiting.last_seq  # the widget's numbering is untouched


def test_a_booking_is_not_recorded_on_a_card_that_no_longer_awaits(waiting: Any) -> None:
    record_booking(waiting, CARD, 42)
    with pytest.raises(Refused) as refused:
        record_booking(waiting, CARD, 43)
    assert refused.value.code == "conversation_completed"
    assert ConversationEvent.objects.filter(kind=EventKind.BOOKED).count() == 1


# Booking with an agent whose calendar answers (the calendar sandbox)


@pytest.fixture
def alex(calendar_sandbox: Any, calendar_settings: Any) -> Any:
    return connected_agent(calendar_sandbox, "alex@example.com", name="Alex", notice_minutes=60)


def first_slot(client: Client, conversation: Any, tz: str = "Europe/Paris") -> dict[str, str]:
    answer = get_slots(client, conversation, tz=tz)
    assert answer.status_code == 200, answer.content
    return dict(answer.json()["slots"][0])


def test_slots_are_offered_in_the_visitors_time_zone(
    client: Client, alex: Any, waiting: Any
) -> None:
    answer = get_slots(client, waiting, tz="Asia/Kolkata").json()
    assert answer["duration"] == 30
    assert answer["time_zone"] == "Asia/Kolkata"
    slot = answer["slots"][0]
    start = datetime.fromisoformat(slot["start"]).astimezone(ZoneInfo("Asia/Kolkata"))
    assert slot["label"] == f"{start:%a} {start.day} {start:%b}, {start:%H:%M}"
    assert start.minute in (0, 30)  # 30-minute slots from midnight, India is UTC+5:30


def test_a_booking_makes_the_meeting_and_walks_the_conversation_on(
    client: Client,
    calendar_sandbox: Any,
    alex: Any,
    waiting: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    slot = first_slot(client, waiting)
    with django_capture_on_commit_callbacks(execute=True):  # the calendar event, the e-mail
        response = post_booking(client, waiting, slot["start"], key="first-try-0001")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["agent"] == "Alex"
    assert answer["label"] == slot["label"]
    assert answer["path"] == ["thanks"]
    assert answer["conversation"]["state"] == "completed"
    meeting = Meeting.objects.get(pk=answer["meeting"])
    assert meeting.status == MeetingStatus.UPCOMING
    assert (meeting.lead_email, meeting.lead_name) == ("ada@example.com", "Ada Lovelace")
    assert (meeting.conversation_id, meeting.visitor_time_zone) == (waiting.pk, "Europe/Paris")
    assert ConversationEvent.objects.filter(conversation=waiting, kind=EventKind.BOOKED).exists()
    assert len(calendar_sandbox.events("alex@example.com")) == 1


def test_a_retry_with_the_same_key_answers_the_same_meeting(
    client: Client, alex: Any, waiting: Any
) -> None:
    slot = first_slot(client, waiting)
    first = post_booking(client, waiting, slot["start"], key="same-key-0001")
    again = post_booking(client, waiting, slot["start"], key="same-key-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["meeting"] == first.json()["meeting"]
    assert Meeting.objects.count() == 1


def test_a_time_just_taken_is_refused_as_taken(
    client: Client, alex: Any, version: Any, waiting: Any
) -> None:
    other = at_meeting_card(version, "booking-visitor-0004", email="bob@example.com")
    slot = first_slot(client, waiting)
    assert post_booking(client, other, slot["start"]).status_code == 201
    taken = post_booking(client, waiting, slot["start"])
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "slot_taken"
    assert slot["start"] not in [s["start"] for s in get_slots(client, waiting).json()["slots"]]


def test_a_held_time_is_booked_with_its_hold(client: Client, alex: Any, waiting: Any) -> None:
    slot = first_slot(client, waiting)
    held = post_hold(client, waiting, datetime.fromisoformat(slot["start"]))
    assert held.status_code == 201, held.content
    booked = post_booking(client, waiting, slot["start"], hold=held.json()["hold"])
    assert booked.status_code == 201, booked.content
    assert list(Meeting.objects.values_list("status", flat=True)) == [MeetingStatus.UPCOMING]


def test_no_calendar_answering_is_a_503(
    client: Client, calendar_sandbox: Any, alex: Any, waiting: Any
) -> None:
    calendar_sandbox.fault("google.freebusy", "500", times=50)
    response = get_slots(client, waiting)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "calendar_unavailable"
