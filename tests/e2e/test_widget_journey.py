"""The visitor's journey through the real loader and chat frame, on a customer's page of another
origin: trigger, open, every card type, reload, another page, completion; then the database."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from dialogues.models import Conversation, ConversationState, EventKind, Visitor
from dynchat.models import Site
from sync.models import AttributeObject, MarketoLead, OutboxKind, OutboxMessage, SyncedAttribute
from tests.e2e.chat import Trouble, publish_flow
from tests.e2e.conftest import HostPages

pytestmark = pytest.mark.browser

EMAIL = "ada@example.com"


def capture(card_input: str, field: str, prompt: str, next: str, **extra: Any) -> dict[str, Any]:
    return {"type": "capture", "input": card_input, "prompt": prompt, "field": field,
            "next": next, **extra}  # fmt: skip


# Every card type: message, question, capture (text, e-mail, phone, picklist), branch, meeting,
# goal, end.
FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": 'Hi {{lead.firstName:"there"}}! <b>Welcome</b>.',
                  "next": "why"},
        "why": {"type": "question", "text": "What brings you here?", "field": None, "answers": [
            {"id": "pricing", "label": "Pricing", "value": "pricing", "next": "name"},
            {"id": "demo", "label": "A demo", "value": "demo", "next": "name"},
        ]},
        "name": capture("text", "firstName", "What is your first name?", "thanks",
                        placeholder="First name"),
        "thanks": {"type": "message", "text": 'Nice to meet you, {{lead.firstName:"friend"}}.',
                   "next": "email"},
        "email": capture("email", "email", "Your <i>work</i> e-mail?", "phone"),
        "phone": capture("phone", "phone", "And a phone number?", "size"),
        "size": capture("picklist", "teamSize", "How large is your team?", "route",
                        options=["1-10", "11-50", "51+"]),
        "route": {"type": "branch", "rules": [{"match": "all", "conditions": [
            {"attribute": "lead.teamSize", "operator": "is", "value": "11-50"}], "next": "meet"}],
            "otherwise": "bye"},
        "meet": {"type": "meeting", "routing": "round_robin", "agent": None,
                 "text": "Shall we find a time?", "next": "goal"},
        "goal": {"type": "goal", "goal": "Qualified", "next": "bye"},
        "bye": {"type": "message", "text": "Thanks, we will be in touch.", "next": "end"},
        "end": {"type": "end"},
    },
}  # fmt: skip


@pytest.fixture
def journey_site(transactional_db: None, host_pages: HostPages, settings: Any) -> Site:
    # The lead guard drops e-mails typed within 1.5 s of the start: a test types faster.
    settings.LEAD_GUARD_MIN_SECONDS = 0
    for name in ("phone", "teamSize"):
        SyncedAttribute.objects.create(
            object=AttributeObject.PERSON, name=name, display_name=name, data_type="string"
        )
    site = Site.objects.create(
        name="Acme",
        allowed_origins=[host_pages.origin],
        appearance={"bot_name": "Acme Bot", "delay_ms": 50},
    )
    publish_flow(site, FLOW, host_pages.origin)
    return site


def chat(page: Page) -> FrameLocator:
    return page.frame_locator("iframe[title=Chat]")


def bot_says(frame: FrameLocator, text: str) -> None:
    expect(frame.locator(".msg.bot").filter(has_text=text).last).to_be_visible()


def answer_field(frame: FrameLocator, label: str, value: str) -> None:
    field = frame.get_by_label(label)
    expect(field).to_be_focused()
    field.fill(value)
    field.press("Enter")


def test_a_visitor_goes_through_a_whole_dialogue_across_pages(
    page: Page, host_pages: HostPages, journey_site: Site
) -> None:
    trouble = Trouble().watch(page)
    page.add_init_script(
        "window.heard = [];"
        "for (const name of ['triggered', 'engaged', 'email-captured', 'completed'])"
        "  document.addEventListener('dynchat:' + name, () => window.heard.push(name));"
    )
    MarketoLead.objects.create(id=7001, email=EMAIL, first_name="Ada")

    page.goto(host_pages.url(journey_site.key))
    page.wait_for_function("window.heard.includes('triggered')")
    page.get_by_role("button", name="Open chat").click()
    frame = chat(page)
    bot_says(frame, "Hi there! Welcome.")
    expect(frame.locator(".msg.bot b")).to_have_text("Welcome")
    bot_says(frame, "What brings you here?")
    pricing = frame.get_by_role("button", name="Pricing")
    expect(pricing).to_be_focused()
    pricing.press("Enter")  # keyboard only
    expect(frame.locator(".msg.visitor").last).to_have_text("You: Pricing")

    bot_says(frame, "What is your first name?")
    answer_field(frame, "What is your first name?", "Ada")
    bot_says(frame, "Nice to meet you, Ada.")

    bot_says(frame, "Your work e-mail?")
    answer_field(frame, "Your work e-mail?", "not an address")
    expect(frame.locator("#answer-error")).to_have_text("Enter a valid e-mail address.")
    answer_field(frame, "Your work e-mail?", EMAIL)
    bot_says(frame, "And a phone number?")
    page.wait_for_function("window.heard.includes('email-captured')")
    assert page.evaluate("window.heard") == ["triggered", "engaged", "email-captured"]

    # A reload in the middle: the same conversation, its transcript shown again.
    page.reload()
    frame = chat(page)
    bot_says(frame, "And a phone number?")
    expect(frame.locator(".msg.visitor")).to_have_text(
        ["You: Pricing", "You: Ada", f"You: {EMAIL}"]
    )
    # Escape closes the panel and the launcher takes the focus; opening again, the focus returns
    # to the field awaiting an answer.
    frame.get_by_label("And a phone number?").press("Escape")
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_focused()
    launcher.press("Enter")
    answer_field(frame, "And a phone number?", "+44 20 7946 0000")
    bot_says(frame, "How large is your team?")

    # Another page of the site: the panel reopens where the visitor was, without taking the
    # focus from the page that is loading (a keyboard or screen-reader user starts on the page).
    page.goto(host_pages.url(journey_site.key, "/pricing"))
    frame = chat(page)
    bot_says(frame, "How large is your team?")
    picklist = frame.get_by_label("How large is your team?")
    expect(picklist).not_to_be_focused()
    assert page.evaluate("document.activeElement === document.body")
    picklist.select_option("11-50")
    frame.get_by_role("button", name="Send").click()

    bot_says(frame, "Shall we find a time?")
    expect(frame.get_by_text("No times are free right now.")).to_be_visible()
    frame.get_by_role("button", name="Skip").click()
    bot_says(frame, "Thanks, we will be in touch.")
    expect(frame.get_by_text("This conversation has ended.")).to_be_visible()
    expect(frame.locator("#controls button, #controls input")).to_have_count(0)
    page.wait_for_function("window.heard.includes('completed')")

    conversation = Conversation.objects.get()
    assert conversation.state == ConversationState.COMPLETED
    events = list(conversation.events.order_by("pk").values_list("kind", "card", "value"))
    kinds = [kind for kind, _, _ in events]
    assert kinds[0] == EventKind.TRIGGERED
    assert EventKind.OPENED in kinds
    assert EventKind.CLOSED in kinds
    interactions = [event for event in events if event[0] not in ("opened", "closed")]
    assert interactions[1:] == [
        (EventKind.ANSWER, "why", "pricing"),
        (EventKind.CAPTURE, "name", "Ada"),
        (EventKind.CAPTURE, "email", EMAIL),
        (EventKind.CAPTURE, "phone", "+44 20 7946 0000"),
        (EventKind.CAPTURE, "size", "11-50"),
        (EventKind.DECLINED, "meet", ""),
        (EventKind.GOAL, "goal", "Qualified"),
        (EventKind.COMPLETED, "", ""),
    ]
    visitor = Visitor.objects.get()
    assert visitor.email == EMAIL
    assert visitor.lead_id == 7001  # identity resolution linked the known lead
    assert visitor.fields == {"firstName": "Ada", "phone": "+44 20 7946 0000", "teamSize": "11-50"}
    pushed = OutboxMessage.objects.filter(kind=OutboxKind.PUSH_LEAD).last()
    assert pushed is not None
    assert pushed.payload["fields"]["teamSize"] == "11-50"
    assert page.evaluate("window.heard") == ["completed"]  # this page's DOM events
    assert trouble.dialogs == []
    assert trouble.errors == []
    assert trouble.csp_violations == []
