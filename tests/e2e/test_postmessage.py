"""W-9: postMessage between the loader and the chat frame cannot be spoofed. Windows that are not
the one each side trusts flood both with valid-looking and malformed messages: an advert on a third
origin framed beside the widget, a document of Dynchat's origin inside it, a frame of the host's
own origin that reaches into the widget's shadow root, and the widget's frame itself. Nothing
changes, nothing throws. (The static half: tests/widget/test_loader_script.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Frame, Page, expect

from dialogues.models import Conversation, ConversationEvent, Visitor
from dynchat.models import Site
from tests.e2e.conftest import HostPages
from tests.e2e.widget_host import dom_events, launcher, panel, publish_dialogue, visit

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html><head><title>Host with neighbours</title></head><body>
<h1>A page with an advert</h1><iframe title="Advert" src="{hostile}/ad"></iframe>
<iframe title="Comments" src="/comments"></iframe>
{{snippet}}</body></html>"""
COMMENTS_PAGE = "<!doctype html><html><head><title>Comments</title></head><body>Hi</body></html>"
# The advert frames a document of Dynchat's own origin that is not the widget's frame (a static
# file): its messages pass an origin check and only the check of the source stops them.
AD_PAGE = """<!doctype html><html><head><title>Advert</title></head><body>Buy!
<iframe title="Tracker" src="{dynchat}/static/widget/widget.js"></iframe></body></html>"""

# Run in a window that is not the one a side trusts: every message kind of widget/README.md, as
# it would look when genuine, then malformed ones; to every window it can reach, many times over.
FLOOD = """async ({version, rounds, to}) => {
  const genuine = [
    {dynchat: 1, type: "ready"},
    {dynchat: 1, type: "close"},
    {dynchat: 1, type: "height", px: 10},
    ...["engaged", "completed", "email-captured", "meeting-booked"].map(
      name => ({dynchat: 1, type: "event", name, dialogue: 1})),
    {dynchat: 1, type: "start", visitor: "hostile-visitor-000001", mkto: "", open: true,
     url: location.href, version},
    {dynchat: 1, type: "shown", open: true},
    {dynchat: 1, type: "revoke"},
    {dynchat: 1, type: "font", family: "Comic Sans MS"},
  ];
  const cyclic = {dynchat: 1, type: "event", name: "completed"};
  cyclic.self = cyclic;
  let deep = {dynchat: 1, type: "close"};
  for (let i = 0; i < 2000; i++) deep = {dynchat: 1, type: "event", name: "completed", deep};
  const channel = new MessageChannel();
  const malformed = [
    null, undefined, 0, NaN, true, "", "dynchat", '{"dynchat":1,"type":"close"}', [], [1, "close"],
    {}, {dynchat: "1", type: "close"}, {dynchat: true, type: "close"}, {dynchat: 1},
    {dynchat: 1, type: null}, {dynchat: 1, type: ["close"]}, {dynchat: 1, type: {}},
    {dynchat: 1, type: "event", name: {}}, {dynchat: 1, type: "event", name: "__proto__"},
    {dynchat: 1, type: "event", name: "constructor"}, {dynchat: 1, type: "start", version: -1},
    {dynchat: 1, type: "close", padding: "x".repeat(1 << 20)},
    Object.assign(Object.create(null), {dynchat: 1, type: "close"}),
    new Date(), /dynchat/, new Map([["dynchat", 1]]), new Set([1]), new ArrayBuffer(64),
    new Blob(["dynchat"]), new Error("dynchat"), cyclic, deep,
  ];
  const targets = [];
  if (to === "neighbours") {
    targets.push(parent, top);
    for (let i = 0; i < parent.frames.length; i++) targets.push(parent.frames[i]);
  } else if (to === "widget") {  // only a frame of the host's own origin can reach it
    const root = parent.document.querySelector("[data-dynchat]").shadowRoot;
    targets.push(root.querySelector("iframe").contentWindow);
  } else {
    targets.push(window);
  }
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      for (const message of [...genuine, ...malformed]) {
        try {
          target.postMessage(message, "*");
        } catch {}  // what cannot even be sent (too deep to copy) is the sender's problem
      }
    }
  }
  // Ports travel too: a message carrying one, and a port as the message's source.
  targets[0].postMessage({dynchat: 1, type: "close", port: channel.port1}, "*", [channel.port1]);
  channel.port2.postMessage({dynchat: 1, type: "close"});
}"""

# A listener in the window flooded: one sender's messages arrive in order, so once its last one is
# heard there, the loader (or the frame) has handled every earlier one.
HEARD_LAST = """() => ({done: new Promise(resolve => addEventListener("message", (event) => {
  if (event.data && event.data.last === "flood") resolve(true); }))})"""


def state() -> dict[str, Any]:
    return {
        "visitors": list(Visitor.objects.values_list("key", "withdrawn_at")),
        "conversations": list(Conversation.objects.values_list("pk", "state", "card", "last_seq")),
        "events": ConversationEvent.objects.count(),
    }


def frame_of(page: Page, prefix: str) -> Frame:
    return next(frame for frame in page.frames if frame.url.startswith(prefix))


def test_hostile_messages_change_nothing_and_break_nothing(
    page: Page, host_pages: HostPages, third_party: HostPages, live_server: Any
) -> None:
    site = Site.objects.create(name="Acme", allowed_origins=[host_pages.origin])
    version = publish_dialogue(site)
    host_pages.add("/with-ad", HOST_PAGE.format(hostile=third_party.origin))
    host_pages.add("/comments", COMMENTS_PAGE)
    third_party.add("/ad", AD_PAGE.format(dynchat=live_server.url))
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def console(message: ConsoleMessage) -> None:
        # Network refusals are the server's business (the flood sends none); scripts must not fail.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    page.on("console", console)
    with page.expect_response(lambda r: r.url.endswith("/v1/conversations")):
        visit(page, host_pages.url(site.key, "/with-ad"))
    # The frame is ready and has started the conversation (the trigger was immediate).
    page.wait_for_load_state("networkidle")
    before = state()
    events_before = dom_events(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    # The widget's frame, in a shadow root, is not among the windows `frames` lists: a neighbour
    # cannot reach it that way (the advert and the comments are the two there).
    assert page.evaluate("frames.length") == 2
    advert = frame_of(page, third_party.origin)
    tracker = frame_of(page, f"{live_server.url}/static/")
    comments = frame_of(page, f"{host_pages.origin}/comments")
    chat = frame_of(page, f"{live_server.url}/widget/frame")
    shows = "document.body.innerText"  # what the frame shows (nothing yet: the panel is closed)
    frame_before = chat.evaluate(shows)
    # To the host page (the loader): messages from one window arrive in order, so once the host
    # has heard a sender's last one, the loader has handled all of that sender's flood.
    for sender in (advert, tracker, comments):
        heard = page.evaluate_handle(HEARD_LAST)
        sender.evaluate(FLOOD, {"version": version.pk, "rounds": 5, "to": "neighbours"})
        sender.evaluate("top.postMessage({last: 'flood'}, '*')")
        assert page.evaluate("heard => heard.done", heard) is True
    # To the widget's frame, from the host's origin but not its parent window, and from itself.
    for sender, to in ((comments, "widget"), (chat, "itself")):
        heard = chat.evaluate_handle(HEARD_LAST)
        sender.evaluate(FLOOD, {"version": version.pk, "rounds": 2, "to": to})
        target = "window" if to == "itself" else (
            "parent.document.querySelector('[data-dynchat]').shadowRoot"
            ".querySelector('iframe').contentWindow"
        )  # fmt: skip
        sender.evaluate(f"{target}.postMessage({{last: 'flood'}}, '*')")
        assert chat.evaluate("heard => heard.done", heard) is True
    page.wait_for_load_state("networkidle")

    assert chat.evaluate(shows) == frame_before
    assert dom_events(page) == events_before
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    expect(panel(page)).to_be_hidden()
    assert [url for url in requests if url.startswith(live_server.url)] == []
    assert state() == before
    assert problems == []
    # And the widget still works for the visitor.
    launcher(page).click()
    expect(panel(page)).to_be_visible()
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
