"""Consent: nothing stored or asked before the visitor's click or the page's grant (P-8); the host's
consent tool grants and revokes through the loader, and a revoke ends the tokens at once (P-9)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, Response, expect

from dialogues.models import Conversation, Visitor
from dynchat.models import Site
from tests.e2e.conftest import HostPages
from tests.e2e.widget_host import launcher, panel, poke, publish_dialogue, stored, visit

pytestmark = pytest.mark.browser


@pytest.fixture
def site(host_pages: HostPages) -> Site:
    site = Site.objects.create(
        name="Acme", allowed_origins=[host_pages.origin], require_consent=True
    )
    publish_dialogue(site)
    return site


def started(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/v1/conversations")


def settle(page: Page) -> None:
    """Let the loader finish what it does after the load event (it waits a task past it)."""
    page.wait_for_load_state("load")
    page.evaluate("new Promise(resolve => setTimeout(resolve, 50))")


def nothing_kept(page: Page) -> dict[str, Any]:
    return {
        "cookies": page.context.cookies(),
        "storage": stored(page),
        "databases": page.evaluate("indexedDB.databases()"),
    }


NOTHING: dict[str, Any] = {
    "cookies": [],
    "storage": {"local": {}, "session": {}},
    "databases": [],
}


def test_nothing_is_stored_or_asked_before_the_visitor_clicks(
    page: Page, host_pages: HostPages, site: Site, live_server: Any
) -> None:
    """P-8: the loader and the decision only; no id, no frame, nothing kept in the browser
    (an identity the page gives waits for a visitor id)."""
    page.add_init_script(
        "window.Dynchat = function () { (Dynchat.q = Dynchat.q || []).push(arguments) };"
        "Dynchat('identify', {email: 'ada@example.com', ts: 1800000000});"
    )
    dynchat: list[str] = []
    page.on(
        "request",
        lambda r: (
            dynchat.append(r.url.split("?")[0]) if r.url.startswith(live_server.url) else None
        ),
    )
    visit(page, host_pages.url(site.key))
    expect(poke(page)).to_be_visible()  # triggered: the poke shows, the conversation waits
    settle(page)
    assert nothing_kept(page) == NOTHING
    assert dynchat == [f"{live_server.url}/widget.js", f"{live_server.url}/api/widget/v1/decide"]
    assert panel(page).count() == 0
    assert not Visitor.objects.exists()


def test_the_click_on_the_launcher_starts_the_conversation(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    """P-8: the click is the visitor's consent: the id is kept and the conversation starts."""
    visit(page, host_pages.url(site.key))
    with page.expect_response(started) as response:
        launcher(page).click()
    assert response.value.status == 201
    visitor = stored(page)["local"]["dynchat.visitor"]
    assert Conversation.objects.filter(visitor__key=visitor, dialogue__site=site).exists()
    expect(panel(page)).to_be_visible()


def test_after_a_revoke_the_chat_works_with_ids_in_memory_only(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    """P-8: consent declined: the visitor may still chat; the browser keeps nothing."""
    page.add_init_script(
        "window.Dynchat = function () { (Dynchat.q = Dynchat.q || []).push(arguments) };"
        "Dynchat('consent.revoke');"
    )
    visit(page, host_pages.url(site.key))
    with page.expect_response(started) as response:
        launcher(page).click()
    assert response.value.status == 201
    conversation = Conversation.objects.select_related("visitor").get(dialogue__site=site)
    assert len(conversation.visitor.key) == 22
    page.evaluate("Dynchat('close')")
    settle(page)
    assert nothing_kept(page) == NOTHING


def test_a_grant_keeps_the_id_and_a_revoke_forgets_it_and_ends_the_token(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    """P-9: the host's consent tool calls the loader; a revoke ends the token within one request."""
    visit(page, host_pages.url(site.key))
    settle(page)
    assert stored(page)["local"] == {}
    # The dialogue was triggered already: with the grant, its conversation starts (and counts).
    with page.expect_response(started):
        page.evaluate("Dynchat('consent.grant')")
    local = stored(page)["local"]
    assert set(local) == {"dynchat.visitor", "dynchat.first"}
    conversation = Conversation.objects.get(visitor__key=local["dynchat.visitor"])
    token = conversation.token
    client = Client()
    events = reverse("widget:events", kwargs={"conversation_id": conversation.pk})
    headers = {"Origin": host_pages.origin, "Authorization": f"Bearer {token}"}

    def answer(seq: int) -> Any:
        body = {"events": [{"seq": seq, "type": "answer", "card": "ask", "answer": "yes"}]}
        return client.post(events, body, content_type="application/json", headers=headers)

    assert answer(100).status_code == 202  # a little conversation
    with page.expect_response(lambda r: r.url.endswith("/v1/visitors/withdraw")) as withdrawn:
        page.evaluate("Dynchat('consent.revoke')")
    assert withdrawn.value.status == 204
    assert stored(page) == {"local": {}, "session": {}}
    refused = client.get(
        reverse("widget:conversation", kwargs={"conversation_id": conversation.pk}),
        headers=headers,
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"
    assert answer(101).json()["error"]["code"] == "token_revoked"
    # The page goes on without storage: opening again keeps nothing.
    page.evaluate("Dynchat('open')")
    page.evaluate("Dynchat('close')")
    assert stored(page) == {"local": {}, "session": {}}
