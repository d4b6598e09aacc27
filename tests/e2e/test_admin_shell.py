"""The admin in a real browser: sign in, every section under the strict CSP, htmx working."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dynchat.models import Role, User, WorkerHeartbeat
from dynchat.navigation import NAVIGATION

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def watch_for_trouble(page: Page) -> list[str]:
    """Collect CSP violations and console errors from here on."""
    trouble: list[str] = []
    page.on(
        "console", lambda m: trouble.append(f"console: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda error: trouble.append(f"page error: {error}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));"
    )
    return trouble


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_marketer_signs_in_and_opens_every_section_without_csp_trouble(
    page: Page, live_server: object
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    User.objects.create_user("maya@example.com", PASSWORD, name="Maya", role=Role.MARKETER)
    WorkerHeartbeat.objects.create(worker="worker@host", last_seen=timezone.now())
    trouble = watch_for_trouble(page)
    sign_in(page, base, "maya@example.com")
    expect(page).to_have_url(re.compile(r"/dialogues/$"))

    navigation = page.get_by_role("navigation", name="Main")
    for item in NAVIGATION:
        navigation.get_by_role("link", name=item.label).click()
        expect(page.get_by_role("heading", level=2).first).to_be_visible()
        expect(navigation.get_by_role("link", name=item.label)).to_have_attribute(
            "aria-current", "page"
        )
    # Filled in by htmx after load: htmx runs under the nonce-based CSP.
    expect(page.get_by_text("Background jobs running")).to_be_visible()
    assert trouble == []


def test_an_agent_sees_three_sections_and_signs_out(page: Page, live_server: object) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    User.objects.create_user("alex@example.com", PASSWORD, name="Alex", role=Role.AGENT)
    trouble = watch_for_trouble(page)
    sign_in(page, base, "alex@example.com")
    expect(page).to_have_url(re.compile(r"/calendar/$"))
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(links).to_have_text(["Dynchat", "Dialogues", "Calendar", "Meetings"])
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    page.goto(f"{base}/meetings/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/meetings/$"))
    assert trouble == []


def test_a_wrong_password_says_so_without_saying_which_part(
    page: Page, live_server: object
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    User.objects.create_user("maya@example.com", PASSWORD, role=Role.MARKETER)
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct email and password")
