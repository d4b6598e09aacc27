"""What the reports show, read from the daily counters only (never the raw events).

Each function is one query whatever the number of days or dialogues. Days are UTC days; a range
is clamped to the last 90 days, which is what reports keep (reference/dynamic-chat.md §13).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from dialogues.counting import METRICS
from dialogues.models import Dialogue, DialogueVersion
from dialogues.report_models import DailyCard, DailyGoal, DailyMetric, DailyPage
from dynchat.models import Site
from meetings.models import Meeting, MeetingStatus

Audience = Literal["all", "known", "anonymous"]
WINDOW_DAYS = 90


@dataclass(frozen=True)
class Totals:
    triggered: int = 0
    engaged: int = 0
    completed: int = 0
    captured: int = 0
    meetings: int = 0
    goals: int = 0

    @property
    def engagement_rate(self) -> float | None:
        """Engaged ÷ triggered; None when nothing was triggered."""
        return self.engaged / self.triggered if self.triggered else None

    @property
    def conversion_rate(self) -> float | None:
        """Captured ÷ engaged; None when nobody engaged."""
        return self.captured / self.engaged if self.engaged else None


@dataclass(frozen=True)
class AgentMeetings:
    """One agent's meetings booked in a range, by what became of them."""

    agent_id: int
    name: str
    email: str
    booked: int
    upcoming: int
    completed: int
    no_show: int
    cancelled: int


def clamp(start: date, end: date, today: date) -> tuple[date, date]:
    """The range within the last 90 days (today included), start never after end."""
    first = today - timedelta(days=WINDOW_DAYS - 1)
    end = min(max(end, first), today)
    start = min(max(start, first), end)
    return start, end


def _audience(audience: Audience) -> Q:
    if audience == "known":
        return Q(known=True)
    if audience == "anonymous":
        return Q(known=False)
    return Q()


def _metrics(
    site: Site, dialogue: Dialogue | None, start: date, end: date, audience: Audience
) -> QuerySet[DailyMetric]:
    rows = DailyMetric.objects.filter(_audience(audience), site=site, day__range=(start, end))
    return rows.filter(dialogue=dialogue) if dialogue is not None else rows


def _sums(prefix: str = "", condition: Q | None = None) -> dict[str, Coalesce]:
    return {name: Coalesce(Sum(prefix + name, filter=condition), 0) for name in METRICS}


def _totals(row: Mapping[str, object]) -> Totals:
    return Totals(**{name: int(cast(int, row[name])) for name in METRICS})


def totals(
    site: Site,
    *,
    dialogue: Dialogue | None = None,
    start: date,
    end: date,
    audience: Audience = "all",
) -> Totals:
    """The counts over the range: one dialogue's, or every dialogue of the site."""
    return _totals(_metrics(site, dialogue, start, end, audience).aggregate(**_sums()))


def daily(
    site: Site,
    *,
    dialogue: Dialogue | None = None,
    start: date,
    end: date,
    audience: Audience = "all",
) -> list[tuple[date, Totals]]:
    """The counts of every day of the range, in order, days without any counted as zeros."""
    rows = _metrics(site, dialogue, start, end, audience).values("day").annotate(**_sums())
    found = {row["day"]: _totals(row) for row in rows.order_by("day")}
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [(day, found.get(day, Totals())) for day in days]


def by_dialogue(
    site: Site, *, start: date, end: date, audience: Audience = "all"
) -> list[tuple[Dialogue, Totals]]:
    """Every dialogue of the site with its counts over the range (zeros when none)."""
    condition = Q(daily_metrics__day__range=(start, end))
    if audience != "all":
        condition &= Q(daily_metrics__known=audience == "known")
    dialogues = Dialogue.objects.of_site(site).annotate(**_sums("daily_metrics__", condition))
    return [
        (dialogue, Totals(**{name: int(getattr(dialogue, name)) for name in METRICS}))
        for dialogue in dialogues
    ]


def goals_reached(
    site: Site,
    *,
    dialogue: Dialogue | None = None,
    start: date,
    end: date,
    audience: Audience = "all",
) -> list[tuple[str, int]]:
    """Each goal reached in the range and how often, the most reached first."""
    rows = DailyGoal.objects.filter(
        _audience(audience), dialogue__site=site, day__range=(start, end)
    )
    if dialogue is not None:
        rows = rows.filter(dialogue=dialogue)
    counted = rows.values("goal").annotate(total=Sum("reached")).order_by("-total", "goal")
    return [(row["goal"], int(row["total"])) for row in counted]


def top_pages(
    site: Site,
    *,
    dialogue: Dialogue | None = None,
    start: date,
    end: date,
    audience: Audience = "all",
    limit: int = 10,
) -> list[tuple[str, int]]:
    """The pages (without query strings) where dialogues were triggered most in the range."""
    rows = DailyPage.objects.filter(
        _audience(audience), dialogue__site=site, day__range=(start, end)
    )
    if dialogue is not None:
        rows = rows.filter(dialogue=dialogue)
    counted = rows.values("page").annotate(total=Sum("triggered")).order_by("-total", "page")
    return [(row["page"], int(row["total"])) for row in counted[:limit]]


def drop_off(version: DialogueVersion) -> dict[str, tuple[int, int]]:
    """Each card of the version: how often it was reached and answered, over every day kept."""
    rows = (
        DailyCard.objects.filter(version=version)
        .values("card")
        .annotate(reached_total=Sum("reached"), answered_total=Sum("answered"))
    )
    return {row["card"]: (int(row["reached_total"]), int(row["answered_total"])) for row in rows}


def meetings_by_agent(
    site: Site, *, dialogue: Dialogue | None = None, start: date, end: date
) -> list[AgentMeetings]:
    """Each agent's meetings booked in the range (rescheduled ones count as their new meeting;
    holds never), by what became of them, the most booked first."""
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    meetings = Meeting.objects.filter(
        site=site, created_at__gte=since, created_at__lt=until
    ).exclude(status__in=(MeetingStatus.HELD, MeetingStatus.RESCHEDULED))
    if dialogue is not None:
        meetings = meetings.filter(dialogue=dialogue)
    rows = (
        meetings.values("agent", "agent__name", "agent__email")
        .annotate(
            booked=Count("id"),
            **{
                str(status): Count("id", filter=Q(status=status))
                for status in (
                    MeetingStatus.UPCOMING,
                    MeetingStatus.COMPLETED,
                    MeetingStatus.NO_SHOW,
                    MeetingStatus.CANCELLED,
                )
            },
        )
        .order_by("-booked", "agent__name", "agent__email")
    )
    counted: list[dict[str, Any]] = [dict(row) for row in rows]
    return [
        AgentMeetings(
            agent_id=row["agent"],
            name=row["agent__name"] or row["agent__email"],
            email=row["agent__email"],
            booked=row["booked"],
            upcoming=row["upcoming"],
            completed=row["completed"],
            no_show=row["no_show"],
            cancelled=row["cancelled"],
        )
        for row in counted
    ]
