"""What a site shows right now, cached: the hot path of every page view reads only this.

A ``LiveSite`` holds the site's key, origins, kill switch and its published dialogues compiled for
the decision. Each process keeps it in memory, checked at most once a second against the site's
generation number in Redis (one small GET, no unpickling, no recompiling of URL patterns).
Publishing, unpublishing or deleting a dialogue, or saving the site (origins, kill switch), bumps
the generation now and again on commit: this process reloads at once, every other within a second.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nh3
from django.core.cache import cache
from django.db import transaction

from dialogues.decision import Candidate
from dialogues.models import Dialogue
from dynchat.models import Site
from dynchat.ratelimit import counters

# A process trusts its copy this long without asking Redis (another process's publish shows
# within it; this process's own at once), and at most LOCAL_SECONDS even when the generation
# matches (Redis flushed).
CHECK_SECONDS = 1.0
LOCAL_SECONDS = 60
LOCAL_MAX = 10_000


@dataclass(slots=True)
class _Kept:
    generation: object
    loaded_at: float
    checked_at: float
    site: LiveSite | None


_local: dict[str, _Kept] = {}


@dataclass(frozen=True, slots=True)
class LiveSite:
    site_id: int
    key: str
    allowed_origins: frozenset[str]
    chat_enabled: bool
    candidates: tuple[Candidate, ...]
    require_consent: bool = False
    appearance: Mapping[str, Any] | None = None
    verify_identity: bool = False
    identity_secret: str = ""

    def allows(self, origin: str) -> bool:
        return origin in self.allowed_origins


def _generation_key(site_key: str) -> str:
    return cache.make_key(f"dialogues:live-generation:{site_key}")


def live_site(site_key: str) -> LiveSite | None:
    """The site with this key as the decision needs it, or None when no site has the key."""
    now = time.monotonic()
    kept = _local.get(site_key)
    if kept is not None and now - kept.checked_at < CHECK_SECONDS:
        return kept.site
    generation = counters().get(_generation_key(site_key))
    if kept is not None and kept.generation == generation and now - kept.loaded_at < LOCAL_SECONDS:
        kept.checked_at = now
        return kept.site
    loaded = load(site_key)
    if len(_local) >= LOCAL_MAX:
        _local.clear()
    _local[site_key] = _Kept(generation, now, now, loaded)
    return loaded


def load(site_key: str) -> LiveSite | None:
    site = Site.objects.filter(key=site_key).first()
    if site is None:
        return None
    candidates = tuple(
        Candidate.from_targeting(
            dialogue_id=dialogue.pk,
            version_id=version.pk,
            name=dialogue.name,
            priority=version.priority,
            targeting=version.targeting,
            poke=poke_text(version.flow),
        )
        for dialogue in Dialogue.objects.of_site(site).live()
        if (version := dialogue.live_version) is not None
    )
    return LiveSite(
        site_id=site.pk,
        key=site.key,
        allowed_origins=frozenset(site.allowed_origins),
        chat_enabled=site.chat_enabled,
        candidates=candidates,
        require_consent=site.require_consent,
        appearance=site.appearance,
        verify_identity=site.verify_identity,
        identity_secret=site.identity_secret,
    )


def forget(site_key: str) -> None:
    """Make every process reload the site: now, and again once the transaction commits.

    The second bump covers a page view that loaded the old state before the commit.
    """
    key = _generation_key(site_key)
    _local.pop(site_key, None)
    counters().incr(key)
    transaction.on_commit(lambda: (_local.pop(site_key, None), counters().incr(key)))


def poke_text(flow: Mapping[str, Any]) -> str | None:
    """The teaser next to the launcher: the first card's text as plain text, if it has text.

    Only the first card can poke (a message or a question); tokens stay for the caller to fill.
    """
    cards = flow.get("cards") or {}
    first = cards.get(flow.get("start")) or {}
    if first.get("type") not in ("message", "question"):
        return None
    text = html.unescape(nh3.clean(str(first.get("text") or ""), tags=set())).strip()
    return text[:200] or None
