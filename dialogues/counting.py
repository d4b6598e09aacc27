"""Keeping the report counters as conversations happen, and recounting them from the events.

A request gathers what it counts in a ``Tally`` and writes it at the end of its transaction: one
``INSERT … ON CONFLICT … DO UPDATE`` per kind of counter (metrics, goals, pages, cards), rows in
key order so two requests never lock the same counters in opposite orders. What counts is Dynamic
Chat's (reference/dynamic-chat.md §13, §18):

- triggered (and the page, without query string or fragment): a visitor's conversation with a
  dialogue is created; a reload, a resume or a move to a republished version is no new trigger;
- engaged: the conversation's first answer, capture, decline or booking;
- completed: the conversation ends, once;
- captured: the conversation's first e-mail capture that is kept (a honeypot's is dropped);
- meetings: a meeting booked from a meeting card; goals: each goal reached, and by name;
- a card is reached each time it becomes the one awaiting the visitor, and answered when the
  visitor answers, captures, declines or books on it.

Each counts on the UTC day it happens, as known or anonymous: whether the visitor had an e-mail
or a lead just before (an e-mail capture itself counts where the visitor was before it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from django.db import connection, models, transaction
from django.db.models import Min

from dialogues.flow import Capture, Flow, parse_valid
from dialogues.models import (
    Conversation,
    ConversationEvent,
    ConversationState,
    DialogueVersion,
    EventKind,
    Visitor,
)
from dialogues.report_models import DailyCard, DailyGoal, DailyMetric, DailyPage, PurgeRun

if TYPE_CHECKING:
    from dialogues.conversations import Run

METRICS = ("triggered", "engaged", "completed", "captured", "meetings", "goals")
PAGE_LENGTH = 512
GOAL_LENGTH = 100
CARD_LENGTH = 32
UPSERT_ROWS = 1000
RECOUNTED = (  # noqa: SIM905 (what a recount reads of each event, in this order)
    "pk conversation_id kind card value page_url occurred_at conversation__dialogue_id "
    "conversation__version_id conversation__engaged_at conversation__state conversation__card "
    "conversation__visitor_id conversation__visitor__site_id conversation__visitor__email "
    "conversation__visitor__lead_id"
).split()
INTERACTIONS = frozenset(
    {EventKind.ANSWER, EventKind.CAPTURE, EventKind.DECLINED, EventKind.BOOKED}
)

MetricKey = tuple[int, date, bool]  # dialogue, day, known


def page_of(url: str) -> str:
    """The page a URL names, as reports keep it: no credentials, query string or fragment, and
    at most 512 characters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0][:PAGE_LENGTH]
    host = parts.netloc.rpartition("@")[2]  # never credentials
    return urlunsplit((parts.scheme, host, parts.path, "", ""))[:PAGE_LENGTH]


def known(visitor: Visitor) -> bool:
    """Whether the visitor counts as known: they have an e-mail or a lead."""
    return bool(visitor.email) or visitor.lead_id is not None


@dataclass
class Tally:
    """What one request (or a recount) adds to the counters, written at once by ``save``."""

    sites: dict[int, int] = field(default_factory=dict)  # dialogue → site
    metrics: defaultdict[MetricKey, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    goals: Counter[tuple[int, date, bool, str]] = field(default_factory=Counter)
    pages: Counter[tuple[int, date, bool, str]] = field(default_factory=Counter)
    cards: defaultdict[tuple[int, str, date], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    captured: dict[int, bool] = field(default_factory=dict)  # conversation → an e-mail kept

    def add(self, site_id: int, dialogue_id: int, day: date, known: bool, **counts: int) -> None:
        unknown = set(counts) - set(METRICS)
        if unknown:
            raise ValueError(f"no such counters: {sorted(unknown)}")
        self.sites[dialogue_id] = site_id
        self.metrics[(dialogue_id, day, known)].update(counts)

    def trigger(self, site_id: int, dialogue_id: int, day: date, known: bool, url: str) -> None:
        self.add(site_id, dialogue_id, day, known, triggered=1)
        self.pages[(dialogue_id, day, known, page_of(url))] += 1

    def goal(self, site_id: int, dialogue_id: int, day: date, known: bool, name: str) -> None:
        self.add(site_id, dialogue_id, day, known, goals=1)
        self.goals[(dialogue_id, day, known, name[:GOAL_LENGTH])] += 1

    def reached(self, version_id: int, card: str, day: date) -> None:
        self.cards[(version_id, card[:CARD_LENGTH], day)]["reached"] += 1

    def answered(self, version_id: int, card: str, day: date) -> None:
        self.cards[(version_id, card[:CARD_LENGTH], day)]["answered"] += 1

    def save(self) -> None:
        """Add everything to the counters: one statement per kind of counter that changed."""
        metrics = [
            (self.sites[dialogue], dialogue, day, known, *(counts[name] for name in METRICS))
            for (dialogue, day, known), counts in sorted(self.metrics.items())
            if any(counts.values())
        ]
        _upsert(DailyMetric, ("site", "dialogue", "day", "known"), METRICS, metrics, key=1)
        _upsert(
            DailyGoal,
            ("dialogue", "day", "known", "goal"),
            ("reached",),
            [(*key, n) for key, n in sorted(self.goals.items()) if n],
        )
        _upsert(
            DailyPage,
            ("dialogue", "day", "known", "page"),
            ("triggered",),
            [(*key, n) for key, n in sorted(self.pages.items()) if n],
        )
        _upsert(
            DailyCard,
            ("version", "card", "day"),
            ("reached", "answered"),
            [
                (*key, counts["reached"], counts["answered"])
                for key, counts in sorted(self.cards.items())
                if any(counts.values())
            ],
        )


def _upsert(
    model: type[models.Model],
    keys: Sequence[str],
    counts: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: int = 0,
) -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET n = n + EXCLUDED.n`` for each of ``counts``;
    the unique key is ``keys`` from the ``key``-th on (the ones before are only stored)."""
    if not rows:
        return
    fields = [*keys, *counts]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(_column(model, name)) for name in fields]
    added = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in columns[len(keys) :])
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):  # one statement unless recounting
            chunk = rows[start : start + UPSERT_ROWS]
            # Only the models' own table and column names are formatted in; values are parameters.
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(chunk))} "
                f"ON CONFLICT ({', '.join(columns[key : len(keys)])}) DO UPDATE SET {added}"
            )
            cursor.execute(sql, [value for values in chunk for value in values])


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field.column


def started(
    conversation: Conversation,
    visitor: Visitor,
    events: Sequence[ConversationEvent],
    *,
    created: bool,
    url: str,
    now: datetime,
) -> None:
    """Count a conversation started (``created``) or moved to a republished version: the trigger
    and its page when created, then where the walk from the start card ended."""
    tally = Tally()
    if created:
        tally.trigger(visitor.site_id, conversation.dialogue_id, now.date(), known(visitor), url)
    arrived(tally, conversation, visitor, events, now=now)
    tally.save()


def interaction(tally: Tally, run: Run, *, kind: str, kept_email: bool) -> None:
    """Count an answer, capture, decline or booking on the card awaiting the visitor, before the
    conversation moves on: the card answered, the first engagement, the conversation's first
    e-mail kept, a meeting; in the audience the visitor was in before it."""
    conversation, visitor = run.conversation, run.visitor
    day, is_known = run.now.date(), known(visitor)
    site, dialogue = visitor.site_id, conversation.dialogue_id
    tally.answered(conversation.version_id, conversation.card, day)
    if conversation.state == ConversationState.TRIGGERED:
        tally.add(site, dialogue, day, is_known, engaged=1)
    if kind == "booked":
        tally.add(site, dialogue, day, is_known, meetings=1)
    if kept_email:
        if conversation.pk not in tally.captured:
            tally.captured[conversation.pk] = email_kept(conversation, run.flow)
        if not tally.captured[conversation.pk]:
            tally.add(site, dialogue, day, is_known, captured=1)
        tally.captured[conversation.pk] = True


def arrived(
    tally: Tally,
    conversation: Conversation,
    visitor: Visitor,
    events: Sequence[ConversationEvent],
    *,
    now: datetime,
) -> None:
    """Count where a walk ended: the goals and completion among its ``events``, and the card
    now awaiting the visitor."""
    day, is_known = now.date(), known(visitor)
    for event in events:
        if event.kind == EventKind.GOAL:
            tally.goal(visitor.site_id, conversation.dialogue_id, day, is_known, event.value)
        elif event.kind == EventKind.COMPLETED:
            tally.add(visitor.site_id, conversation.dialogue_id, day, is_known, completed=1)
    if conversation.card:
        tally.reached(conversation.version_id, conversation.card, day)


def email_cards(flow: Flow) -> list[str]:
    return [
        card_id
        for card_id, card in flow.cards.items()
        if isinstance(card, Capture) and card.input == "email"
    ]


def email_kept(conversation: Conversation, flow: Flow) -> bool:
    """Whether the conversation kept an e-mail before (a dropped capture's value is empty)."""
    captures = ConversationEvent.objects.filter(
        conversation=conversation, kind=EventKind.CAPTURE, card__in=email_cards(flow)
    )
    return captures.exclude(value="").exists()


def rebuild(since: date | None = None) -> dict[str, Any]:
    """Recount the counters of the days from ``since`` (by default the first whole UTC day of
    the events still held) from those events; the days before keep their counts.

    The counter tables are locked meanwhile: conversations go on (their counts wait for the
    commit), so nothing is counted twice or lost. Running it again changes nothing. What the
    events cannot tell is approximated: a visitor counts as known from their first e-mail
    capture on (or from the start, without one), and a conversation moved to a republished
    version counts its first card reached on the new version only.
    """
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (DailyMetric, DailyGoal, DailyPage, DailyCard)
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        since = since or first_whole_day()
        if since is None:
            return {"since": None, "events": 0}
        for model in (DailyMetric, DailyGoal, DailyPage, DailyCard):
            model.objects.filter(day__gte=since).delete()
        tally, events = _recount(datetime.combine(since, time.min, tzinfo=UTC))
        tally.save()
    return {
        "since": since,
        "events": events,
        "metrics": len(tally.metrics),
        "goals": len(tally.goals),
        "pages": len(tally.pages),
        "cards": len(tally.cards),
    }


def first_whole_day() -> date | None:
    """The first UTC day all of whose events are still held (a purge leaves its cutoff's day
    partly deleted), or None without events."""
    earliest: datetime | None = ConversationEvent.objects.aggregate(first=Min("occurred_at"))[
        "first"
    ]
    if earliest is None:
        return None
    cutoff = (
        PurgeRun.objects.filter(outcome=PurgeRun.Outcome.DONE, cutoff__isnull=False)
        .order_by("-cutoff")
        .values_list("cutoff", flat=True)
        .first()
    )
    first = earliest.astimezone(UTC).date()
    if cutoff is not None:
        cutoff = cutoff.astimezone(UTC)
        whole = cutoff.date() if cutoff.time() == time.min else cutoff.date() + timedelta(days=1)
        first = max(first, whole)
    return first


def _recount(since: datetime) -> tuple[Tally, int]:
    """The counts of the events from ``since``, walked conversation by conversation."""
    emails = {
        pk: set(email_cards(parse_valid(flow)))
        for pk, flow in DialogueVersion.objects.values_list("pk", "flow")
    }
    first_email: dict[int, int] = {}  # conversation → its first e-mail kept (event id)
    known_since: dict[int, int] = {}  # visitor → their first e-mail kept (event id)
    captures = ConversationEvent.objects.filter(kind=EventKind.CAPTURE).exclude(value="")
    for pk, conversation, card, version, visitor in captures.order_by("id").values_list(
        "pk", "conversation_id", "card", "conversation__version_id", "conversation__visitor_id"
    ):
        if card in emails.get(version, ()):
            first_email.setdefault(conversation, pk)
            known_since.setdefault(visitor, pk)
    tally, total = Tally(), 0
    rows = (
        ConversationEvent.objects.filter(occurred_at__gte=since)
        .order_by("conversation_id", "id")
        .values_list(*RECOUNTED)
    )
    current: tuple[Any, ...] | None = None
    arrival: date | None = None  # the day the card awaiting the visitor was reached
    engaged = False
    for row in rows.iterator(chunk_size=5000):
        pk, conversation, kind, card, value, page, at, dialogue, version, engaged_at = row[:10]
        visitor, site, email, lead = row[12:]
        total += 1
        if current is None or current[1] != conversation:
            _awaiting(tally, current, arrival)
            current, arrival, engaged = row, None, False
        day = at.astimezone(UTC).date()
        first = known_since.get(visitor)
        known = (bool(email) or lead is not None) and (first is None or pk > first)
        if kind == EventKind.TRIGGERED:
            tally.trigger(site, dialogue, day, known, page)
            arrival = day
        elif kind == EventKind.GOAL:
            tally.goal(site, dialogue, day, known, value)
        elif kind == EventKind.COMPLETED:
            tally.add(site, dialogue, day, known, completed=1)
        elif kind in INTERACTIONS:
            tally.reached(version, card, arrival or day)
            tally.answered(version, card, day)
            arrival = day
            if not engaged and at == engaged_at:
                engaged = True
                tally.add(site, dialogue, day, known, engaged=1)
            if kind == EventKind.BOOKED:
                tally.add(site, dialogue, day, known, meetings=1)
            if first_email.get(conversation) == pk:
                tally.add(site, dialogue, day, known, captured=1)
    _awaiting(tally, current, arrival)
    return tally, total


def _awaiting(tally: Tally, row: tuple[Any, ...] | None, arrival: date | None) -> None:
    """Count the card a conversation still awaits an answer on as reached when it got there."""
    if row is None or arrival is None:
        return
    version, state, awaiting = row[8], row[10], row[11]
    if state != ConversationState.COMPLETED and awaiting:
        tally.reached(version, awaiting, arrival)
