"""The demo's dialogues: the three templates published on the demo site, once."""

from __future__ import annotations

import pytest

from dialogues import demo
from dialogues.models import Dialogue, DialogueStatus
from dynchat.demo import SITE_NAME
from dynchat.models import Site

pytestmark = pytest.mark.django_db


def test_the_demo_site_gets_three_published_dialogues_once() -> None:
    site = Site.objects.create(name=SITE_NAME, allowed_origins=["http://127.0.0.1:8001"])
    summary = demo.load_demo()
    assert "Capture email" in summary["dialogues"]
    dialogues = list(Dialogue.objects.of_site(site).order_by("priority"))
    assert [(d.name, d.priority, d.status) for d in dialogues] == [
        ("Qualify and book a demo", 1, DialogueStatus.PUBLISHED),
        ("Capture email", 2, DialogueStatus.PUBLISHED),
        ("Anonymous visitor welcome", 3, DialogueStatus.PUBLISHED),
    ]
    assert dialogues[0].targeting["include"] == [
        "http://127.0.0.1:8001/pricing*",
        "http://127.0.0.1:8001/demo*",
    ]
    assert dialogues[1].targeting["include"] == ["http://127.0.0.1:8001/*"]
    assert demo.load_demo() == {}
    assert Dialogue.objects.count() == 3


def test_without_the_demo_site_nothing_is_created() -> None:
    Site.objects.create(name="Another site", allowed_origins=["https://a.example"])
    assert demo.load_demo() == {}
    assert not Dialogue.objects.exists()
