"""The rotation's rows (routing.queue): joining, leaving, crediting, fairness over many bookings."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from calendars.models import CalendarConnection, ConnectionStatus, Provider
from calendars.signals import calendar_connected, calendar_lost
from dynchat.models import Role, User
from meetings.signals import meeting_cancelled
from routing import queue, rotation
from routing.models import Rotation, RotationMember

pytestmark = pytest.mark.django_db


def connect(name: str) -> User:
    """An agent whose calendar has just been connected, as calendars announces it."""
    agent = User.objects.create_user(
        f"{name.lower()}@example.com", "correct horse battery", name=name, role=Role.AGENT
    )
    CalendarConnection.objects.create(agent=agent, provider=Provider.GOOGLE)
    calendar_connected.send(sender=CalendarConnection, agent_id=agent.pk, reconnected=False)
    return agent


def lose(agent: User, *, hours_ago: float = 0) -> None:
    CalendarConnection.objects.filter(agent=agent).update(status=ConnectionStatus.NEEDS_RECONNECT)
    calendar_lost.send(sender=CalendarConnection, agent_id=agent.pk, reason="revoked")
    RotationMember.objects.filter(agent=agent).update(
        away_since=timezone.now() - timedelta(hours=hours_ago)
    )


def reconnect(agent: User) -> None:
    CalendarConnection.objects.filter(agent=agent).update(status=ConnectionStatus.ACTIVE)
    calendar_connected.send(sender=CalendarConnection, agent_id=agent.pk, reconnected=True)


def book_next() -> int:
    """What booking does once every candidate is free: choose and credit under the lock."""
    with transaction.atomic():
        Rotation.lock()
        order = [m.agent_id for m in queue.in_turn()]
        choice = rotation.choose(order, dict.fromkeys(order))
        assert choice is not None
        queue.credit(choice.agent_id)
        return choice.agent_id


def bookings(count: int) -> Counter[int]:
    return Counter(book_next() for _ in range(count))


def test_agents_join_at_the_end_of_the_queue_in_the_order_they_connect() -> None:
    ann, bob, cay = connect("Ann"), connect("Bob"), connect("Cay")
    assert [m.agent_id for m in queue.members()] == [ann.pk, bob.pk, cay.pk]
    assert [m.agent_id for m in queue.in_turn()] == [ann.pk, bob.pk, cay.pk]
    assert [m.position for m in queue.members()] == [0, 1, 2]


def test_connecting_again_while_connected_changes_nothing() -> None:
    ann = connect("Ann")
    book_next()
    calendar_connected.send(sender=CalendarConnection, agent_id=ann.pk, reconnected=False)
    member = RotationMember.objects.get(agent=ann)
    assert (member.level, member.meetings, RotationMember.objects.count()) == (1.0, 1, 1)


def test_rr1_four_equal_agents_share_a_thousand_bookings_evenly() -> None:
    """RR-1: 4 agents of equal weight, 1,000 sequential bookings → 250 ± 1 each."""
    agents = [connect(name) for name in ("Ann", "Bob", "Cay", "Dan")]
    counts = bookings(1000)
    assert all(249 <= counts[a.pk] <= 251 for a in agents), counts
    assert sorted(RotationMember.objects.values_list("meetings", flat=True)) == [250] * 4


def test_rr1_turns_go_round_in_queue_order() -> None:
    agents = [connect(name) for name in ("Ann", "Bob", "Cay")]
    assert [book_next() for _ in range(6)] == [a.pk for a in agents] * 2


def test_rr4_weights_two_one_one_give_shares_of_a_half_and_two_quarters() -> None:
    """RR-4: weights 200/100/100 (2/1/1), 800 bookings → 400/200/200 within ± 2 %."""
    ann, bob, cay = connect("Ann"), connect("Bob"), connect("Cay")
    queue.set_weight(ann.pk, 2)
    counts = bookings(800)
    assert abs(counts[ann.pk] - 400) <= 8, counts
    assert abs(counts[bob.pk] - 200) <= 4, counts
    assert abs(counts[cay.pk] - 200) <= 4, counts


def test_rr5_an_agent_added_mid_rotation_gets_a_fair_share_without_a_burst() -> None:
    """RR-5: A, B, C at 100 each; D joins at the current mean; the next 100 → 24-26 each."""
    first = [connect(name) for name in ("Ann", "Bob", "Cay")]
    assert set(bookings(300).values()) == {100}
    dan = connect("Dan")
    assert RotationMember.objects.get(agent=dan).level == 100.0
    counts = bookings(100)
    assert all(24 <= counts[a.pk] <= 26 for a in [*first, dan]), counts


def test_rr6_an_agent_away_more_than_a_day_returns_at_the_mean() -> None:
    """RR-6 (levels): lost > 24 h, then reconnected → level reset to the mean; next 100 ≤ 28."""
    agents = [connect(name) for name in ("Ann", "Bob", "Cay", "Dan")]
    dan = agents[-1]
    bookings(100)
    lose(dan, hours_ago=25)
    assert dan.pk not in [m.agent_id for m in queue.in_turn()]
    assert bookings(120)[dan.pk] == 0
    assert RotationMember.objects.filter(agent=dan).exists()  # still listed while away
    reconnect(dan)
    member = RotationMember.objects.get(agent=dan)
    assert member.away_since is None
    assert member.level == 65.0  # the mean of the others: 25 + 120 / 3
    assert bookings(100)[dan.pk] <= 28


def test_an_agent_back_within_a_day_keeps_their_level() -> None:
    ann, bob = connect("Ann"), connect("Bob")
    bookings(10)
    lose(bob, hours_ago=2)
    bookings(6)
    reconnect(bob)
    assert RotationMember.objects.get(agent=bob).level == 5.0
    assert RotationMember.objects.get(agent=ann).level == 11.0


def test_a_lost_calendar_takes_the_agent_out_of_turn_at_once() -> None:
    ann, bob = connect("Ann"), connect("Bob")
    calendar_lost.send(sender=CalendarConnection, agent_id=ann.pk, reason="revoked")
    assert [m.agent_id for m in queue.in_turn()] == [bob.pk]
    assert RotationMember.objects.get(agent=ann).away_since is not None


def test_a_paused_agent_is_skipped_and_comes_back_at_the_mean() -> None:
    ann, bob, cay = connect("Ann"), connect("Bob"), connect("Cay")
    queue.pause(bob.pk, True)
    assert set(bookings(10)) == {ann.pk, cay.pk}
    queue.pause(bob.pk, False)
    assert RotationMember.objects.get(agent=bob).level == 5.0
    assert RotationMember.objects.get(agent=bob).paused is False


def test_moving_an_agent_changes_who_goes_first_among_equals() -> None:
    ann, bob, cay = connect("Ann"), connect("Bob"), connect("Cay")
    queue.move(cay.pk, 0)
    assert [m.agent_id for m in queue.members()] == [cay.pk, ann.pk, bob.pk]
    assert [book_next() for _ in range(3)] == [cay.pk, ann.pk, bob.pk]
    queue.move(cay.pk, 99)
    assert [m.position for m in queue.members()] == [0, 1, 2]
    assert [m.agent_id for m in queue.members()] == [ann.pk, bob.pk, cay.pk]


def test_a_cancelled_meeting_gives_the_turn_back_unless_cancellations_count() -> None:
    """RR-9 (queue): the level goes down by one meeting iff "count cancellations" is off."""
    ann, bob = connect("Ann"), connect("Bob")
    assert book_next() == ann.pk
    meeting_cancelled.send(sender=None, meeting_id=1, agent_id=ann.pk)
    member = RotationMember.objects.get(agent=ann)
    assert (member.level, member.meetings) == (0.0, 0)
    assert book_next() == ann.pk

    queue.set_policy(True, "")
    meeting_cancelled.send(sender=None, meeting_id=2, agent_id=ann.pk)
    assert RotationMember.objects.get(agent=ann).level == 1.0
    assert book_next() == bob.pk


def test_crediting_someone_outside_the_rotation_does_nothing() -> None:
    assert queue.credit(12345) is None
    assert queue.uncredit(12345) is None


def test_the_policy_is_saved_on_the_one_rotation_row() -> None:
    queue.set_policy(True, " dynchatAgent ")
    current = Rotation.current()
    assert (current.count_cancellations, current.agent_lead_field) == (True, "dynchatAgent")
