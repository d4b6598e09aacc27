"""Stored XSS from the marketer to the visitor (W-2, Typebot GHSA-hqmv-v56g-4m47).

A published dialogue carries the XSS corpus in bubble text, answer labels, link targets, capture
prompts and placeholders and the meeting card's text; the chat frame shows all of it on a host page.
Nothing may run, the CSP must never have to step in, and every link left has a harmless scheme.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from playwright.sync_api import Error, Frame, Page, expect

from dialogues.flow_schema import MAX_ANSWERS, MAX_TEXT
from dialogues.models import Conversation, ConversationState
from dialogues.tokens import bad_tokens
from dynchat.models import Site
from tests.e2e.chat import Traffic, Trouble, publish_flow, type_answer
from tests.e2e.conftest import HostPages
from tests.widget.xss_corpus import PAYLOADS

pytestmark = pytest.mark.browser

# Flow text is at most MAX_TEXT characters, and a malformed {{…}} keeps a flow from being
# published (W-3 covers those payloads): the rest is the corpus a marketer can publish.
CORPUS = [p.text for p in PAYLOADS if len(p.text) <= MAX_TEXT and not bad_tokens(p.text)]
LINK_TARGETS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
    "&#x6A;avascript&#x3A;alert(1)",
    "java&#x09;script:alert(1)",
    " javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "https://example.com/ok",
    "mailto:sales@example.com",
]
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
EMAIL = "visitor@example.com"


def chunks(texts: list[str], size: int) -> list[list[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def joined(texts: list[str]) -> list[str]:
    """The texts joined by line breaks into as few rich texts of at most MAX_TEXT as they fit."""
    parts: list[str] = []
    for text in texts:
        if parts and len(parts[-1]) + len(text) + 4 <= MAX_TEXT:
            parts[-1] += "<br>" + text
        else:
            parts.append(text)
    return parts


def corpus_flow() -> dict[str, Any]:
    """Messages, link cards, questions, captures and a meeting, each carrying the corpus."""
    steps: list[tuple[str, dict[str, Any]]] = []
    steps += [(f"m{n}", {"type": "message", "text": text}) for n, text in enumerate(CORPUS)]
    for n, target in enumerate(LINK_TARGETS):
        text = f'<a href="{target}">link {n}</a> and <a href="{html.escape(target)}">again {n}</a>'
        steps.append((f"l{n}", {"type": "message", "text": text}))
    for n, labels in enumerate(chunks(CORPUS, MAX_ANSWERS)):
        answers = [
            {"id": f"a{i}", "label": label, "value": f"v{i}"} for i, label in enumerate(labels)
        ]
        steps.append((f"q{n}", {"type": "question", "text": labels[0], "field": None,
                                "answers": answers}))  # fmt: skip
    for n, prompt in enumerate(joined(CORPUS)):
        steps.append((f"c{n}", {"type": "capture", "input": "text", "field": "lastName",
                                "prompt": prompt, "placeholder": CORPUS[n]}))  # fmt: skip
    steps.append(("mail", {"type": "capture", "input": "email", "field": "email",
                           "prompt": CORPUS[-1], "placeholder": CORPUS[0]}))  # fmt: skip
    for n, text in enumerate(joined(CORPUS)):
        steps.append((f"b{n}", {"type": "meeting", "routing": "round_robin", "agent": None,
                                "text": text}))  # fmt: skip
    cards: dict[str, Any] = {}
    followers = [*[step_id for step_id, _ in steps[1:]], "end"]
    for (card_id, card), following in zip(steps, followers, strict=True):
        if card["type"] == "question":
            for answer in card["answers"]:
                answer["next"] = following
        else:
            card["next"] = following
        cards[card_id] = card
    cards["end"] = {"type": "end"}
    return {"version": 1, "start": steps[0][0], "cards": cards}


def assert_harmless(frame: Frame) -> None:
    """No element or attribute in the frame that could run or load anything."""
    found = frame.evaluate(
        """() => {
          const all = [...document.querySelectorAll("*")];
          return {
            scripts: [...document.scripts].map(s => s.src || "inline:" + s.type),
            handlers: all.flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name))
                                              .map(a => e.tagName + " " + a.name)),
            embeds: all.filter(e => /^(IFRAME|OBJECT|EMBED|IMG|SVG|MATH|FORM|BASE|META|STYLE)$/i
                .test(e.tagName) && !e.closest("head") && !e.matches("form.capture"))
                .map(e => e.tagName),
            hrefs: [...document.querySelectorAll("[href]")].map(e => e.getAttribute("href")),
            srcs: [...document.querySelectorAll("[src]")].map(e => e.getAttribute("src")),
          };
        }"""
    )
    assert [s for s in found["scripts"] if not s.endswith("/static/widget/frame.js")] == [
        "inline:application/json"
    ]
    assert found["handlers"] == []
    assert found["embeds"] == []
    links = [href for href in found["hrefs"] if not href.startswith("/static/")]
    assert all(href.startswith(SAFE_SCHEMES) for href in links), links
    assert all(src.startswith("/static/") for src in found["srcs"]), found["srcs"]


@pytest.fixture
def corpus_site(transactional_db: None, host_pages: HostPages, settings: Any) -> Site:
    settings.LEAD_GUARD_MIN_SECONDS = 0
    site = Site.objects.create(
        name="Acme", allowed_origins=[host_pages.origin], appearance={"delay_ms": 0}
    )
    publish_flow(site, corpus_flow(), host_pages.origin)
    return site


def test_the_corpus_renders_as_text_and_links_keep_only_safe_schemes(
    page: Page, host_pages: HostPages, corpus_site: Site
) -> None:
    """W-2: 0 script execution, no CSP violation, every href http/https/mailto/tel, javascript:
    links without href."""
    assert len(CORPUS) >= 60
    trouble = Trouble().watch(page)
    traffic = Traffic().watch(page)
    page.goto(host_pages.url(corpus_site.key))
    # The host hears "completed" once the server has recorded it (the panel says so before).
    page.evaluate(
        "document.addEventListener('dynchat:completed', () => { window.completed = true; })"
    )
    page.get_by_role("button", name="Open chat").click()
    chat = page.frame_locator("iframe[title=Chat]")
    expect(chat.locator(".msg.bot").first).to_be_visible()
    frame = next(frame for frame in page.frames if "/widget/frame" in frame.url)

    ended = chat.get_by_text("This conversation has ended.")
    control = chat.locator(
        "#controls button.answer:not([disabled]), #controls input:not(.hp):not([disabled])"
    ).first
    for _ in range(100):  # answer every question, capture and meeting until the end
        expect(control.or_(ended).first).to_be_visible()
        if ended.is_visible():
            break
        assert_harmless(frame)
        if control.evaluate("element => element.tagName") == "INPUT":
            type_answer(control, EMAIL if control.get_attribute("type") == "email" else "Lovelace")
        else:
            control.click()

    assert_harmless(frame)
    texts = chat.locator(".msg.bot .text").all_text_contents()
    assert "<script>alert(1)</script>" in texts  # the entity-encoded payload, shown as text
    for n in range(len(LINK_TARGETS) - 2):
        for name in (f"link {n}", f"again {n}"):
            assert chat.get_by_text(name, exact=True).get_attribute("href") is None, name
    assert chat.get_by_text("link 8", exact=True).get_attribute("href") == "https://example.com/ok"
    assert (
        chat.get_by_text("link 9", exact=True).get_attribute("href") == "mailto:sales@example.com"
    )
    try:
        page.wait_for_function("window.completed === true")
    except Error as failed:
        raise AssertionError(f"{failed}\n{traffic.report()}") from None
    assert Conversation.objects.get().state == ConversationState.COMPLETED
    assert trouble.dialogs == []
    assert trouble.csp_violations == []
    assert trouble.errors == []
