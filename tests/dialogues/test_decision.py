"""The pure decision: which dialogue shows, when, and why the others do not (reference §18)."""

from __future__ import annotations

from typing import Any

from dialogues.decision import Candidate, Ongoing, VisitorState, decide

WP1 = "https://a.example/pricing"
WP2 = "https://a.example/blog/post"


def dialogue(
    dialogue_id: int,
    *,
    pages: tuple[str, ...] = ("https://a.example/*",),
    exclude: tuple[str, ...] = (),
    priority: int = 1,
    version: int | None = None,
    audience: list[dict[str, Any]] | None = None,
    trigger: dict[str, Any] | None = None,
) -> Candidate:
    return Candidate.from_targeting(
        dialogue_id=dialogue_id,
        version_id=version or dialogue_id * 10,
        name=f"D{dialogue_id}",
        priority=priority,
        targeting={
            "include": list(pages),
            "exclude": list(exclude),
            "audience": audience or [],
            "trigger": trigger or {"kind": "immediately", "amount": 0},
        },
    )


def ongoing(dialogue_id: int, *, engaged: bool, version: int | None = None) -> Ongoing:
    return Ongoing(
        conversation_id=dialogue_id * 100,
        dialogue_id=dialogue_id,
        version_id=version or dialogue_id * 10,
        name=f"D{dialogue_id}",
        engaged=engaged,
    )


def state(*items: Ongoing, completed: tuple[int, ...] = ()) -> VisitorState:
    return VisitorState({o.dialogue_id: o for o in items}, frozenset(completed))


def test_a_dialogue_targeting_the_page_shows_to_a_new_visitor() -> None:
    result = decide(chat_enabled=True, candidates=[dialogue(1)], url=WP1)
    assert (result.outcome, result.dialogue_id, result.version_id) == ("show", 1, 10)
    assert result.trigger.kind == "immediately"
    assert result.conversation_id is None


def test_a_refresh_before_engaging_resolves_the_same_dialogue_and_conversation() -> None:
    """§18: V1 refreshes → D1 is resolved again (the existing conversation: no new trigger)."""
    result = decide(
        chat_enabled=True,
        candidates=[dialogue(1)],
        url=WP1,
        state=state(ongoing(1, engaged=False)),
    )
    assert (result.outcome, result.dialogue_id, result.conversation_id) == ("show", 1, 100)


def test_an_engaged_visitor_continues_where_they_were_after_a_refresh() -> None:
    result = decide(
        chat_enabled=True, candidates=[dialogue(1)], url=WP1, state=state(ongoing(1, engaged=True))
    )
    assert (result.outcome, result.dialogue_id, result.conversation_id) == ("continue", 1, 100)


def test_a_completed_dialogue_never_shows_again_and_the_next_eligible_one_does() -> None:
    """§18: V1 completes D1 → no dialogue, or the next eligible one; even after republishing."""
    completed = state(completed=(1,))
    alone = decide(
        chat_enabled=True, candidates=[dialogue(1, version=99)], url=WP1, state=completed
    )
    assert alone.outcome == "none"
    assert "completed" in alone.rejected[0].reason
    both = decide(
        chat_enabled=True,
        candidates=[dialogue(1), dialogue(2, priority=2)],
        url=WP1,
        state=completed,
    )
    assert (both.outcome, both.dialogue_id) == ("show", 2)


def test_an_engaged_dialogue_continues_on_a_page_it_does_not_target() -> None:
    """§18: D1 on WP1 only, D2 on WP2 only; engaged in D1 → D1 continues on WP2."""
    d1 = dialogue(1, pages=(WP1,))
    d2 = dialogue(2, pages=(WP2,))
    result = decide(
        chat_enabled=True, candidates=[d1, d2], url=WP2, state=state(ongoing(1, engaged=True))
    )
    assert (result.outcome, result.dialogue_id) == ("continue", 1)
    assert [r.dialogue_id for r in result.rejected] == [2]
    assert "in progress" in result.rejected[0].reason


def test_a_visitor_who_only_saw_d1_gets_d2_on_its_page() -> None:
    d1 = dialogue(1, pages=(WP1,))
    d2 = dialogue(2, pages=(WP2,))
    seen = decide(
        chat_enabled=True, candidates=[d1, d2], url=WP2, state=state(ongoing(1, engaged=False))
    )
    assert (seen.outcome, seen.dialogue_id) == ("show", 2)
    done = decide(chat_enabled=True, candidates=[d1, d2], url=WP2, state=state(completed=(1,)))
    assert (done.outcome, done.dialogue_id) == ("show", 2)


def test_an_unpublished_dialogue_stops_for_the_unengaged_but_continues_for_the_engaged() -> None:
    """§18: D1 unpublished (no longer a candidate): unengaged → D2 or nothing; engaged → D1."""
    d2 = dialogue(2, priority=2)
    unengaged = decide(
        chat_enabled=True, candidates=[d2], url=WP1, state=state(ongoing(1, engaged=False))
    )
    assert (unengaged.outcome, unengaged.dialogue_id) == ("show", 2)
    nothing = decide(
        chat_enabled=True, candidates=[], url=WP1, state=state(ongoing(1, engaged=False))
    )
    assert nothing.outcome == "none"
    engaged = decide(
        chat_enabled=True, candidates=[d2], url=WP1, state=state(ongoing(1, engaged=True))
    )
    assert (engaged.outcome, engaged.dialogue_id, engaged.version_id) == ("continue", 1, 10)


def test_after_republishing_the_unengaged_get_the_new_version_and_the_engaged_keep_theirs() -> None:
    republished = dialogue(1, version=11)
    fresh = decide(
        chat_enabled=True,
        candidates=[republished],
        url=WP1,
        state=state(ongoing(1, engaged=False, version=10)),
    )
    assert (fresh.outcome, fresh.version_id) == ("show", 11)
    kept = decide(
        chat_enabled=True,
        candidates=[republished],
        url=WP1,
        state=state(ongoing(1, engaged=True, version=10)),
    )
    assert (kept.outcome, kept.version_id) == ("continue", 10)


def test_two_completed_dialogues_are_never_shown_again() -> None:
    result = decide(
        chat_enabled=True,
        candidates=[dialogue(1, version=12), dialogue(2, version=21)],
        url=WP1,
        state=state(completed=(1, 2)),
    )
    assert result.outcome == "none"


def test_an_event_trigger_is_resolved_on_load_and_met_earlier_shows_at_once() -> None:
    """§18 events: resolved on load with its trigger; met in an earlier visit → immediately."""
    timed = dialogue(1, trigger={"kind": "time_on_site", "amount": 30})
    first = decide(chat_enabled=True, candidates=[timed], url=WP1)
    assert (first.outcome, first.trigger.kind, first.trigger.amount) == ("show", "time_on_site", 30)
    back = decide(
        chat_enabled=True, candidates=[timed], url=WP1, state=state(ongoing(1, engaged=False))
    )
    assert back.trigger.kind == "immediately"


def test_priority_one_wins_and_the_loser_is_told_why() -> None:
    result = decide(
        chat_enabled=True,
        candidates=[dialogue(2, priority=3), dialogue(1, priority=1)],
        url=WP1,
    )
    assert result.dialogue_id == 1
    assert [(r.dialogue_id, r.reason) for r in result.rejected] == [
        (2, "“D1” has a higher priority (P1).")
    ]


def test_equal_priorities_go_to_the_older_dialogue() -> None:
    result = decide(chat_enabled=True, candidates=[dialogue(7), dialogue(3)], url=WP1)
    assert result.dialogue_id == 3


def test_pages_audience_and_exclusions_each_give_their_reason() -> None:
    anonymous_only = [
        {
            "match": "all",
            "conditions": [{"attribute": "lead.email", "operator": "is_empty", "value": ""}],
        }
    ]
    result = decide(
        chat_enabled=True,
        candidates=[
            dialogue(1, pages=("https://b.example/*",)),
            dialogue(2, exclude=("https://a.example/pricing",)),
            dialogue(3, audience=anonymous_only),
            dialogue(4, pages=()),
        ],
        url=WP1,
        facts={"lead.email": "ann@example.com"},
    )
    assert result.outcome == "none"
    reasons = {r.dialogue_id: r.reason for r in result.rejected}
    assert reasons[1] == "The page matches none of its target pages."
    assert reasons[2] == "The page matches an exclude pattern."
    assert reasons[3].startswith("The visitor is not in its audience.")
    assert "lead.email is empty" in reasons[3]
    assert reasons[4] == "It has no target pages."


def test_anonymous_visitors_are_targeted_with_an_empty_lead_email() -> None:
    anonymous_only = [
        {
            "match": "all",
            "conditions": [{"attribute": "lead.email", "operator": "is_empty", "value": ""}],
        }
    ]
    candidates = [dialogue(1, audience=anonymous_only)]
    assert decide(chat_enabled=True, candidates=candidates, url=WP1).outcome == "show"


def test_query_strings_do_not_matter_for_page_targeting() -> None:
    result = decide(
        chat_enabled=True, candidates=[dialogue(1, pages=(WP1,))], url=WP1 + "?utm_source=x#top"
    )
    assert result.outcome == "show"


def test_the_kill_switch_hides_everything_even_an_engaged_conversation() -> None:
    result = decide(
        chat_enabled=False,
        candidates=[dialogue(1)],
        url=WP1,
        state=state(ongoing(1, engaged=True)),
    )
    assert result.outcome == "none"
    assert result.reason == "Chat is switched off for this site."


def test_a_url_that_is_not_http_is_never_targeted() -> None:
    result = decide(chat_enabled=True, candidates=[dialogue(1)], url="ftp://a.example/x")
    assert result.outcome == "none"
