"""The visitor's links in the invitation: signed, cancel once, reschedule to an offered time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from calendars.sandbox.sandbox import CalendarSandbox
from dynchat.models import Site, User
from meetings.links import manage_token, meeting_manage_url
from meetings.models import Meeting, MeetingStatus
from tests.calendars.factories import connected_agent
from tests.meetings.test_lifecycle import book, make_meeting

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return urlsplit(url).path


def on_the_hour(days: int, hour: int) -> datetime:
    day = timezone.now().astimezone(UTC) + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_the_links_are_absolute_and_signed(site: Site, agent: User) -> None:
    meeting = make_meeting(site, agent)
    url = meeting_manage_url(meeting, "cancel")
    assert url.startswith("https://testserver/meeting/")
    assert url.endswith("/cancel/")
    assert path_of(url).split("/")[2].startswith(f"{meeting.pk}-")


@pytest.mark.parametrize("action", ["cancel", "reschedule"])
def test_a_tampered_or_foreign_token_is_a_404(
    client: Client, site: Site, agent: User, action: str
) -> None:
    meeting = make_meeting(site, agent)
    other = make_meeting(site, agent, start=meeting.starts_at + timedelta(hours=2))
    token = manage_token(meeting.pk, action)  # type: ignore[arg-type]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert token.startswith(f"{meeting.pk}-")
    forged = f"{other.pk}-{token.split('-', 1)[1]}"
    other_action = manage_token(meeting.pk, "reschedule" if action == "cancel" else "cancel")
    for bad in [tampered, forged, other_action, "nonsense", f"{meeting.pk}-", "9" * 40 + "-x"]:
        response = client.get(f"/meeting/{bad}/{action}/")
        assert response.status_code == 404, bad
    assert client.post(f"/meeting/{tampered}/{action}/").status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.UPCOMING


def test_the_visitor_cancels_once(
    client: Client, site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = book(make_meeting(site, agent), django_capture_on_commit_callbacks)
    mail.outbox.clear()
    url = path_of(meeting_manage_url(meeting, "cancel"))
    page = client.get(url)
    assert page.status_code == 200
    assert "Cancel the meeting" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert "is cancelled" in client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url)
    assert again.status_code == 409
    assert len(mail.outbox) == 1, "one cancellation e-mail"


def test_the_visitor_reschedules_to_an_offered_time(
    calendar_sandbox: CalendarSandbox,
    calendar_settings: Any,
    client: Client,
    site: Site,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    meeting = make_meeting(site, ann, start=on_the_hour(3, 10), visitor_time_zone="Europe/Berlin")
    meeting = book(meeting, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    url = path_of(meeting_manage_url(meeting, "reschedule"))

    page = client.get(url).content.decode()
    new_start = on_the_hour(4, 14)
    assert f'value="{new_start.isoformat()}"' in page
    assert "Europe/Berlin" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"start": new_start.isoformat()})
    assert response.status_code == 302
    meeting.refresh_from_db()
    moved = Meeting.objects.get(rescheduled_from=meeting)
    assert meeting.status == MeetingStatus.RESCHEDULED
    assert moved.status == MeetingStatus.UPCOMING
    assert moved.starts_at == new_start
    assert moved.agent_id == ann.pk
    assert "moved to this time" in client.get(response["Location"]).content.decode()
    # The visitor's calendar entry moves: same UID, next SEQUENCE; the agent's event moves too.
    assert moved.ics_uid == meeting.ics_uid
    assert moved.ics_sequence == meeting.ics_sequence + 1
    [event] = calendar_sandbox.events("ann@example.com")
    assert event["id"] == moved.calendar_event_id
    [invitation] = mail.outbox
    assert "SEQUENCE:1" in invitation.message().as_string()
    # The old link now says where the meeting went, and offers nothing more.
    assert client.post(url, {"start": new_start.isoformat()}).status_code == 409


def test_a_time_that_was_not_offered_is_refused(
    calendar_sandbox: CalendarSandbox, calendar_settings: Any, client: Client, site: Site
) -> None:
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    meeting = make_meeting(site, ann, start=on_the_hour(3, 10))
    url = path_of(meeting_manage_url(meeting, "reschedule"))
    for start in ["2001-01-01T00:00:00+00:00", "not a time", "x" * 5000]:
        response = client.post(url, {"start": start})
        assert response.status_code == 409
        assert "Please pick one of the times" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.UPCOMING


def test_the_pages_are_rate_limited(client: Client, site: Site, agent: User, settings: Any) -> None:
    settings.RATELIMITS = {**settings.RATELIMITS, "meeting-manage": "2/h"}
    url = path_of(meeting_manage_url(make_meeting(site, agent), "cancel"))
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
