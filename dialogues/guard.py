"""Bot and spam checks on e-mails captured in chat, before anything reaches Marketo (TESTPLAN W-11).

A capture is *dropped* when a bot gives itself away (the hidden honeypot field is filled, or the
e-mail came faster after the conversation started than a person can read and type); the client is
answered as if all went well, so the bot learns nothing. Past that, every capture counts in a
per-site sliding window kept in Redis: beyond ``LEAD_BURST_LIMIT`` captures within
``LEAD_BURST_WINDOW_SECONDS`` the site is under a burst, and further leads are *quarantined* (kept,
never pushed to Marketo) and the site's marketers get one open alert.
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from django.conf import settings
from django.core.cache import cache

from dialogues.models import Conversation, SiteAlert
from dynchat.ratelimit import counters

log = logging.getLogger("dynchat.security")

Verdict = Literal["accept", "drop", "quarantine"]


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str  # "" when accepted


def judge(
    *,
    honeypot: str,
    elapsed: timedelta,
    recent_captures: int,
    min_seconds: float,
    burst_limit: int,
) -> Judgement:
    """Decide on one capture from plain facts.

    ``elapsed`` is the time since the conversation started; ``recent_captures`` counts the site's
    captures within the burst window, this one included.
    """
    if honeypot:
        return Judgement("drop", "honeypot")
    if elapsed < timedelta(seconds=min_seconds):
        return Judgement("drop", "too_fast")
    if recent_captures > burst_limit:
        return Judgement("quarantine", "burst")
    return Judgement("accept", "")


def screen_capture(
    *,
    site_id: int,
    conversation: Conversation,
    honeypot: str,
    now: datetime,
) -> Verdict:
    """Screen an e-mail captured in ``conversation``: accept it, drop it silently or quarantine it.

    Call it inside the transaction that stores the capture: a quarantine opens the site's
    lead-burst alert in that transaction. Nothing the visitor typed is logged.
    """
    elapsed = now - conversation.started_at
    judge_capture = functools.partial(
        judge,
        honeypot=honeypot,
        elapsed=elapsed,
        min_seconds=settings.LEAD_GUARD_MIN_SECONDS,
        burst_limit=settings.LEAD_BURST_LIMIT,
    )
    # Bots are dropped before they count: they must not trip the breaker for real people.
    verdict = judge_capture(recent_captures=0)
    if verdict.verdict == "drop":
        log.warning(
            "anti-automation: lead capture dropped: reason=%s site=%s conversation=%s",
            verdict.reason,
            site_id,
            conversation.pk,
        )
        return "drop"
    recent = count_capture(site_id, now=now, limit=settings.LEAD_BURST_LIMIT)
    verdict = judge_capture(recent_captures=recent)
    if verdict.verdict == "quarantine":
        log.warning(
            "anti-automation: lead quarantined: reason=%s site=%s conversation=%s",
            verdict.reason,
            site_id,
            conversation.pk,
        )
        open_burst_alert(site_id, now=now)
    return verdict.verdict


def count_capture(site_id: int, *, now: datetime, limit: int) -> int:
    """Count a capture for the site; return the captures within the window, this one included.

    A sliding-window log in a sorted set scored by time. Only the newest ``limit + 1`` entries are
    kept: whether the window holds more than ``limit`` is still answered exactly, and a burst
    cannot grow the set without bound.
    """
    window = settings.LEAD_BURST_WINDOW_SECONDS
    key = cache.make_key(f"lead-burst:{site_id}")
    stamp = now.timestamp()
    with counters().pipeline(transaction=True) as pipeline:
        pipeline.zadd(key, {uuid.uuid4().hex: stamp})
        pipeline.zremrangebyscore(key, "-inf", f"({stamp - window}")
        pipeline.zremrangebyrank(key, 0, -(limit + 2))
        pipeline.zcard(key)
        pipeline.expire(key, window + 1)
        results = pipeline.execute()
    return int(results[3])


def open_burst_alert(site_id: int, *, now: datetime) -> SiteAlert:
    """The site's open lead-burst alert, created by the first quarantined lead of the incident."""
    limit = settings.LEAD_BURST_LIMIT
    minutes = settings.LEAD_BURST_WINDOW_SECONDS / 60
    since = now.astimezone(UTC)
    message = (
        f"More than {limit} leads were captured in chat within {minutes:g} minutes, which looks "
        f"like a bot. Since {since:%Y-%m-%d %H:%M} UTC new leads are kept in quarantine and not "
        "sent to Marketo. Check the site's recent conversations, then resolve this alert; leads "
        "keep being quarantined while the burst lasts."
    )
    # get_or_create retries the read when a concurrent request created the alert first; the
    # partial unique constraint allows one open alert per site and kind.
    alert, _ = SiteAlert.objects.get_or_create(
        site_id=site_id,
        kind=SiteAlert.Kind.LEAD_BURST,
        resolved_at=None,
        defaults={"message": message, "created_at": now},
    )
    return alert
