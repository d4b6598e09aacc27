"""The conversation token stays out of URLs and Referer headers; errors say nothing inside (W-13).

Every request of a journey through the loader and the chat frame is recorded in the browser: the
token the start answered must never show up in a URL or a Referer. The widget API's error answers,
provoked from inside the frame as a forger would, carry no stack trace and no SQL (ASVS 16.5.1).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Frame, Page, Request, Response, expect

from dialogues.models import Conversation
from dynchat.models import Site
from tests.e2e.chat import Trouble, publish_flow, type_answer
from tests.e2e.conftest import HostPages

pytestmark = pytest.mark.browser

FLOW = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hello!", "next": "why"},
        "why": {"type": "question", "text": "Why are you here?", "field": None, "answers": [
            {"id": "look", "label": "Just looking", "value": "look", "next": "email"}]},
        "email": {"type": "capture", "input": "email", "prompt": "Your e-mail?", "field": "email",
                  "next": "end"},
        "end": {"type": "end"},
    },
}  # fmt: skip
LEAKS = re.compile(r"Traceback|File \"|psycopg|SELECT |INSERT |UPDATE |django\.|\.py\b", re.I)


class Recorder:
    """Every request the page and its frames make, and the answers to conversation starts."""

    def __init__(self, page: Page) -> None:
        self.requests: list[Request] = []
        self.starts: list[int] = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("response", self.response)

    def response(self, response: Response) -> None:
        if response.request.method == "POST" and response.url.endswith("/conversations"):
            self.starts.append(response.status)


def provoke_errors(frame: Frame, conversation: int, token: str) -> list[dict[str, Any]]:
    """Ask the API what a forger would, from the frame's own origin; the answers as received."""
    return list(
        frame.evaluate(
            """async ([id, token]) => {
              const events = `/api/widget/v1/conversations/${id}/events`;
              const json = {"Content-Type": "application/json"};
              const tries = [
                [events, {method: "POST", headers: {...json, Authorization: "Bearer forged"},
                          body: '{"events": []}'}],
                [events, {method: "POST", headers: {...json, Authorization: "Bearer " + token},
                          body: '{"events": [{"seq": "x"'}],
                [events, {method: "POST", headers: {...json, Authorization: "Bearer " + token},
                          body: JSON.stringify({events: [{seq: 1000, type: "answer", card: "nope",
                                                 answer: "\\0'; DROP TABLE x;--"}]})}],
                [events, {method: "POST", headers: {Authorization: "Bearer " + token},
                          body: "type=answer"}],
                [`/api/widget/v1/conversations/${id}`,
                 {headers: {Authorization: "Bearer " + token.slice(0, -2) + "xx"}}],
                ["/api/widget/v1/conversations/99999999999999999999",
                 {headers: {Authorization: "Bearer " + token}}],
                ["/api/widget/v1/conversations",
                 {method: "POST", headers: json, body: '{"site": 1}'}],
                ["/api/widget/v1/versions/0?site=%00", {}],
              ];
              const answers = [];
              for (const [url, init] of tries) {
                const response = await fetch(url, {...init, credentials: "omit"});
                answers.push({url, status: response.status, body: await response.text()});
              }
              return answers;
            }""",
            [conversation, token],
        )
    )


def test_the_token_never_travels_in_a_url_or_referer_and_errors_say_nothing_inside(
    page: Page, host_pages: HostPages, transactional_db: None, settings: Any
) -> None:
    """W-13."""
    settings.LEAD_GUARD_MIN_SECONDS = 0
    site = Site.objects.create(
        name="Acme", allowed_origins=[host_pages.origin], appearance={"delay_ms": 0}
    )
    publish_flow(site, FLOW, host_pages.origin)
    trouble = Trouble().watch(page)
    recorder = Recorder(page)

    page.goto(host_pages.url(site.key))
    page.get_by_role("button", name="Open chat").click()
    chat = page.frame_locator("iframe[title=Chat]")
    chat.get_by_role("button", name="Just looking").click()
    expect(chat.get_by_label("Your e-mail?")).to_be_visible()
    page.reload()  # the resume answers with the token again
    chat = page.frame_locator("iframe[title=Chat]")
    type_answer(chat.get_by_label("Your e-mail?"), "someone@example.com")
    expect(chat.get_by_text("This conversation has ended.")).to_be_visible()

    conversation = Conversation.objects.get()
    assert recorder.starts == [201, 200]  # started, then resumed after the reload
    token = conversation.token
    secret = token.split(".", 1)[1]  # the MAC: what makes the token
    frame = next(frame for frame in page.frames if "/widget/frame" in frame.url)
    errors = provoke_errors(frame, conversation.pk, token)

    api = [request for request in recorder.requests if "/api/widget/" in request.url]
    assert any(request.url.endswith("/events") for request in api)
    for request in recorder.requests:
        assert secret not in request.url
        headers = request.all_headers()
        assert secret not in headers.get("referer", ""), request.url
        assert all(
            secret not in value for name, value in headers.items() if name != "authorization"
        )
    sent_with_token = [r for r in api if r.all_headers().get("authorization") == f"Bearer {token}"]
    assert sent_with_token, "the frame sends its token in the Authorization header"

    for answer in errors:
        assert 400 <= answer["status"] < 500, answer
        assert not LEAKS.search(answer["body"]), answer
        assert secret not in answer["body"], answer["url"]
        assert "error" in json.loads(answer["body"]), answer
    assert trouble.dialogs == []
    assert trouble.csp_violations == []
