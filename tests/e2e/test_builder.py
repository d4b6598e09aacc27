"""The builder in a real browser, under the CSP (D-3): template → edit → problem → fix → publish."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dynchat.models import Role, Site, User
from tests.conftest import ALLOWED_ORIGIN

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct horse battery"


def sign_in(page: Page, base: str, next: str) -> None:
    User.objects.create_user("maya@example.com", PASSWORD, name="Maya", role=Role.MARKETER)
    page.goto(f"{base}/login/?next={next}")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(f"{re.escape(next)}$"))


def test_a_marketer_builds_from_a_template_fixes_a_problem_and_publishes(
    page: Page, live_server: object
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    site = Site.objects.create(name="Site A", allowed_origins=[ALLOWED_ORIGIN])
    trouble: list[str] = []
    page.on("console", lambda m: trouble.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: trouble.append(str(error)))

    sign_in(page, base, f"/dialogues/new/?site={site.pk}")
    page.get_by_label("Name").fill("Newsletter")
    page.get_by_role("radio", name=re.compile("Capture email")).check()
    page.get_by_role("button", name="Create dialogue").click()
    expect(page.locator(".fb-tabs")).to_contain_text("Test as visitor")

    hello = page.locator("#card-hello")
    hello.get_by_role("link", name="Edit").click()
    hello.get_by_label("Text").fill("Monthly tips, straight to you?")
    hello.get_by_role("button", name="Save card").click()
    expect(hello.locator(".fb-text")).to_have_text("Monthly tips, straight to you?")

    hello.get_by_role("link", name="Edit").click()
    hello.get_by_label("Text").fill("Hi {{lead.firstName")
    hello.get_by_role("button", name="Save card").click()
    expect(hello.locator(".fb-card-problems")).to_contain_text("not a valid personalisation token")
    expect(page.get_by_role("button", name="Publish")).to_be_disabled()

    hello.get_by_role("link", name="Edit").click()
    hello.get_by_label("Text").fill('Hi {{lead.firstName:"there"}}!')
    hello.get_by_role("button", name="Save card").click()
    expect(hello.locator(".fb-card-problems")).to_have_count(0)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#flow-panel")).to_contain_text("Published version 1")

    page.get_by_role("link", name="Versions").click()
    expect(page.locator(".fb-versions")).to_contain_text("Version 1")
    expect(page.locator(".fb-versions")).to_contain_text("Maya")
    assert trouble == []
