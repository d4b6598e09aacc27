"""Reading the report counters: ranges of days with the empty ones as zeros, the 90-day clamp,
audiences, per dialogue, and a constant number of queries however many days and dialogues."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from dialogues import reports
from dialogues.counting import Tally
from dialogues.models import Dialogue
from dialogues.reports import Totals
from dynchat.models import Site, User
from meetings.models import Meeting
from tests.dialogues.factories import new_dialogue

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 24)


def day(n: int) -> date:
    return TODAY - timedelta(days=n)


def count(site_id: int, dialogue_id: int, on: date, known: bool, **increments: int) -> None:
    """Add ``increments`` (triggered=1, goals=2, …) to one dialogue's counters for one day."""
    tally = Tally()
    tally.add(site_id, dialogue_id, on, known, **increments)
    tally.save()


def test_clamp_keeps_a_range_within_the_last_90_days_and_in_order() -> None:
    assert reports.clamp(day(6), TODAY, TODAY) == (day(6), TODAY)
    assert reports.clamp(day(400), day(10), TODAY) == (day(89), day(10))
    assert reports.clamp(day(5), TODAY + timedelta(days=30), TODAY) == (day(5), TODAY)
    assert reports.clamp(day(3), day(9), TODAY) == (day(9), day(9))
    assert reports.clamp(day(200), day(100), TODAY) == (day(89), day(89))


def test_rates_are_engaged_over_triggered_and_captured_over_engaged() -> None:
    totals = Totals(triggered=8, engaged=4, captured=1)
    assert (totals.engagement_rate, totals.conversion_rate) == (0.5, 0.25)
    assert (Totals().engagement_rate, Totals().conversion_rate) == (None, None)


def test_daily_lists_every_day_of_the_range_with_zeros_where_nothing_was_counted(
    site: Site,
) -> None:
    dialogue = new_dialogue(site)
    count(site.pk, dialogue.pk, day(5), False, triggered=3, engaged=1)
    count(site.pk, dialogue.pk, day(5), True, triggered=1, captured=1)
    count(site.pk, dialogue.pk, day(2), False, triggered=2)
    count(site.pk, dialogue.pk, day(9), False, triggered=7)  # before the range
    series = reports.daily(site, dialogue=dialogue, start=day(6), end=day(1))
    assert [d for d, _ in series] == [day(n) for n in range(6, 0, -1)]
    assert [t.triggered for _, t in series] == [0, 4, 0, 0, 2, 0]
    assert series[1][1] == Totals(triggered=4, engaged=1, captured=1)
    known = reports.daily(site, dialogue=dialogue, start=day(6), end=day(1), audience="known")
    assert [t.triggered for _, t in known] == [0, 1, 0, 0, 0, 0]
    assert reports.totals(site, start=day(6), end=day(1)) == Totals(
        triggered=6, engaged=1, captured=1
    )
    assert reports.totals(site, start=day(6), end=day(1), audience="anonymous") == Totals(
        triggered=5, engaged=1
    )


def test_counts_of_one_request_add_up_in_one_statement_per_kind(
    site: Site, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    dialogue = new_dialogue(site)
    version = dialogue.versions.create(number=1, flow=dialogue.flow, targeting={}, priority=1)
    tally = Tally()
    for n in range(3):
        tally.trigger(site.pk, dialogue.pk, day(n), False, f"https://a.example/p{n}?q=1")
        tally.goal(site.pk, dialogue.pk, day(n), True, "Lead")
        tally.reached(version.pk, "q1", day(n))
        tally.answered(version.pk, "q1", day(n))
    with django_assert_num_queries(4):
        tally.save()
    with django_assert_num_queries(4):
        tally.save()  # the same again: added to the rows already there
    span: dict[str, Any] = {"start": day(2), "end": TODAY}
    assert reports.totals(site, **span) == Totals(triggered=6, goals=6)
    assert reports.goals_reached(site, **span) == [("Lead", 6)]
    assert reports.top_pages(site, limit=2, **span) == [
        ("https://a.example/p0", 2),
        ("https://a.example/p1", 2),
    ]
    assert reports.drop_off(version) == {"q1": (6, 6)}


def test_by_dialogue_lists_every_dialogue_with_zeros_for_the_quiet_ones(site: Site) -> None:
    busy, quiet = new_dialogue(site, name="Busy"), new_dialogue(site, name="Quiet")
    count(site.pk, busy.pk, day(1), False, triggered=4, engaged=2)
    count(site.pk, busy.pk, day(1), True, triggered=1)
    count(site.pk, busy.pk, day(50), True, triggered=9)  # outside the range
    rows = dict(reports.by_dialogue(site, start=day(7), end=TODAY))
    assert rows == {busy: Totals(triggered=5, engaged=2), quiet: Totals()}
    known = dict(reports.by_dialogue(site, start=day(7), end=TODAY, audience="known"))
    assert known == {busy: Totals(triggered=1), quiet: Totals()}


def test_another_sites_counts_are_never_read(site: Site) -> None:
    other = Site.objects.create(name="Site B", allowed_origins=["https://b.example"])
    theirs = new_dialogue(other)
    count(other.pk, theirs.pk, day(1), False, triggered=5)
    assert reports.totals(site, start=day(7), end=TODAY) == Totals()
    assert reports.by_dialogue(site, start=day(7), end=TODAY) == []


def many(site: Site, dialogues: int, days: int) -> list[Dialogue]:
    made = [new_dialogue(site, name=f"D{n}") for n in range(dialogues)]
    tally = Tally()
    for dialogue in made:
        for n in range(days):
            tally.trigger(site.pk, dialogue.pk, day(n), n % 2 == 0, f"https://a.example/{n}")
            tally.goal(site.pk, dialogue.pk, day(n), False, f"Goal {n % 3}")
    tally.save()
    return made


@pytest.mark.parametrize(("dialogues", "days"), [(1, 7), (12, 90)])
def test_every_read_is_one_query_however_many_days_and_dialogues(
    site: Site, django_assert_num_queries: DjangoAssertNumQueries, dialogues: int, days: int
) -> None:
    made = many(site, dialogues, days)
    span: dict[str, Any] = {"start": day(days - 1), "end": TODAY}
    version = made[0].versions.create(number=1, flow=made[0].flow, targeting={}, priority=1)
    with django_assert_num_queries(1):
        assert reports.totals(site, **span).triggered == dialogues * days
    with django_assert_num_queries(1):
        assert len(reports.daily(site, **span)) == days
    with django_assert_num_queries(1):
        assert len(reports.by_dialogue(site, **span)) == dialogues
    with django_assert_num_queries(1):
        reports.top_pages(site, dialogue=made[0], audience="known", **span)
    with django_assert_num_queries(1):
        reports.goals_reached(site, **span)
    with django_assert_num_queries(1):
        reports.drop_off(version)
    with django_assert_num_queries(1):
        reports.meetings_by_agent(site, **span)


def test_meetings_by_agent_counts_each_booking_by_what_became_of_it(site: Site) -> None:
    alex = User.objects.create_user("alex@example.com", "pw-alex-long-enough", name="Alex")
    bea = User.objects.create_user("bea@example.com", "pw-bea-long-enough", name="")
    when = timezone.now()

    def meeting(agent: User, status: str, hours: int) -> Meeting:
        start = when + timedelta(hours=hours)
        return Meeting.objects.create(
            site=site, agent=agent, status=status, starts_at=start,
            ends_at=start + timedelta(minutes=30),
        )  # fmt: skip

    for status, hours in [("upcoming", 1), ("completed", 2), ("no_show", 3), ("cancelled", 4)]:
        meeting(alex, status, hours)
    meeting(alex, "rescheduled", 5)  # replaced by another meeting: not a booking of its own
    meeting(alex, "held", 6)  # a hold is no booking
    meeting(bea, "upcoming", 1)
    today = when.date()
    rows = reports.meetings_by_agent(site, start=today, end=today)
    assert [(r.name, r.booked, r.upcoming, r.completed, r.no_show, r.cancelled) for r in rows] == [
        ("Alex", 4, 1, 1, 1, 1),
        ("bea@example.com", 1, 1, 0, 0, 0),
    ]
    assert (
        reports.meetings_by_agent(
            site, start=today - timedelta(days=7), end=today - timedelta(days=1)
        )
        == []
    )
