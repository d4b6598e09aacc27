"""The published dialogues each process keeps in memory: what another process's publish costs."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from dialogues import live, services
from dialogues.models import Dialogue
from dynchat.models import Site
from dynchat.ratelimit import counters
from tests.dialogues.factories import new_dialogue


def publish_elsewhere(dialogue: Dialogue) -> None:
    """Publish as another process would: the database and Redis change, not this memory."""
    kept = dict(live._local)
    services.publish(dialogue)
    live._local.clear()
    live._local.update(kept)


def test_another_processes_publish_shows_once_the_copy_is_checked_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue = new_dialogue(site)
    assert live.live_site(site.key).candidates == ()  # type: ignore[union-attr]
    publish_elsewhere(dialogue)
    assert live.live_site(site.key).candidates == ()  # type: ignore[union-attr]  # within 1 s
    monkeypatch.setattr(live, "CHECK_SECONDS", 0)
    shown = live.live_site(site.key)
    assert [c.dialogue_id for c in shown.candidates] == [dialogue.pk]  # type: ignore[union-attr]


def test_a_copy_whose_generation_still_matches_is_not_reloaded(
    site: Site, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    monkeypatch.setattr(live, "CHECK_SECONDS", 0)
    live.live_site(site.key)
    with django_assert_num_queries(0):
        live.live_site(site.key)
    counters().incr(live._generation_key(site.key))
    with django_assert_num_queries(2):
        live.live_site(site.key)
