"""From connected calendars to a booked meeting, all in a real browser: Alex connects Google
Calendar and Sam Outlook through the providers' consent pages (the calendar sandbox's), the
marketer sees both in the rotation, a visitor on a customer's page books a time in the chat; the
meeting is on the Meetings page of the marketer and of its agent, in that agent's calendar, and the
visitor has exactly one invitation with its .ics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Page, expect

from calendars.models import CalendarConnection, ConnectionStatus
from dialogues.models import Conversation, ConversationState, EventKind
from dynchat.models import Role, Site, User
from meetings.models import Meeting, MeetingStatus
from tests.e2e.chat import Traffic, Trouble, type_answer
from tests.e2e.conftest import HostPages
from tests.e2e.widget_host import RECORDER, publish_dialogue
from tests.widget.booking import meeting_flow

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
VISITOR = "ada@example.com"
ZONE = "Europe/Berlin"
ACCOUNTS = {"Alex Agent": "alex.agent@acme.example", "Sam Rivera": "sam.rivera@acme.example"}


class People:
    """Everyone in the journey, each in a browser context of their own (their own session)."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.browser = browser
        self.base = base
        self.contexts: list[BrowserContext] = []
        self.trouble: list[Trouble] = []

    def open(self, **options: Any) -> Page:
        context = self.browser.new_context(**options)
        self.contexts.append(context)
        page = context.new_page()
        self.trouble.append(Trouble().watch(page))
        return page

    def sign_in(self, email: str, next: str) -> Page:
        page = self.open()
        page.goto(f"{self.base}/login/?next={next}")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{self.base}{next}")
        return page

    def close(self) -> None:
        for context in self.contexts:
            for page in context.pages:
                page.goto("about:blank")  # the chat frame's last events leave now, answered
            context.close()

    @property
    def errors(self) -> list[str]:
        return [error for trouble in self.trouble for error in trouble.errors]


@pytest.fixture
def people(browser: Browser, live_server: Any) -> Iterator[People]:
    everyone = People(browser, str(live_server.url))
    yield everyone
    everyone.close()


@pytest.fixture
def journey_site(
    transactional_db: None,
    live_server: Any,
    host_pages: HostPages,
    calendar_settings: Any,
    settings: Any,
) -> Site:
    settings.SITE_URL = str(live_server.url)  # the redirect URI the providers send people back to
    settings.LEAD_GUARD_MIN_SECONDS = 0  # the test types its e-mail faster than people do
    site = Site.objects.create(
        name="Acme", allowed_origins=[host_pages.origin], appearance={"delay_ms": 20}
    )
    publish_dialogue(site, flow=meeting_flow())
    User.objects.create_user("maya@example.com", PASSWORD, name="Maya", role=Role.MARKETER)
    User.objects.create_user(
        "alex@example.com", PASSWORD, name="Alex Agent", role=Role.AGENT, time_zone="UTC"
    )
    User.objects.create_user(
        "sam@example.com", PASSWORD, name="Sam Rivera", role=Role.AGENT, time_zone="Europe/London"
    )
    return site


def connect_calendar(page: Page, button: str, consent_page: str, account: str) -> None:
    """On the Calendar page: the provider's button, its consent page, "Allow", and back."""
    calendar_page = page.url
    expect(page.get_by_role("heading", name="No calendar connected")).to_be_visible()
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(f"^{re.escape(consent_page)}\\?"))
    page.get_by_label("E-mail address").fill(account)
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(calendar_page)
    expect(page.get_by_text("Connected", exact=True)).to_be_visible()
    expect(page.get_by_text(account)).to_be_visible()


def chat(page: Page) -> FrameLocator:
    return page.frame_locator("iframe[title=Chat]")


def calendar_part(message: EmailMessage) -> str:
    """The text/calendar attachment of a sent e-mail, decoded ("" without one)."""
    for part in message.message().walk():
        if isinstance(part, Message) and part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return ""


@pytest.mark.timeout(180)
def test_agents_connect_their_calendars_and_a_visitor_books_one_of_them(
    people: People, host_pages: HostPages, journey_site: Site, calendar_sandbox: Any
) -> None:
    calendar_sandbox.auto_consent(None)  # the consent pages, with their e-mail field and "Allow"

    # Two agents connect their calendars: Alex Google Calendar, Sam Outlook.
    alex = people.sign_in("alex@example.com", "/calendar/")
    google_consent = f"{calendar_sandbox.google_base}/o/oauth2/v2/auth"
    connect_calendar(alex, "Connect Google Calendar", google_consent, ACCOUNTS["Alex Agent"])
    sam = people.sign_in("sam@example.com", "/calendar/")
    # Microsoft's sign-in page is where its OpenID configuration says (the sandbox's plain
    # listener: browsers meet no self-signed certificate there).
    microsoft_consent = f"{calendar_sandbox.google_base}/common/oauth2/v2.0/authorize"
    connect_calendar(sam, "Connect Outlook", microsoft_consent, ACCOUNTS["Sam Rivera"])
    assert sorted(
        CalendarConnection.objects.filter(status=ConnectionStatus.ACTIVE).values_list(
            "agent__name", "provider"
        )
    ) == [("Alex Agent", "google"), ("Sam Rivera", "microsoft")]

    # Both are in the rotation on the marketer's Routing page.
    maya = people.sign_in("maya@example.com", "/routing/")
    rows = maya.locator("tr.routing-member")
    expect(rows.locator(".routing-name")).to_have_text(["Alex Agent", "Sam Rivera"])
    expect(maya.locator("tr.routing-next")).to_contain_text("Alex Agent")

    # A visitor on the customer's site gives their e-mail and picks the first time offered.
    visitor = people.open(timezone_id=ZONE)
    visitor.add_init_script(RECORDER)
    traffic = Traffic().watch(visitor)
    visitor.goto(host_pages.url(journey_site.key))
    visitor.locator("[data-dynchat] button.l").click()
    frame = chat(visitor)
    type_answer(frame.get_by_label("Your e-mail?"), VISITOR)
    times = frame.get_by_role("group", name="Book a meeting")
    # Listing times asks both calendars (a first token refresh each, Microsoft's over TLS): on a
    # loaded machine that can take longer than expect's default 5 s.
    first_day = times.get_by_role("group", name="Days").get_by_role("button").first
    try:
        expect(frame.locator(".msg.visitor")).to_have_text([f"You: {VISITOR}"])
        expect(first_day).to_have_attribute("aria-pressed", "true", timeout=20_000)
    except AssertionError as failed:
        shown = frame.locator("body").inner_text()
        raise AssertionError(f"{failed}\nthe chat shows:\n{shown}\n{traffic.report()}") from None
    first_time = times.get_by_role("group", name=re.compile("^Times on ")).get_by_role("button")
    first_time.first.click()
    confirmation = frame.get_by_text(re.compile("^Booked: .+ with (Alex Agent|Sam Rivera)$"))
    expect(confirmation).to_be_visible(timeout=20_000)  # booking asks both calendars afresh
    expect(frame.get_by_role("link", name="Add to calendar")).to_be_visible()
    expect(frame.locator(".msg.bot").filter(has_text="See you then!")).to_be_visible()
    visitor.wait_for_function("window.dynchatEvents.some(e => e.name === 'meeting-booked')")

    meeting = Meeting.objects.select_related("agent").get()
    agent = meeting.agent
    assert meeting.status == MeetingStatus.UPCOMING
    assert (meeting.lead_email, meeting.visitor_time_zone) == (VISITOR, ZONE)
    expect(confirmation).to_have_text(re.compile(f" with {agent.name}$"))
    conversation = Conversation.objects.get()
    assert conversation.state == ConversationState.COMPLETED
    assert conversation.events.filter(kind=EventKind.BOOKED).count() == 1

    # The marketer sees it on the Meetings page, and so does its agent (the other one does not).
    when = meeting.starts_at.strftime("%Y-%m-%dT%H:%M")
    mine = alex if agent.name == "Alex Agent" else sam
    for page in (maya, mine):
        page.goto(f"{people.base}/meetings/")
        row = page.locator("tbody tr").filter(has_text=VISITOR)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(agent.name)
        expect(row).to_contain_text("Upcoming")
        expect(row.locator(f"time[datetime^='{when}']")).to_have_count(1)
    other = sam if agent.name == "Alex Agent" else alex
    other.goto(f"{people.base}/meetings/")
    expect(other.locator("tbody tr").filter(has_text=VISITOR)).to_have_count(0)

    # The event is in the agent's calendar (and only there), with the visitor invited.
    [event] = calendar_sandbox.events(ACCOUNTS[agent.name])
    assert (event["start"], event["end"]) == (meeting.starts_at, meeting.ends_at)
    assert VISITOR in str(event["attendees"])
    [other_account] = set(ACCOUNTS.values()) - {ACCOUNTS[agent.name]}
    assert calendar_sandbox.events(other_account) == []

    # Exactly one e-mail: the visitor's invitation, with the event as a METHOD:REQUEST .ics.
    [invitation] = mail.outbox
    assert invitation.to == [VISITOR]
    ics = calendar_part(invitation)
    assert "METHOD:REQUEST" in ics
    assert f"UID:{meeting.ics_uid}" in ics
    assert f"DTSTART:{meeting.starts_at:%Y%m%dT%H%M%SZ}" in ics
    assert people.errors == []
