"""Test as visitor: the decision a page and a lead would get now, and why the others did not."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from dialogues import explain, library, services
from dialogues.models import Dialogue
from dynchat.models import Site
from sync.models import MarketoLead
from tests.conftest import ALLOWED_ORIGIN


def published(site: Site, key: str, priority: int) -> Dialogue:
    template = library.TEMPLATES[key]
    dialogue = services.create_dialogue(
        site=site,
        name=template.name,
        priority=priority,
        flow=template.flow,
        targeting=template.targeting(site.allowed_origins),
    )
    services.publish(dialogue)
    return dialogue


def test_an_anonymous_visitor_on_pricing_gets_the_highest_priority_dialogue(site: Site) -> None:
    qualify = published(site, "qualify", 1)
    published(site, "welcome", 3)
    result = explain.test_as_visitor(site=site, url=f"{ALLOWED_ORIGIN}/pricing", lead=None)
    assert (result.decision.outcome, result.decision.dialogue_id) == ("show", qualify.pk)
    assert result.version is not None
    assert result.version.number == 1
    [rejection] = result.decision.rejected
    assert rejection.name == "Anonymous visitor welcome"
    assert "higher priority" in rejection.reason


def test_a_known_lead_is_not_in_the_anonymous_audience(site: Site) -> None:
    published(site, "welcome", 3)
    lead = MarketoLead.objects.create(id=7, email="ada@example.com", first_name="Ada")
    result = explain.test_as_visitor(site=site, url=f"{ALLOWED_ORIGIN}/blog", lead=lead)
    assert result.decision.outcome == "none"
    assert result.facts["lead.firstName"] == "Ada"
    assert "not in its audience" in result.decision.rejected[0].reason


def test_the_tab_shows_the_decision_and_every_rejection(agent_client: Client, site: Site) -> None:
    qualify = published(site, "qualify", 1)
    published(site, "capture_email", 2)
    MarketoLead.objects.create(id=8, email="grace@example.com")
    url = reverse("dialogues:test", args=[qualify.pk])
    html = agent_client.get(
        url, {"url": f"{ALLOWED_ORIGIN}/blog", "lead": "GRACE@example.com"}
    ).content.decode()
    assert "Shows “Capture email” version 1" in html
    assert "Qualify and book a demo</strong>: The page matches none of its target pages." in html
    assert "grace@example.com" in html


def test_an_unknown_email_is_refused_with_suggestions(marketer_client: Client, site: Site) -> None:
    dialogue = published(site, "capture_email", 1)
    MarketoLead.objects.create(id=9, email="grace.hopper@example.com")
    html = marketer_client.get(
        reverse("dialogues:test", args=[dialogue.pk]),
        {"url": f"{ALLOWED_ORIGIN}/", "lead": "hopper"},
    ).content.decode()
    assert "No synced lead has this email." in html
    assert "grace.hopper@example.com" in html
    assert "Shows" not in html


def test_the_kill_switch_rejects_everything(marketer_client: Client, site: Site) -> None:
    dialogue = published(site, "capture_email", 1)
    site.set_chat_enabled(False)
    html = marketer_client.get(
        reverse("dialogues:test", args=[dialogue.pk]), {"url": f"{ALLOWED_ORIGIN}/"}
    ).content.decode()
    assert "No dialogue shows" in html
    assert "Chat is switched off" in html
