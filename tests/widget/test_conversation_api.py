"""The conversation API: every status code of the contract, CORS for the site's origins only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from dialogues.models import Conversation, ConversationState, DialogueVersion, Visitor
from dynchat.models import Site
from sync.models import OutboxMessage
from tests.conftest import ALLOWED_ORIGIN
from tests.dialogues.test_conversations import (
    PAGE,
    VISITOR,
    custom_field,  # noqa: F401 (an autouse fixture: the flow's custom lead field)
    publish,
    republish,
)

START = reverse("widget:conversations")
# For an anonymous visitor: read the conversation; in a savepoint, lock the visitor, lock the
# conversation (with its site, version and dialogue), insert the batch's events, save the
# conversation.
QUERIES_PER_BATCH = 7


def post(client: Client, url: str, body: Any, token: str = "", **headers: str) -> Any:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(url, data, content_type="application/json", headers=headers)


def start_body(site: Site, version: DialogueVersion, **extra: Any) -> dict[str, Any]:
    return {"site": site.key, "visitor": VISITOR, "version": version.pk, "url": PAGE, **extra}


def start(client: Client, site: Site, version: DialogueVersion, **extra: Any) -> Any:
    return post(client, START, start_body(site, version, **extra), Origin=ALLOWED_ORIGIN)


def events_url(conversation_id: int) -> str:
    return reverse("widget:events", args=[conversation_id])


def started(client: Client, site: Site, version: DialogueVersion) -> tuple[int, str]:
    """A conversation started a minute ago (people take longer than the lead guard's minimum)."""
    answer = start(client, site, version).json()
    pk = answer["conversation"]["id"]
    Conversation.objects.filter(pk=pk).update(started_at=timezone.now() - timedelta(minutes=1))
    return pk, answer["token"]


def send(client: Client, pk: int, token: str, *events: dict[str, Any]) -> Any:
    return post(client, events_url(pk), {"events": list(events)}, token, Origin=ALLOWED_ORIGIN)


def error(response: Any) -> str:
    return str(response.json()["error"]["code"])


@pytest.fixture
def version(site: Site) -> DialogueVersion:
    return publish(site)


def test_starting_answers_201_with_a_token_and_the_state(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    response = start(client, site, version, mkto="id:1&token:_mch-a.example-1-2")
    assert response.status_code == 201
    body = response.json()
    conversation = Conversation.objects.get()
    assert body["token"] == conversation.token
    assert body["conversation"]["id"] == conversation.pk
    assert body["conversation"]["card"] == "q1"
    assert body["conversation"]["state"] == "triggered"
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert response["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Credentials" not in response
    assert not response.cookies
    assert Visitor.objects.get().munchkin_cookie == "_mch-a.example-1-2"


def test_starting_again_answers_200_with_the_same_conversation(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    first = start(client, site, version).json()
    response = start(client, site, version)
    assert response.status_code == 200
    assert response.json() == first


def test_without_an_origin_header_the_pages_origin_must_be_allowed(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    assert post(client, START, start_body(site, version)).status_code == 201
    evil = start_body(site, version, url="https://evil.test/")
    response = post(client, START, evil)
    assert response.status_code == 403
    assert error(response) == "origin_not_allowed"


def test_another_origin_is_refused_and_cannot_read_the_answer(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    response = post(client, START, start_body(site, version), Origin="https://evil.test")
    assert response.status_code == 403
    assert error(response) == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"site": "no-such-site"}, 404, "site_not_found"),
        ({"version": 999999}, 404, "version_not_found"),
        ({"visitor": "short"}, 400, "invalid_request"),
        ({"admin": True}, 400, "invalid_request"),
    ],
)
def test_start_errors(
    client: Client,
    site: Site,
    version: DialogueVersion,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = post(client, START, {**start_body(site, version), **change}, Origin=ALLOWED_ORIGIN)
    assert response.status_code == status
    assert error(response) == code


def test_an_invalid_start_names_the_fields(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    response = post(client, START, {"site": site.key, "version": "1"}, Origin=ALLOWED_ORIGIN)
    fields = response.json()["error"]["fields"]
    assert {"", "version"} <= set(fields)


def test_a_version_not_offered_is_refused(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    republish(version, "Changed")
    response = start(client, site, version)
    assert response.status_code == 409
    assert error(response) == "version_not_offered"


def test_a_completed_dialogue_is_refused(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    send(client, pk, token, {"seq": 1, "type": "answer", "card": "q1", "answer": "no"})
    response = start(client, site, version)
    assert response.status_code == 409
    assert error(response) == "dialogue_completed"


def test_a_switched_off_site_starts_nothing(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    site.set_chat_enabled(False)
    response = start(client, site, version)
    assert response.status_code == 409
    assert error(response) == "chat_disabled"
    assert not Conversation.objects.exists()


@override_settings(RATELIMITS={**settings.RATELIMITS, "widget-conversation": "2/m"})
def test_starts_are_rate_limited_per_address_and_site(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    assert start(client, site, version).status_code == 201
    assert start(client, site, version).status_code == 200
    response = start(client, site, version)
    assert response.status_code == 429
    assert error(response) == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN  # the widget can read it
    elsewhere = client.post(
        START, start_body(site, version), content_type="application/json", REMOTE_ADDR="192.0.2.9"
    )
    assert elsewhere.status_code == 200


def test_the_state_is_read_with_the_bearer_token(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    url = reverse("widget:conversation", args=[pk])
    response = client.get(
        url, headers={"Authorization": f"Bearer {token}", "Origin": ALLOWED_ORIGIN}
    )
    assert response.status_code == 200
    assert response.json()["conversation"]["id"] == pk
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 401, "token_missing"),
        ("Bearer nonsense", 401, "token_invalid"),
        ("Basic {token}", 401, "token_invalid"),
        ("Bearer {other}", 403, "token_mismatch"),
    ],
)
@pytest.mark.parametrize("route", ["widget:conversation", "widget:events"])
def test_token_errors(
    client: Client,
    site: Site,
    version: DialogueVersion,
    authorization: str | None,
    status: int,
    code: str,
    route: str,
) -> None:
    pk, token = started(client, site, version)
    second = publish(site, name="Other")
    other = Conversation.objects.create(
        visitor=Visitor.objects.get(), dialogue=second.dialogue, version=second
    )
    headers = {}
    if authorization:
        headers["Authorization"] = authorization.format(token=token, other=other.token)
    url = reverse(route, args=[pk])
    if route == "widget:events":
        response = post(client, url, {"events": [{"seq": 1, "type": "opened"}]}, **headers)
    else:
        response = client.get(url, headers=headers)
    assert response.status_code == status
    assert error(response) == code
    assert Conversation.objects.get(pk=pk).last_seq == 0


def test_a_genuine_token_of_a_deleted_conversation_is_not_found(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    Conversation.objects.filter(pk=pk).delete()
    response = send(client, pk, token, {"seq": 1, "type": "opened"})
    assert response.status_code == 404
    assert error(response) == "conversation_not_found"


def test_events_answer_202_with_the_new_state(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    response = send(
        client, pk, token,
        {"seq": 1, "type": "opened"},
        {"seq": 2, "type": "answer", "card": "q1", "answer": "yes"},
        {"seq": 3, "type": "capture", "card": "name", "value": "Ada"},
    )  # fmt: skip
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 3
    assert body["conversation"]["card"] == "mail"
    assert "transcript" not in body["conversation"]  # the widget has it; it only grows
    assert body["conversation"]["lead"] == {"lead": {"firstName": "Ada"}, "company": {}}
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    again = send(client, pk, token, {"seq": 3, "type": "closed"})
    assert again.status_code == 202
    assert again.json()["accepted"] == 0


def test_an_email_capture_reaches_the_outbox(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    send(
        client, pk, token,
        {"seq": 1, "type": "answer", "card": "q1", "answer": "yes"},
        {"seq": 2, "type": "capture", "card": "name", "value": "Ada"},
        {"seq": 3, "type": "capture", "card": "mail", "value": "ada@example.com", "hp": ""},
    )  # fmt: skip
    assert OutboxMessage.objects.filter(key=f"conversation:{pk}:lead:3").exists()


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"type": "answer", "card": "mail", "answer": "yes"}, "card_not_current"),
        ({"type": "answer", "card": "name", "answer": "maybe"}, "invalid_answer"),
        ({"type": "capture", "card": "name", "value": "x" * 201}, "invalid_value"),
    ],
)
def test_refused_events_answer_422_and_keep_the_ones_before(
    client: Client, site: Site, version: DialogueVersion, event: dict[str, Any], code: str
) -> None:
    pk, token = started(client, site, version)
    first = {"seq": 1, "type": "answer", "card": "q1", "answer": "yes"}
    response = send(client, pk, token, first, {"seq": 2, **event})
    assert response.status_code == 422
    assert error(response) == code
    assert response.json()["accepted"] == 1
    assert response.json()["conversation"]["last_seq"] == 1


def test_events_on_a_completed_conversation_answer_409(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    send(client, pk, token, {"seq": 1, "type": "answer", "card": "q1", "answer": "no"})
    response = send(client, pk, token, {"seq": 2, "type": "answer", "card": "q1", "answer": "no"})
    assert response.status_code == 409
    assert error(response) == "conversation_completed"
    assert Conversation.objects.get().state == ConversationState.COMPLETED


@override_settings(RATELIMITS={**settings.RATELIMITS, "widget-events": "1/m"})
def test_events_are_rate_limited(client: Client, site: Site, version: DialogueVersion) -> None:
    pk, token = started(client, site, version)
    assert send(client, pk, token, {"seq": 1, "type": "opened"}).status_code == 202
    response = send(client, pk, token, {"seq": 2, "type": "closed"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert Conversation.objects.get().last_seq == 1


@override_settings(RATELIMITS={**settings.RATELIMITS, "widget-lead": "1/h"})
def test_email_captures_are_rate_limited_per_address_and_site(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    codes = []
    for visitor in ["visitor-aaaaaaaaaaaaaaaa", "visitor-bbbbbbbbbbbbbbbb"]:
        body = start_body(site, version, visitor=visitor)
        answer = post(client, START, body, Origin=ALLOWED_ORIGIN).json()
        pk, token = answer["conversation"]["id"], answer["token"]
        Conversation.objects.filter(pk=pk).update(started_at=timezone.now() - timedelta(hours=1))
        response = send(
            client, pk, token,
            {"seq": 1, "type": "answer", "card": "q1", "answer": "yes"},
            {"seq": 2, "type": "capture", "card": "name", "value": "Ada"},
            {"seq": 3, "type": "capture", "card": "mail", "value": f"{visitor}@example.com"},
        )  # fmt: skip
        codes.append(response.status_code)
    assert codes == [202, 429]
    assert response.json()["accepted"] == 2
    assert int(response["Retry-After"]) >= 1


def test_a_body_over_16_kib_is_refused_before_parsing(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    big = json.dumps(
        {"events": [{"seq": 1, "type": "opened"}], "url": "https://a.example/" + "x" * 17000}
    )
    response = post(client, events_url(pk), big, token)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("url", "methods"),
    [(START, "POST"), ("conversation", "GET"), ("events", "POST")],
)
def test_preflights_answer_the_sites_origins_only(
    client: Client, site: Site, version: DialogueVersion, url: str, methods: str
) -> None:
    """W-6 for the conversation API: preflights answer the site's exact origins only."""
    pk, _ = started(client, site, version)
    if url != START:
        url = reverse(f"widget:{url}", args=[pk])
    request = {
        "Access-Control-Request-Method": methods,
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = client.options(url, headers={"Origin": ALLOWED_ORIGIN, **request})
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert allowed["Access-Control-Allow-Methods"] == methods
    assert allowed["Access-Control-Allow-Headers"] == "Content-Type, Authorization"
    assert int(allowed["Access-Control-Max-Age"]) > 0
    assert "Origin" in allowed["Vary"]
    refused = client.options(url, headers={"Origin": "https://evil.test", **request})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused


def test_a_batch_of_events_costs_a_fixed_number_of_queries_however_many_events_it_holds(
    client: Client,
    site: Site,
    version: DialogueVersion,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """The conversation is read once per request (rate key, CORS and token check share it) and
    the batch's events are inserted together."""
    pk, token = started(client, site, version)
    opened = [{"seq": seq, "type": "opened"} for seq in range(1, 11)]
    with django_assert_max_num_queries(QUERIES_PER_BATCH) as ten:
        assert send(client, pk, token, *opened).status_code == 202
    with django_assert_max_num_queries(QUERIES_PER_BATCH) as one:
        assert send(client, pk, token, {"seq": 11, "type": "closed"}).status_code == 202
    assert len(ten.captured_queries) == len(one.captured_queries)  # one insert for the batch
    assert Conversation.objects.get(pk=pk).events.filter(kind="opened").count() == 10


def test_the_answer_to_events_lists_the_cards_the_answer_led_to(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    body = send(client, pk, token, {"seq": 1, "type": "answer", "card": "q1", "answer": "yes"})
    # Past the goal (nothing to show) to the name capture awaiting the visitor.
    assert body.json()["conversation"]["path"] == ["name"]


def test_a_resumed_conversation_lists_every_card_shown_with_the_transcript(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    pk, token = started(client, site, version)
    send(client, pk, token, {"seq": 1, "type": "answer", "card": "q1", "answer": "yes"})
    resumed = start(client, site, version)
    assert resumed.status_code == 200
    conversation = resumed.json()["conversation"]
    assert conversation["path"] == ["c1", "q1", "name"]
    assert conversation["transcript"] == [{"type": "answer", "card": "q1", "value": "Yes please"}]


WITHDRAW = reverse("widget:withdraw")


def test_withdrawing_consent_voids_the_visitors_tokens_at_once(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    """P-9, server side: one request ends the conversation token; the browser id is retired."""
    pk, token = started(client, site, version)
    body = {"site": site.key, "visitor": VISITOR}
    assert post(client, WITHDRAW, body, Origin=ALLOWED_ORIGIN).status_code == 204
    refused = send(client, pk, token, {"seq": 1, "type": "opened"})
    assert refused.status_code == 401
    assert error(refused) == "token_revoked"
    url = reverse("widget:conversation", args=[pk])
    read = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert read.status_code == 401
    visitor = Visitor.objects.get()
    assert visitor.withdrawn_at is not None
    assert visitor.key != VISITOR
    # The same browser id now starts afresh, as a new visitor with nothing of the old one.
    again = start(client, site, version)
    assert again.status_code == 201
    assert again.json()["conversation"]["transcript"] == []
    assert Visitor.objects.count() == 2


def test_withdrawing_an_unknown_visitor_answers_the_same(client: Client, site: Site) -> None:
    body = {"site": site.key, "visitor": "never-seen-visitor-0001"}
    assert post(client, WITHDRAW, body, Origin=ALLOWED_ORIGIN).status_code == 204


@pytest.mark.parametrize(
    ("body", "origin", "status"),
    [
        ({"site": "no-such-site-key", "visitor": VISITOR}, ALLOWED_ORIGIN, 404),
        ({"site": "SITE", "visitor": VISITOR}, "https://evil.test", 403),
        ({"site": "SITE", "visitor": VISITOR, "extra": 1}, ALLOWED_ORIGIN, 400),
        ({"site": "SITE", "visitor": "short"}, ALLOWED_ORIGIN, 400),
    ],
)
def test_withdraw_errors(
    client: Client, site: Site, body: dict[str, Any], origin: str, status: int
) -> None:
    if body["site"] == "SITE":
        body = {**body, "site": site.key}
    assert post(client, WITHDRAW, body, Origin=origin).status_code == status


def test_the_chat_frame_on_dynchats_own_origin_starts_for_the_page_that_embeds_it(
    client: Client, site: Site, version: DialogueVersion
) -> None:
    """The frame's requests carry Dynchat's origin; the page URL then says which site page it is."""
    own = "http://testserver"
    assert post(client, START, start_body(site, version), Origin=own).status_code == 201
    elsewhere = start_body(site, version, url="https://evil.test/page")
    assert post(client, START, elsewhere, Origin=own).status_code == 403
