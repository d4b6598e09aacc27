"""The loader on a customer's page of another origin: launcher, panel, keyboard, the public API
and its DOM events, the visitor's id, continuing across pages, failures that stay inside it
(SPEC §2.9, DESIGN §6, widget/README.md; triggers and the poke: test_widget_triggers.py)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, Route, expect

from dialogues.conversations import record_events, start_conversation
from dialogues.identity import identity_hash
from dialogues.models import Visitor
from dynchat.models import Site
from tests.e2e.conftest import HostPages
from tests.e2e.widget_host import (
    dom_events,
    focused,
    launcher,
    page_errors,
    panel,
    poke,
    publish_dialogue,
    stored,
    visit,
)
from widget.appearance import ICONS

pytestmark = pytest.mark.browser


@pytest.fixture
def site(host_pages: HostPages) -> Site:
    return Site.objects.create(name="Acme", allowed_origins=[host_pages.origin])


def test_the_launcher_appears_where_a_dialogue_shows(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    version = publish_dialogue(site)
    ready = visit(page, host_pages.url(site.key))
    assert ready == {"enabled": True, "dialogue": version.dialogue_id}
    button = page.get_by_role("button", name="Open chat")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    # Drawn in a shadow root: the page's `button { all: unset }` does not reach it.
    assert button.evaluate("b => b.getRootNode() instanceof ShadowRoot")
    box = button.bounding_box()
    assert box is not None
    assert round(box["width"]) == 56


def test_no_launcher_for_an_origin_the_site_does_not_allow(
    page: Page, host_pages: HostPages
) -> None:
    site = Site.objects.create(name="Acme", allowed_origins=["https://www.acme.example"])
    publish_dialogue(site)
    blocked: list[str] = []
    page.on("requestfailed", lambda request: blocked.append(request.url))
    assert visit(page, host_pages.url(site.key)) == {"enabled": False}
    # Dynchat answered 403 without CORS headers, so the browser would not even hand it over.
    assert any("/api/widget/v1/decide" in url for url in blocked)
    assert page.locator("[data-dynchat]").count() == 0


def test_nothing_at_all_when_chat_is_switched_off(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    Site.objects.filter(pk=site.pk).update(chat_enabled=False)
    assert visit(page, host_pages.url(site.key)) == {"enabled": False}
    assert page.locator("[data-dynchat]").count() == 0
    assert stored(page) == {"local": {}, "session": {}}


def test_no_launcher_on_a_page_no_dialogue_targets(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    assert visit(page, host_pages.url(site.key)) == {"enabled": True}
    assert page.locator("[data-dynchat]").count() == 0


def test_the_loader_keeps_one_global_and_replays_early_calls(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    errors = page_errors(page)
    page.add_init_script(
        "window.Dynchat = window.Dynchat"
        " || function () { (Dynchat.q = Dynchat.q || []).push(arguments) };"
        "window.heard = [];"
        "Dynchat('on', 'ready', detail => window.heard.push(detail));"
        "Dynchat('no-such-command', 1, 2);"
        "Dynchat('toString');"
        "Dynchat('identify', {email: {}, ts: 'soon', hash: () => 1});"
        "Dynchat('open');"
    )
    visit(page, host_pages.url(site.key))
    page.wait_for_function("window.heard.length > 0")
    assert page.evaluate("typeof window.Dynchat") == "function"
    assert page.evaluate("window.heard") == [{"enabled": True, "dialogue": site.dialogues.get().pk}]
    # The queued open waited for the launcher.
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    expect(panel(page)).to_be_visible()
    assert errors == []


def test_the_loader_sends_no_query_string_and_never_credentials(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    # Browsers that still send third-party cookies would send Dynchat's with a credentialed
    # request; this Chromium blocks them anyway, so check what the loader asks fetch for.
    page.add_init_script(
        "window.fetchCalls = []; const realFetch = window.fetch;"
        "window.fetch = (url, init) => {"
        "  window.fetchCalls.push({url: String(url), credentials: init && init.credentials});"
        "  return realFetch(url, init); };"
    )
    with page.expect_request(lambda r: "/api/widget/v1/decide" in r.url) as request:
        page.goto(host_pages.url(site.key) + "&email=someone%40example.com")
    assert "someone" not in request.value.url
    calls = page.evaluate("window.fetchCalls")
    assert [call["credentials"] for call in calls] == ["omit"]


def test_the_launcher_and_panel_take_the_sites_appearance(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    site.appearance = {
        "position": "left",
        "offset_x": 40,
        "offset_y": 30,
        "primary": "#ffd400",  # light: the icon is drawn dark on it
        "icon": "question",
    }
    site.save()
    publish_dialogue(site)
    page.set_viewport_size({"width": 1200, "height": 900})
    visit(page, host_pages.url(site.key))
    button = launcher(page)
    box = button.bounding_box()
    assert box is not None
    assert (round(box["x"]), round(900 - box["y"] - box["height"])) == (40, 30)
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 212, 0)"
    assert button.evaluate("b => getComputedStyle(b).color") == "rgb(17, 17, 17)"
    assert button.locator("path").get_attribute("d") == ICONS["question"][1]
    button.click()
    frame_box = panel(page).bounding_box()
    assert frame_box is not None
    assert (round(frame_box["x"]), round(frame_box["width"])) == (40, 380)
    assert round(frame_box["height"]) == 600
    assert frame_box["y"] + frame_box["height"] < box["y"]  # above the launcher


def test_the_chat_is_usable_by_keyboard(page: Page, host_pages: HostPages, site: Site) -> None:
    site.appearance = {"poke": False}
    site.save()
    publish_dialogue(site)
    visit(page, host_pages.url(site.key))
    expect(launcher(page)).to_be_visible()
    for _ in range(10):
        page.keyboard.press("Tab")
        if focused(page) == "button.l":
            break
    assert focused(page) == "button.l"
    page.keyboard.press("Enter")
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Close chat")).to_be_visible()
    expect(panel(page)).to_be_visible()
    expect(panel(page)).to_have_attribute("title", "Chat")
    assert focused(page) == "iframe."
    page.evaluate("Dynchat('close')")
    expect(panel(page)).to_be_hidden()
    assert focused(page) == "button.l"
    expect(page.get_by_role("button", name="Open chat")).to_have_attribute("aria-expanded", "false")
    assert dom_events(page)[-1] == "closed"
    # Escape closes it too, wherever the focus is in the widget.
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    launcher(page).focus()
    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    assert focused(page) == "button.l"


def test_the_api_commands_and_their_dom_events(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    version = publish_dialogue(site)
    page.add_init_script(
        "window.Dynchat = function () { (Dynchat.q = Dynchat.q || []).push(arguments) };"
        "window.heard = [];"
        "for (const name of ['triggered', 'closed'])"
        "  Dynchat('on', name, detail => window.heard.push([name, detail]));"
        "Dynchat('on', 'closed', () => { throw new Error('a listener that fails'); });"
    )
    visit(page, host_pages.url(site.key))
    page.wait_for_function("window.heard.length === 1")
    page.evaluate("Dynchat('open')")
    expect(panel(page)).to_be_visible()
    page.evaluate("Dynchat('open')")  # already open: nothing changes
    page.evaluate("Dynchat('close')")
    expect(panel(page)).to_be_hidden()
    page.evaluate("Dynchat('close')")  # already closed: no second event
    detail = {"dialogue": version.dialogue_id}
    assert page.evaluate("window.heard") == [["triggered", detail], ["closed", detail]]
    assert dom_events(page) == ["ready", "triggered", "closed"]


def test_on_a_phone_the_panel_fills_the_screen_without_horizontal_scroll(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    page.set_viewport_size({"width": 375, "height": 667})
    visit(page, host_pages.url(site.key))
    launcher(page).click()
    expect(panel(page)).to_be_visible()
    box = panel(page).bounding_box()
    assert box is not None
    assert [round(box[key]) for key in ("x", "y", "width", "height")] == [0, 0, 375, 667]
    expect(launcher(page)).to_be_hidden()  # the frame has its own close button
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.evaluate("Dynchat('close')")
    expect(launcher(page)).to_be_visible()
    assert focused(page) == "button.l"


def test_the_visitor_id_and_cookie_go_with_the_next_pages_decision(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    cookie = "id:123-ABC-456&token:_mch-127.0.0.1-1700000000000-12345"
    page.context.add_cookies([{"name": "_mkto_trk", "value": cookie, "url": host_pages.origin}])
    with page.expect_request(lambda r: "/api/widget/v1/decide" in r.url) as first:
        visit(page, host_pages.url(site.key))
    assert "visitor=" not in first.value.url  # a new visitor has no id yet
    local = stored(page)["local"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", local["dynchat.visitor"])
    assert int(local["dynchat.first"]) > 0
    with page.expect_request(lambda r: "/api/widget/v1/decide" in r.url) as second:
        visit(page, host_pages.url(site.key, "/pricing"))
    query = page.evaluate("u => Object.fromEntries(new URL(u).searchParams)", second.value.url)
    assert query["visitor"] == local["dynchat.visitor"]
    assert query["mkto"] == cookie
    assert stored(page)["local"] == local  # the same visitor, the same first visit


def test_the_frame_is_made_after_the_page_has_loaded(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    visit(page, host_pages.url(site.key))
    # The frame's entry appears once it has loaded.
    frame = "performance.getEntriesByType('resource').find(e => e.name.includes('/widget/frame'))"
    page.wait_for_function(f"Boolean({frame})")
    loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    assert 0 < loaded <= page.evaluate(f"{frame}.startTime")
    expect(panel(page)).to_be_hidden()  # ready before the click, shown on it


def test_a_chat_frame_that_fails_to_load_breaks_nothing(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    errors = page_errors(page)

    def not_found(route: Route) -> None:
        route.fulfill(status=404, body="Not found")

    page.route("**/widget/frame?*", not_found)
    visit(page, host_pages.url(site.key))
    launcher(page).click()
    expect(panel(page)).to_be_visible()
    page.evaluate("Dynchat('close')")
    expect(panel(page)).to_be_hidden()
    launcher(page).click()
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    assert errors == []


def test_a_conversation_in_progress_continues_and_reopens_on_the_next_page(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    version = publish_dialogue(site)
    visit(page, host_pages.url(site.key))
    launcher(page).click()  # open on this page…
    expect(panel(page)).to_be_visible()
    visitor = stored(page)["local"]["dynchat.visitor"]
    assert stored(page)["session"] == {"dynchat.open": "1"}
    conversation, _ = start_conversation(
        site_id=site.pk, visitor_key=visitor, version_id=version.pk, url=host_pages.origin + "/",
        cookie="",
    )  # fmt: skip
    answer = {"seq": 100, "type": "answer", "card": "ask", "answer": "yes"}
    assert record_events(conversation, [answer]).error is None  # …and engaged
    ready = visit(page, host_pages.url(site.key, "/pricing"))
    assert ready == {"enabled": True, "dialogue": version.dialogue_id}
    # The panel is open again without a click.
    expect(panel(page)).to_be_visible()
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    assert "triggered" not in dom_events(page)
    expect(poke(page)).to_have_count(0)
    page.evaluate("Dynchat('close')")
    assert stored(page)["session"] == {"dynchat.open": "0"}
    visit(page, host_pages.url(site.key))
    expect(launcher(page)).to_be_visible()
    page.wait_for_load_state("load")
    expect(panel(page)).to_be_hidden()


def test_identify_sends_the_signed_identity_once_the_visitor_has_an_id(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    site.verify_identity = True
    site.save()
    publish_dialogue(site)
    email, ts = "ada@example.com", int(time.time())
    digest = identity_hash(site.identity_secret, email, ts)
    page.add_init_script(
        "window.Dynchat = function () { (Dynchat.q = Dynchat.q || []).push(arguments) };"
        f"Dynchat('identify', {{email: {email!r}, ts: {ts}, hash: {digest!r}}});"
    )
    with page.expect_response(lambda r: r.url.endswith("/v1/visitors/identify")) as response:
        visit(page, host_pages.url(site.key))
    visitor = stored(page)["local"]["dynchat.visitor"]
    body = {"site": site.key, "visitor": visitor, "email": email, "ts": ts, "hash": digest}
    assert response.value.request.post_data_json == body
    assert response.value.status == 200
    assert Visitor.objects.get(site=site, key=visitor).email == email  # identified


def test_blocked_storage_never_reaches_the_page_as_an_error(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    errors = page_errors(page)
    page.add_init_script(
        "for (const name of ['localStorage', 'sessionStorage']) {"
        "  Object.defineProperty(window, name, {get() {"
        "    throw new DOMException('The operation is insecure.', 'SecurityError'); }}); }"
    )
    visit(page, host_pages.url(site.key))
    launcher(page).click()
    expect(panel(page)).to_be_visible()
    page.evaluate("Dynchat('close'); Dynchat('consent.grant'); Dynchat('consent.revoke')")
    launcher(page).click()
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    assert errors == []


def test_an_unreachable_dynchat_leaves_the_page_alone(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    errors = page_errors(page)
    page.route("**/api/widget/v1/decide?*", lambda route: route.abort("connectionrefused"))
    assert visit(page, host_pages.url(site.key)) == {"enabled": False}
    assert page.locator("[data-dynchat]").count() == 0
    page.evaluate("Dynchat('open'); Dynchat('close'); Dynchat('consent.revoke')")
    assert errors == []
