"""A visitor books a meeting in the real widget: the meeting card's days and times in their own
time zone, a time taken meanwhile, the booking by keyboard, the confirmation and its .ics link;
then the meeting row and the agent's calendar event (the calendar sandbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from dialogues.models import Conversation, ConversationState, EventKind
from dynchat.models import Site
from meetings.models import Meeting, MeetingStatus
from routing.assignment import BookingRequest, book, offer_slots
from tests.calendars.factories import connected_agent
from tests.e2e.chat import Trouble, press_until, type_answer
from tests.e2e.conftest import HostPages
from tests.e2e.widget_host import RECORDER, publish_dialogue
from tests.widget.booking import meeting_flow

pytestmark = pytest.mark.browser
EMAIL = "ada@example.com"
ZONE = "America/New_York"


@pytest.fixture
def booking_site(
    transactional_db: None, host_pages: HostPages, settings: Any, calendar_settings: Any
) -> Site:
    settings.LEAD_GUARD_MIN_SECONDS = 0  # the test types its e-mail faster than people do
    return Site.objects.create(
        name="Acme", allowed_origins=[host_pages.origin], appearance={"delay_ms": 20}
    )


def chat(page: Page) -> FrameLocator:
    return page.frame_locator("iframe[title=Chat]")


def local_label(start: str) -> str:
    moment = datetime.fromisoformat(start).astimezone(ZoneInfo(ZONE))
    return f"{moment:%a} {moment.day} {moment:%b}, {moment:%H:%M}"


@pytest.mark.timeout(120)
def test_a_visitor_books_a_meeting_in_the_widget(
    browser: Any, host_pages: HostPages, booking_site: Site, calendar_sandbox: Any
) -> None:
    alex = connected_agent(calendar_sandbox, "alex@example.com", name="Alex", notice_minutes=60)
    publish_dialogue(booking_site, flow=meeting_flow())
    context = browser.new_context(timezone_id=ZONE)
    page = context.new_page()
    trouble = Trouble().watch(page)
    try:
        page.add_init_script(RECORDER)
        page.goto(host_pages.url(booking_site.key))
        page.locator("[data-dynchat] button.l").click()
        frame = chat(page)
        type_answer(frame.get_by_label("Your e-mail?"), EMAIL)

        # Days and times, labelled in the visitor's zone (the browser's, sent as tz).
        times = frame.get_by_role("group", name="Book a meeting")
        expect(times.get_by_role("button", name="Skip")).to_have_count(0)
        expect(frame.get_by_role("button", name="Skip")).to_be_visible()
        first = times.get_by_role("group", name="Days").get_by_role("button").first
        expect(first).to_have_attribute("aria-pressed", "true")
        # What the server offers now, as the visitor's clock reads it.
        offered = [local_label(start.isoformat()) for start in offer_slots().starts]
        day, _, hour = offered[0].rpartition(", ")
        expect(first).to_have_text(day)
        slot = frame.get_by_role("group", name=f"Times on {day}").get_by_role("button", name=hour)
        expect(slot).to_be_visible()

        # Someone else takes that time meanwhile: the visitor is told, the times come again.
        _book_first_slot_for_someone_else(booking_site)
        slot.click()
        expect(frame.get_by_role("alert")).to_have_text("That time was just taken — pick another")
        day2, _, hour2 = offered[1].rpartition(", ")
        second = frame.get_by_role("group", name=f"Times on {day2}").get_by_role(
            "button", name=hour2
        )
        expect(second).to_be_visible()

        # By keyboard: focus the time, press Enter.
        press_until(second, "Enter", frame.get_by_text(f"Booked: {offered[1]} with Alex"))
        link = frame.get_by_role("link", name="Add to calendar")
        href = str(link.get_attribute("href"))
        assert href.startswith("data:text/calendar")
        assert link.get_attribute("download") == "meeting.ics"
        ics = unquote(href.partition(",")[2])
        expect(frame.locator(".msg.bot").filter(has_text="See you then!")).to_be_visible()
        expect(frame.get_by_text("This conversation has ended.")).to_be_visible()
        page.wait_for_function("window.dynchatEvents.some(e => e.name === 'meeting-booked')")
    finally:
        page.goto("about:blank")
        context.close()

    conversation = Conversation.objects.get()
    meeting = Meeting.objects.get(conversation_id=conversation.pk)
    assert meeting.status == MeetingStatus.UPCOMING
    assert (meeting.agent_id, meeting.lead_email, meeting.visitor_time_zone) == (
        alex.pk,
        EMAIL,
        ZONE,
    )
    start = meeting.starts_at.strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}" in ics
    assert "SUMMARY:Meeting with Alex" in ics
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.COMPLETED
    assert conversation.events.filter(kind=EventKind.BOOKED, card="meet").exists()
    events = calendar_sandbox.events("alex@example.com")
    assert len(events) == 2  # the other visitor's, and Ada's
    assert not trouble.errors, trouble.errors
    assert not trouble.csp_violations, trouble.console


def _book_first_slot_for_someone_else(site: Site) -> None:
    start = offer_slots().starts[0]
    book(
        BookingRequest(
            site_id=site.pk, start=start, duration_minutes=30, lead_email="bob@example.com"
        )
    )
