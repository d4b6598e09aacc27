"""widget.js: served with long-lived caching, built from its source, within its size budget."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client
from django.urls import reverse

from widget.build import BUNDLES, OUTPUT, SOURCES, build, gzip_size


def test_the_loader_is_javascript_cached_for_a_day_and_revalidated(client: Client) -> None:
    response = client.get(reverse("widget:loader"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=86400, stale-while-revalidate=604800"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert not response.cookies
    again = client.get(reverse("widget:loader"), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_the_snippet_url_is_the_loader(client: Client) -> None:
    assert reverse("widget:loader") == "/widget.js"


def test_the_loader_only_serves_reads(client: Client) -> None:
    assert client.post(reverse("widget:loader")).status_code == 405


def test_the_committed_build_matches_the_sources() -> None:
    for bundle in BUNDLES:
        assert (OUTPUT / bundle.output).read_text() == build(bundle), (
            f"static/widget/{bundle.output} is stale: run `.venv/bin/python -m widget.build`"
        )


def test_every_bundle_is_within_its_gzip_budget() -> None:
    for bundle in BUNDLES:
        assert gzip_size(build(bundle)) <= bundle.budget_gzip_bytes


def sources() -> list[Path]:
    """Every widget source: the loader and the chat frame's parts (widget/js/frame/*.js)."""
    found = sorted([*SOURCES.glob("*.js"), *SOURCES.glob("frame/*.js")])
    assert SOURCES / "loader.js" in found, "no loader source found"
    assert any(path.parent.name == "frame" for path in found), "no chat frame parts found"
    return found


def calls(text: str, name: str) -> list[str]:
    """The argument text of every call of ``name`` in ``text`` (parentheses balanced, strings and
    comments not understood: a grep, for code that keeps to the style)."""
    found = []
    for match in re.finditer(re.escape(name) + r"\s*\(", text):
        depth, start = 1, match.end()
        end = start
        while depth and end < len(text):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        found.append(text[start : end - 1])
    return found


def top_level_arguments(arguments: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in arguments:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()] if current.strip() else parts


def test_widget_code_never_posts_to_any_origin_or_writes_html() -> None:
    """W-9 static check: postMessage always names its target origin; no HTML from strings."""
    for path in sources():
        text = path.read_text()
        assert not re.search(r"postMessage\([^)]*['\"`]\*['\"`]", text), path.name
        for name in ("onmessage", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert name not in text, f"{path.name}: {name}"
        assert not re.search(r"\beval\s*\(|new\s+Function\b", text), path.name


def test_every_postmessage_names_an_explicit_target_origin() -> None:
    """W-9: each window.postMessage call has a second argument, and it is not "*"."""
    seen = 0
    for path in sources():
        for arguments in calls(path.read_text(), ".postMessage"):
            parts = top_level_arguments(arguments)
            seen += 1
            assert len(parts) >= 2, f"{path.name}: postMessage({arguments})"
            assert parts[1].strip("'\"` ") not in ("*", ""), (
                f"{path.name}: postMessage({arguments})"
            )
    assert seen, "no postMessage calls found"


def test_every_message_listener_checks_origin_and_source() -> None:
    """W-9: a message listener reads nothing before it has compared event.origin and
    event.source with the one window it expects."""
    seen = 0
    for path in sources():
        for arguments in calls(path.read_text(), "addEventListener"):
            if not re.match(r"\s*['\"]message['\"]", arguments):
                continue
            seen += 1
            guard = re.search(r"if \(([^;]*)\) return", arguments)
            assert guard, f"{path.name}: a message listener without an early return"
            assert re.search(r"\.origin !== ", guard.group(1)), path.name
            assert re.search(r"\.source !== ", guard.group(1)), path.name
            assert "data" not in arguments[: guard.start()], f"{path.name}: reads data first"
    assert seen, "no message listeners found"
