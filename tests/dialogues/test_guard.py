"""The lead capture guard: bots dropped, bursts quarantined, one alert per incident (W-11)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from dialogues import guard
from dialogues.guard import Judgement, count_capture, judge, screen_capture
from dialogues.models import Conversation, SiteAlert, Visitor, default_targeting
from dialogues.services import create_dialogue, publish
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(seconds=30)
EMAIL_FLOW = {
    "version": 1,
    "start": "email",
    "cards": {
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": "Your e-mail?",
            "placeholder": "",
            "field": "email",
            "skip_if_known": False,
            "overwrite": False,
            "next": "bye",
        },
        "bye": {"type": "end"},
    },
}


def judged(honeypot: str = "", seconds: float = 30, recent: int = 1, limit: int = 200) -> Judgement:
    return judge(
        honeypot=honeypot,
        elapsed=timedelta(seconds=seconds),
        recent_captures=recent,
        min_seconds=1.5,
        burst_limit=limit,
    )


def test_a_person_typing_an_e_mail_is_accepted() -> None:
    assert judged() == Judgement("accept", "")


def test_a_filled_honeypot_is_dropped() -> None:
    assert judged(honeypot="https://spam.example") == Judgement("drop", "honeypot")


@pytest.mark.parametrize("seconds", [0, 0.5, 1.499])
def test_an_e_mail_sooner_than_a_person_can_type_is_dropped(seconds: float) -> None:
    assert judged(seconds=seconds) == Judgement("drop", "too_fast")


def test_an_e_mail_at_the_minimum_delay_is_a_persons() -> None:
    assert judged(seconds=1.5).verdict == "accept"


def test_the_limit_itself_is_accepted_and_the_next_capture_quarantined() -> None:
    assert judged(recent=200).verdict == "accept"
    assert judged(recent=201) == Judgement("quarantine", "burst")


def test_a_bot_is_dropped_even_during_a_burst() -> None:
    assert judged(honeypot="x", recent=5000).verdict == "drop"


def test_captures_are_counted_per_site_within_the_window(db: None) -> None:
    counts = [count_capture(1, now=T0 + timedelta(seconds=i), limit=200) for i in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    assert count_capture(2, now=T0, limit=200) == 1


@override_settings(LEAD_BURST_WINDOW_SECONDS=600)
def test_captures_older_than_the_window_no_longer_count(db: None) -> None:
    for minute in range(5):
        count_capture(1, now=T0 + timedelta(minutes=minute), limit=200)
    # At 10:12:30, only the captures of 10:03 and 10:04 are within the last ten minutes.
    assert count_capture(1, now=T0 + timedelta(minutes=12, seconds=30), limit=200) == 3


def test_a_long_burst_stays_over_the_limit_while_memory_stays_bounded(db: None) -> None:
    counts = [count_capture(1, now=T0 + timedelta(seconds=i), limit=3) for i in range(50)]
    assert counts[:3] == [1, 2, 3]
    assert set(counts[3:]) == {4}  # over the limit, and only limit + 1 entries kept


@pytest.fixture
def conversation(site: Site) -> Conversation:
    dialogue = create_dialogue(
        site=site,
        name="Capture",
        flow=EMAIL_FLOW,
        targeting={**default_targeting(), "include": [f"{ALLOWED_ORIGIN}/*"]},
    )
    version = publish(dialogue)
    visitor = Visitor.objects.create(site=site, key="v" * 20)
    return Conversation.objects.create(
        visitor=visitor, dialogue=dialogue, version=version, card="email", started_at=T0
    )


def screen(conversation: Conversation, *, honeypot: str = "", now: datetime = LATER) -> str:
    return screen_capture(
        site_id=conversation.dialogue.site_id,
        conversation=conversation,
        honeypot=honeypot,
        now=now,
    )


def test_dropping_a_bot_is_logged_as_anti_automation_without_the_e_mail(
    conversation: Conversation, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="dynchat.security"):
        assert screen(conversation, honeypot="filled") == "drop"
        assert screen(conversation, now=T0 + timedelta(seconds=1)) == "drop"
    records = [r for r in caplog.records if r.name == "dynchat.security"]
    assert ["honeypot" in r.getMessage() for r in records] == [True, False]
    assert "too_fast" in records[1].getMessage()
    for record in records:
        message = record.getMessage()
        assert "anti-automation" in message
        assert f"conversation={conversation.pk}" in message
        assert f"site={conversation.dialogue.site_id}" in message
        assert "jane" not in message


@override_settings(LEAD_BURST_LIMIT=3)
def test_dropped_bots_do_not_count_towards_a_burst(conversation: Conversation) -> None:
    for _ in range(10):
        screen(conversation, honeypot="filled")
    assert [screen(conversation) for _ in range(4)] == ["accept"] * 3 + ["quarantine"]


@override_settings(LEAD_BURST_LIMIT=3)
def test_a_burst_quarantines_leads_and_alerts_the_site_once(
    conversation: Conversation, caplog: pytest.LogCaptureFixture
) -> None:
    verdicts = [screen(conversation) for _ in range(8)]
    assert verdicts == ["accept"] * 3 + ["quarantine"] * 5
    alert = SiteAlert.objects.get()
    assert alert.site_id == conversation.dialogue.site_id
    assert alert.kind == SiteAlert.Kind.LEAD_BURST
    assert alert.resolved_at is None
    assert "More than 3 leads" in alert.message
    assert "not sent to Marketo" in alert.message
    assert "quarantined" in caplog.text


@override_settings(LEAD_BURST_LIMIT=3)
def test_a_new_burst_after_the_alert_was_resolved_alerts_again(
    conversation: Conversation,
) -> None:
    for _ in range(5):
        screen(conversation)
    SiteAlert.objects.update(resolved_at=LATER)
    later = LATER + timedelta(hours=1)
    assert [screen(conversation, now=later) for _ in range(4)][-1] == "quarantine"
    assert SiteAlert.objects.count() == 2
    assert SiteAlert.objects.filter(resolved_at=None).count() == 1


@override_settings(LEAD_BURST_LIMIT=3)
def test_a_burst_on_one_site_leaves_other_sites_alone(conversation: Conversation) -> None:
    for _ in range(5):
        screen(conversation)
    other = Site.objects.create(name="Site B", allowed_origins=["https://b.example"])
    verdict = guard.screen_capture(
        site_id=other.pk,
        conversation=conversation,
        honeypot="",
        now=LATER,
    )
    assert verdict == "accept"
    assert list(SiteAlert.objects.values_list("site_id", flat=True)) == [
        conversation.dialogue.site_id
    ]
