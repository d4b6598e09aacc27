"""What a site shows right now, cached: the hot path of every page view reads only this.

A ``LiveSite`` holds the site's key, origins, kill switch and its published dialogues compiled for
the decision. It is cached per site key until something changes it: publishing, unpublishing or
deleting a dialogue, or saving the site (origins, kill switch); those forget it on commit.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nh3
from django.core.cache import cache
from django.db import transaction

from dialogues.decision import Candidate
from dialogues.models import Dialogue
from dynchat.models import Site

TIMEOUT = 24 * 3600
MISSING_TIMEOUT = 60
_MISSING = "missing"


@dataclass(frozen=True, slots=True)
class LiveSite:
    site_id: int
    key: str
    allowed_origins: frozenset[str]
    chat_enabled: bool
    candidates: tuple[Candidate, ...]

    def allows(self, origin: str) -> bool:
        return origin in self.allowed_origins


def _cache_key(site_key: str) -> str:
    return f"dialogues:live:{site_key}"


def live_site(site_key: str) -> LiveSite | None:
    """The site with this key as the decision needs it, or None when no site has the key."""
    cached = cache.get(_cache_key(site_key))
    if cached == _MISSING:
        return None
    if isinstance(cached, LiveSite):
        return cached
    loaded = load(site_key)
    if loaded is None:
        cache.set(_cache_key(site_key), _MISSING, MISSING_TIMEOUT)
    else:
        cache.set(_cache_key(site_key), loaded, TIMEOUT)
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
    )


def forget(site_key: str) -> None:
    """Drop the cached site now and again once the current transaction commits.

    The second delete covers a page view that cached the old state before the commit.
    """
    key = _cache_key(site_key)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


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
