"""The report counters as the widget moves them: every §18 resolution case replayed through the
widget API checking every counter (triggered, engaged, completed, captured, meetings, goals by
name, known/anonymous, pages without query strings, cards reached/answered); e-mails, goals,
bookings; and `rebuild_reports` counting the same from the events."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dialogues import reports, services
from dialogues.booking import record_booking
from dialogues.counting import page_of
from dialogues.models import Dialogue, DialogueVersion
from dialogues.report_models import DailyCard, DailyGoal, DailyMetric, DailyPage
from dialogues.reports import Totals
from dynchat.models import Site
from tests.calendars.factories import connected_agent
from tests.dialogues.test_resolution import WP1, WP2, Widget, flow, published
from tests.widget.booking import CARD, at_meeting_card, get_slots, post_booking, published_meeting

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Counted:
    """Everything reports count for one dialogue today."""

    anonymous: Totals = field(default_factory=Totals)
    known: Totals = field(default_factory=Totals)
    goals: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    cards: dict[str, tuple[int, int]] = field(default_factory=dict)  # of the live version


def counted(dialogue: Dialogue, version: DialogueVersion | None = None) -> Counted:
    today = timezone.now().date()
    span: dict[str, Any] = {"dialogue": dialogue, "start": today, "end": today}
    site = dialogue.site
    version = version or dialogue.versions.order_by("number").first()
    return Counted(
        anonymous=reports.totals(site, audience="anonymous", **span),
        known=reports.totals(site, audience="known", **span),
        goals=dict(reports.goals_reached(site, **span)),
        pages=dict(reports.top_pages(site, **span)),
        cards=reports.drop_off(version) if version else {},
    )


def shown(triggered: int = 1, engaged: int = 0, completed: int = 0, **more: int) -> Totals:
    return Totals(triggered=triggered, engaged=engaged, completed=completed, **more)


TRIGGERED = Counted(anonymous=shown(), pages={WP1: 1}, cards={"q1": (1, 0)})
ENGAGED = Counted(anonymous=shown(engaged=1), pages={WP1: 1}, cards={"q1": (1, 1), "q2": (1, 0)})
COMPLETED = Counted(
    anonymous=shown(engaged=1, completed=1), pages={WP1: 1}, cards={"q1": (1, 1), "q2": (1, 1)}
)
SAID_NO = Counted(anonymous=shown(engaged=1, completed=1), pages={WP1: 1}, cards={"q1": (1, 1)})
NOTHING = Counted()


@pytest.fixture
def widget(client: Client, site: Site) -> Widget:
    return Widget(client, site)


# The resolution cases (§18), every counter each time


def test_a_visit_triggers_once_and_a_refresh_counts_nothing(widget: Widget, site: Site) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    assert counted(d1) == TRIGGERED
    widget.view(WP1)
    widget.show(WP1)
    assert counted(d1) == TRIGGERED


def test_opening_counts_nothing_the_first_answer_engages_and_a_resume_counts_nothing(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    widget.send({"type": "opened"}, {"type": "closed"})
    assert counted(d1) == TRIGGERED
    widget.answer("q1", "yes")
    assert counted(d1) == ENGAGED
    widget.show(WP1)
    assert counted(d1) == ENGAGED


def test_completing_counts_once_and_the_next_dialogue_resolved_counts_nothing_yet(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    widget.answer("q1", "yes")
    widget.answer("q2", "ok")
    assert counted(d1) == COMPLETED
    d2 = published(site, "D2", [WP1], priority=2)
    widget.view(WP1)
    assert (counted(d1), counted(d2)) == (COMPLETED, NOTHING)


def test_an_engaged_dialogue_continued_on_a_second_page_counts_nothing_there(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1, WP2])
    widget.show(WP1)
    widget.answer("q1", "yes")
    widget.view(WP2)
    widget.show(WP2)
    assert counted(d1) == ENGAGED  # the page is the one it was triggered on


def test_engaged_in_d1_on_d2s_page_d2_counts_nothing(widget: Widget, site: Site) -> None:
    d1 = published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP2])
    widget.show(WP1)
    widget.answer("q1", "yes")
    widget.show(WP2)
    assert (counted(d1), counted(d2)) == (ENGAGED, NOTHING)


def test_not_engaged_in_d1_d2_triggers_on_its_own_page(widget: Widget, site: Site) -> None:
    d1 = published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP2])
    widget.show(WP1)
    widget.show(WP2)
    assert counted(d1) == TRIGGERED
    assert counted(d2) == Counted(anonymous=shown(), pages={WP2: 1}, cards={"q1": (1, 0)})


def test_completed_d1_d2_triggers_on_its_page(widget: Widget, site: Site) -> None:
    d1 = published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP2])
    widget.show(WP1)
    widget.answer("q1", "no")
    widget.show(WP2)
    assert counted(d1) == SAID_NO
    assert counted(d2) == Counted(anonymous=shown(), pages={WP2: 1}, cards={"q1": (1, 0)})


def test_unpublished_before_engaging_the_lower_priority_one_triggers(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    services.unpublish(d1)
    widget.view(WP1)
    d2 = published(site, "D2", [WP1], priority=2)
    widget.show(WP1)
    assert (counted(d1), counted(d2)) == (TRIGGERED, TRIGGERED)


def test_unpublished_after_engaging_the_dialogue_continues_and_completes_once(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    widget.answer("q1", "yes")
    services.unpublish(d1)
    widget.show(WP1)
    widget.answer("q2", "ok")
    assert counted(d1) == COMPLETED


def test_republished_the_waiting_move_to_the_new_version_without_a_new_trigger(
    client: Client, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    old = d1.versions.get()
    engaged = Widget(client, site, visitor="visitor-engaged-000000")
    engaged.show(WP1)
    engaged.answer("q1", "yes")
    waiting = Widget(client, site, visitor="visitor-waiting-000000")
    waiting.show(WP1)
    services.save_flow(d1, flow("Hello, new version!"))
    new = services.publish(d1)
    waiting.show(WP1)
    engaged.show(WP1)
    assert counted(d1, old) == Counted(
        anonymous=shown(triggered=2, engaged=1),
        pages={WP1: 2},
        cards={"q1": (2, 1), "q2": (1, 0)},
    )
    assert counted(d1, new).cards == {"q1": (1, 0)}  # the waiting visitor, now on the new one


def test_completed_dialogues_count_once_and_never_again_when_republished(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP1], priority=2)
    for _ in (d1, d2):
        widget.show(WP1)
        widget.answer("q1", "no")
    for dialogue in (d1, d2):
        services.save_flow(dialogue, flow("Changed"))
        services.publish(dialogue)
    widget.view(WP1)
    assert (counted(d1), counted(d2)) == (SAID_NO, SAID_NO)


def test_an_event_trigger_counts_when_met_not_when_resolved_nor_on_return(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1], trigger={"kind": "time_on_site", "amount": 30})
    widget.view(WP1)
    assert counted(d1) == NOTHING
    widget.show(WP1)
    assert counted(d1) == TRIGGERED
    widget.view(WP1)
    assert counted(d1) == TRIGGERED


# E-mails, goals and known visitors

LEAD_FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hi",
    "cards": {
        "hi": {"type": "message", "text": "Hi!", "next": "q1"},
        "q1": {
            "type": "question",
            "text": "Shall we talk?",
            "answers": [
                {"id": "yes", "label": "Yes", "value": "yes", "next": "keen"},
                {"id": "no", "label": "No", "value": "no", "next": "end"},
            ],
        },
        "keen": {"type": "goal", "goal": "Interested", "next": "email"},
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": "Your e-mail?",
            "placeholder": "you@example.com",
            "field": "email",
            "skip_if_known": False,
            "overwrite": True,
            "next": "lead",
        },
        "lead": {"type": "goal", "goal": "Lead", "next": "end"},
        "end": {"type": "end"},
    },
}


def lead_dialogue(site: Site, name: str, page: str, priority: int = 1) -> Dialogue:
    dialogue = services.create_dialogue(
        site=site,
        name=name,
        priority=priority,
        flow=LEAD_FLOW,
        targeting={
            "include": [page],
            "exclude": [],
            "audience": [],
            "trigger": {"kind": "immediately", "amount": 0},
        },
    )
    services.publish(dialogue)
    return dialogue


@pytest.fixture
def no_speed_check(settings: Any) -> None:
    settings.LEAD_GUARD_MIN_SECONDS = 0


@pytest.mark.usefixtures("no_speed_check")
def test_an_email_counts_captured_where_the_visitor_was_and_what_follows_as_known(
    widget: Widget, site: Site
) -> None:
    d1 = lead_dialogue(site, "D1", WP1)
    widget.show(f"{WP1}?utm_source=ad&email=someone@example.com#top")
    widget.answer("q1", "yes")
    widget.send({"type": "capture", "card": "email", "value": "ada@example.com"})
    assert counted(d1) == Counted(
        anonymous=shown(engaged=1, captured=1, goals=1),
        known=Totals(completed=1, goals=1),
        goals={"Interested": 1, "Lead": 1},
        pages={WP1: 1},
        cards={"q1": (1, 1), "email": (1, 1)},
    )
    today = timezone.now().date()
    known_goals = reports.goals_reached(site, start=today, end=today, audience="known")
    assert known_goals == [("Lead", 1)]
    # Known now: their next dialogue counts as a known visitor's.
    d2 = lead_dialogue(site, "D2", WP2)
    widget.show(WP2)
    assert counted(d2) == Counted(known=shown(), pages={WP2: 1}, cards={"q1": (1, 0)})


@pytest.mark.usefixtures("no_speed_check")
def test_a_second_email_in_the_same_conversation_is_not_a_second_capture(
    widget: Widget, site: Site
) -> None:
    looping = {
        **LEAD_FLOW,
        "cards": {**LEAD_FLOW["cards"], "lead": {"type": "goal", "goal": "Lead", "next": "q1"}},
    }
    dialogue = lead_dialogue(site, "D1", WP1)
    services.save_flow(dialogue, looping)
    services.publish(dialogue)
    widget.show(WP1)
    widget.answer("q1", "yes")
    widget.send({"type": "capture", "card": "email", "value": "ada@example.com"})
    widget.answer("q1", "yes")
    widget.send({"type": "capture", "card": "email", "value": "ada.l@example.com"})
    live = dialogue.versions.order_by("-number").first()
    got = counted(dialogue, live)
    assert (got.anonymous.captured, got.known.captured) == (1, 0)
    assert got.goals == {"Interested": 1, "Lead": 1}  # each goal once a conversation
    assert got.cards == {"q1": (3, 2), "email": (2, 2)}


def test_a_bots_capture_is_answered_but_not_captured(widget: Widget, site: Site) -> None:
    dialogue = lead_dialogue(site, "D1", WP1)
    widget.show(WP1)
    widget.answer("q1", "yes")
    widget.send({"type": "capture", "card": "email", "value": "bot@example.com", "hp": "x"})
    got = counted(dialogue)
    assert got.anonymous == shown(engaged=1, completed=1, goals=2)
    assert got.cards == {"q1": (1, 1), "email": (1, 1)}


def test_pages_are_kept_without_query_string_fragment_or_credentials() -> None:
    assert page_of("https://a.example/p?x=1#y") == "https://a.example/p"
    assert page_of("https://user:secret@a.example/p") == "https://a.example/p"
    assert len(page_of("https://a.example/" + "x" * 2000)) == 512


# Meetings


def test_a_booking_counts_a_meeting_for_a_known_visitor(site: Site) -> None:
    version = published_meeting(site)
    waiting = at_meeting_card(version, "booking-visitor-0001")
    record_booking(waiting, CARD, 42)
    got = counted(version.dialogue, version)
    assert got.known == Totals(completed=1, meetings=1)
    assert got.anonymous == Totals()
    assert got.cards == {CARD: (0, 1)}  # reached before the counters began: answered only


def test_a_meeting_booked_through_the_widget_counts_once_and_its_replay_not_again(
    client: Client, site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    connected_agent(calendar_sandbox, "alex@example.com", name="Alex", notice_minutes=60)
    version = published_meeting(site)
    waiting = at_meeting_card(version, "booking-visitor-0002")
    slots = get_slots(client, waiting)
    assert slots.status_code == 200, slots.content
    start = slots.json()["slots"][0]["start"]
    assert post_booking(client, waiting, start, key="count-once-0001").status_code == 201
    assert post_booking(client, waiting, start, key="count-once-0001").status_code == 200
    got = counted(version.dialogue, version)
    assert got.known == Totals(completed=1, meetings=1)
    assert got.cards == {CARD: (0, 1)}


# Recounting from the events


@pytest.mark.usefixtures("no_speed_check")
def test_rebuild_reports_recounts_the_same_from_the_events_and_again_changes_nothing(
    client: Client, site: Site
) -> None:
    d1 = lead_dialogue(site, "D1", WP1)
    d2 = published(site, "D2", [WP2])
    first = Widget(client, site, visitor="visitor-first-00000000")
    first.show(f"{WP1}?a=1")
    first.answer("q1", "yes")
    first.send({"type": "capture", "card": "email", "value": "ada@example.com"})
    first.show(WP2)
    first.answer("q1", "yes")
    second = Widget(client, site, visitor="visitor-second-0000000")
    second.show(WP1)
    second.answer("q1", "no")
    before = [counted(d1), counted(d2)]
    DailyMetric.objects.all().delete()
    DailyGoal.objects.all().delete()
    DailyPage.objects.all().delete()
    DailyCard.objects.update(reached=99)
    out = StringIO()
    call_command("rebuild_reports", stdout=out)
    assert [counted(d1), counted(d2)] == before
    call_command("rebuild_reports", stdout=out)
    assert [counted(d1), counted(d2)] == before
    assert "Recounted" in out.getvalue()
