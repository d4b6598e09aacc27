"""Round robin as plain data (routing.rotation): turn order, levels, calibration and choosing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from routing import rotation
from routing.rotation import MemberState, choose, turn_order


def member(
    agent_id: int, level: float = 0.0, *, weight: int = 1, paused: bool = False
) -> MemberState:
    return MemberState(
        agent_id=agent_id, position=agent_id, level=level, weight=weight, paused=paused
    )


class Line:
    """A rotation kept in memory with routing.rotation, as routing.queue keeps it in rows."""

    def __init__(self) -> None:
        self.members: dict[int, MemberState] = {}
        self.away: set[int] = set()

    def in_turn(self) -> list[int]:
        return turn_order(m for a, m in self.members.items() if a not in self.away)

    def others(self, agent_id: int) -> list[float]:
        return [
            m.level
            for a, m in self.members.items()
            if a != agent_id and a not in self.away and not m.paused
        ]

    def join(self, agent_id: int, weight: int = 1) -> None:
        position = max((m.position for m in self.members.values()), default=-1) + 1
        level = rotation.calibrated(self.others(agent_id))
        self.members[agent_id] = MemberState(agent_id, position, level, weight, False)

    def set(self, agent_id: int, **changes: object) -> None:
        old = self.members[agent_id]
        values = {**old.__dict__, **changes}
        self.members[agent_id] = MemberState(**values)

    def book(self) -> int:
        chosen = self.in_turn()[0]
        m = self.members[chosen]
        self.set(chosen, level=rotation.credited(m.level, m.weight))
        return chosen


def test_equal_levels_go_by_position_and_paused_agents_are_left_out() -> None:
    members = [member(3), member(1), member(2, paused=True), member(4, level=-1.0)]
    assert turn_order(members) == [4, 1, 3]


def test_a_meeting_moves_a_weight_two_agent_half_as_far() -> None:
    assert rotation.credited(1.0, 1) == 2.0
    assert rotation.credited(1.0, 2) == 1.5
    assert rotation.uncredited(1.5, 2) == 1.0
    assert rotation.credited(rotation.credited(rotation.credited(0.0, 3), 3), 3) == 1.0


def test_a_newcomer_starts_at_the_mean_of_the_others() -> None:
    assert rotation.calibrated([100.0, 100.0, 101.0, 99.0]) == 100.0
    assert rotation.calibrated([]) == 0.0


def test_a_returning_agent_is_reset_to_the_mean_only_after_more_than_a_day_away() -> None:
    others = [50.0, 52.0]
    assert rotation.returning_level(10.0, others, timedelta(hours=25)) == 51.0
    assert rotation.returning_level(10.0, others, timedelta(hours=23)) == 10.0
    assert rotation.returning_level(10.0, others, None) == 10.0


def test_a_paused_agent_does_not_bank_turns() -> None:
    assert rotation.resumed_level(3.0, [7.0, 9.0]) == 8.0
    assert rotation.resumed_level(12.0, [7.0, 9.0]) == 12.0
    assert rotation.resumed_level(3.0, []) == 3.0


def test_choose_takes_the_first_free_agent_and_says_whom_it_skipped() -> None:
    free: dict[int, str | None] = {1: rotation.BUSY, 2: rotation.UNAVAILABLE, 3: None, 4: None}
    choice = choose([1, 2, 3, 4], free, names={1: "Ann", 2: "Bob"})
    assert choice == rotation.Choice(
        3,
        "next in rotation (skipped Ann: busy in their calendar; Bob: calendar unavailable)",
        ((1, rotation.BUSY), (2, rotation.UNAVAILABLE)),
    )
    assert choose([4, 3], free) == rotation.Choice(4, "next in rotation", ())


def test_choose_finds_nobody_when_nobody_is_free() -> None:
    assert choose([1, 2], {1: rotation.BOOKED}) is None
    assert choose([], {}) is None


def test_a_long_list_of_skipped_agents_fits_the_reason_column() -> None:
    order = list(range(1, 60))
    free: dict[int, str | None] = dict.fromkeys(order, rotation.BUSY) | {59: None}
    choice = choose(order, free)
    assert choice is not None
    assert choice.agent_id == 59
    assert len(choice.reason) <= rotation.REASON_LENGTH
    assert len(choice.skipped) == 58


@given(agents=st.integers(1, 8), rounds=st.integers(1, 6))
def test_rr1_equal_weights_are_strict_round_robin_in_queue_order(agents: int, rounds: int) -> None:
    """RR-1 (pure): n agents of equal weight take turns in queue order, round after round."""
    line = Line()
    for agent_id in range(agents):
        line.join(agent_id)
    picks = [line.book() for _ in range(agents * rounds)]
    assert picks == list(range(agents)) * rounds


@given(weights=st.lists(st.integers(1, 4), min_size=1, max_size=5), cycles=st.integers(1, 5))
def test_rr4_weights_give_proportional_turns_every_cycle(weights: list[int], cycles: int) -> None:
    """RR-4 (pure): over whole cycles each agent gets exactly weight times cycles meetings."""
    line = Line()
    for agent_id, weight in enumerate(weights):
        line.join(agent_id, weight)
    picks = Counter(line.book() for _ in range(sum(weights) * cycles))
    assert picks == {agent_id: weight * cycles for agent_id, weight in enumerate(weights)}


def test_rr5_a_newcomer_gets_their_share_without_a_burst() -> None:
    """RR-5 (pure): A, B, C at 100 meetings each; D joins at the mean; the next 100 are shared."""
    line = Line()
    for agent_id in range(3):
        line.join(agent_id)
    for _ in range(300):
        line.book()
    line.join(3)
    picks = Counter(line.book() for _ in range(100))
    assert all(24 <= picks[a] <= 26 for a in range(4)), picks


class Reference:
    """The policy written out naively in exact fractions: whoever has the fewest meetings per
    weight (plus where they started) goes next, ties to the earlier place in the queue."""

    def __init__(self) -> None:
        self.start: dict[int, Fraction] = {}
        self.count: dict[int, int] = {}
        self.weight: dict[int, int] = {}
        self.place: dict[int, int] = {}
        self.out: set[int] = set()  # paused or away

    def level(self, a: int) -> Fraction:
        return self.start[a] + Fraction(self.count[a], self.weight[a])

    def mean_of_others(self, a: int) -> Fraction | None:
        others = [self.level(b) for b in self.start if b != a and b not in self.out]
        return sum(others, Fraction(0)) / len(others) if others else None

    def next(self) -> int | None:
        waiting = [a for a in self.start if a not in self.out]
        return min(waiting, key=lambda a: (self.level(a), self.place[a])) if waiting else None


class RotationMachine(RuleBasedStateMachine):
    """Random joins, bookings, cancellations, pauses, absences and moves: routing.rotation picks
    as the reference does, and equal weights stay within one meeting of each other."""

    def __init__(self) -> None:
        super().__init__()
        self.line = Line()
        self.ref = Reference()
        self.next_id = 0
        self.paused: set[int] = set()
        self.unsettling = False  # a cancellation or a short absence may put someone behind

    def _reset_start(self, a: int, level: Fraction) -> None:
        self.ref.start[a] = level - Fraction(self.ref.count[a], self.ref.weight[a])

    @rule(weight=st.sampled_from([1, 1, 1, 2]))
    def join(self, weight: int) -> None:
        a = self.next_id
        self.next_id += 1
        self.ref.start[a], self.ref.count[a], self.ref.weight[a] = Fraction(0), 0, weight
        self.ref.place[a] = max(self.ref.place.values(), default=-1) + 1
        mean = self.ref.mean_of_others(a)
        if mean is None and len(self.ref.start) > 1:
            self.unsettling = True  # nobody in turn to calibrate by: starts at 0
        self._reset_start(a, Fraction(0) if mean is None else mean)
        self.line.join(a, weight)

    @rule()
    def book(self) -> None:
        expected = self.ref.next()
        if expected is None:
            assert self.line.in_turn() == []
            return
        assert self.line.book() == expected
        self.ref.count[expected] += 1

    @precondition(lambda self: any(self.ref.count.values()))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        a = data.draw(st.sampled_from(sorted(a for a, c in self.ref.count.items() if c)))
        self.ref.count[a] -= 1
        m = self.line.members[a]
        self.line.set(a, level=rotation.uncredited(m.level, m.weight))
        self.unsettling = True

    @precondition(lambda self: self.ref.start)
    @rule(data=st.data())
    def toggle_pause(self, data: st.DataObject) -> None:
        a = data.draw(st.sampled_from(sorted(self.ref.start)))
        m = self.line.members[a]
        if a in self.paused:
            self.paused.discard(a)
            if a not in self.line.away:
                self.ref.out.discard(a)
            mean = self.ref.mean_of_others(a)
            if mean is not None:
                self._reset_start(a, max(self.ref.level(a), mean))
            self.line.set(
                a, paused=False, level=rotation.resumed_level(m.level, self.line.others(a))
            )
        else:
            self.paused.add(a)
            self.ref.out.add(a)
            self.line.set(a, paused=True)

    @precondition(lambda self: self.ref.start)
    @rule(data=st.data(), long=st.booleans())
    def away_and_back(self, data: st.DataObject, long: bool) -> None:
        """The calendar is lost, some bookings go to the others, and it comes back."""
        a = data.draw(st.sampled_from(sorted(self.ref.start)))
        self.ref.out.add(a)
        self.line.away.add(a)
        for _ in range(data.draw(st.integers(0, 5))):
            self.book()
        away_for = timedelta(hours=30 if long else 2)
        if a not in self.paused:
            self.ref.out.discard(a)
        self.line.away.discard(a)
        if long:
            mean = self.ref.mean_of_others(a)
            self._reset_start(a, Fraction(0) if mean is None else mean)
        else:
            self.unsettling = True
        m = self.line.members[a]
        self.line.set(a, level=rotation.returning_level(m.level, self.line.others(a), away_for))

    @precondition(lambda self: len(self.ref.start) > 1)
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        order = sorted(self.ref.place, key=self.ref.place.__getitem__)
        a = data.draw(st.sampled_from(order))
        order.remove(a)
        order.insert(data.draw(st.integers(0, len(order))), a)
        for place, b in enumerate(order):
            self.ref.place[b] = place
            self.line.set(b, position=place)

    @invariant()
    def levels_match_the_reference(self) -> None:
        for a, m in self.line.members.items():
            assert abs(Fraction(m.level) - self.ref.level(a)) < Fraction(1, 10**6)

    @invariant()
    def equal_weights_stay_within_one_meeting(self) -> None:
        if self.unsettling:
            return
        levels = [
            self.line.members[a].level
            for a in self.line.in_turn()
            if self.line.members[a].weight == 1
        ]
        assert not levels or max(levels) - min(levels) <= 1 + 1e-9


RotationMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None
)
TestRotationModel = RotationMachine.TestCase
