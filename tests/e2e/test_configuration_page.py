"""The Configuration page in a real browser, under the CSP (D-3): the preview follows the form as
it is edited, the contrast warning comes and goes live, the page saves by keyboard alone and axe
finds no serious or critical WCAG 2.1 A/AA violation on it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dynchat.models import Role, Site, User
from tests.a11y.axe import violations
from tests.conftest import ALLOWED_ORIGIN
from widget.appearance import ICONS, Appearance

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def open_configuration(page: Page, base: str, site: Site) -> list[str]:
    """Sign in as a marketer on the site's Configuration page; collect page errors and CSP
    violations from then on."""
    trouble: list[str] = []
    page.on("pageerror", lambda error: trouble.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: trouble.append(m.text) if m.text.startswith("CSP violation") else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));"
    )
    User.objects.create_user("maya@example.com", PASSWORD, name="Maya", role=Role.MARKETER)
    path = f"/configuration/sites/{site.pk}/"
    page.goto(f"{base}/login/?next={path}")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(f"{re.escape(path)}$"))
    return trouble


def test_the_preview_and_the_contrast_warning_follow_the_form_at_once(
    page: Page, live_server: object
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    site = Site.objects.create(name="Site A", allowed_origins=[ALLOWED_ORIGIN])
    trouble = open_configuration(page, base, site)
    launcher = page.locator("#cfg-launcher")
    expect(launcher).to_have_css("background-color", "rgb(31, 94, 255)")

    page.get_by_label("Primary colour:", exact=True).fill("#aa0000")
    expect(launcher).to_have_css("background-color", "rgb(170, 0, 0)")
    expect(page.get_by_label("Pick the primary colour")).to_have_value("#aa0000")
    page.get_by_label("Pick the primary colour").fill("#ffd400")
    expect(page.get_by_label("Primary colour:", exact=True)).to_have_value("#ffd400")
    expect(launcher).to_have_css("background-color", "rgb(255, 212, 0)")
    expect(launcher).to_have_css("color", "rgb(17, 17, 17)")  # dark icon on yellow

    page.get_by_label("Bottom left").check()
    page.get_by_label("Distance from the side").fill("64")
    expect(launcher).to_have_css("left", "64px")
    page.get_by_label("Headset").check()
    expect(launcher.locator("path")).to_have_attribute("d", ICONS["headset"][1])

    warning = page.locator("#contrast-warnings")
    expect(warning.locator("li")).to_have_count(0)
    page.get_by_label("Text colour:", exact=True).fill("#777777")
    expect(warning).to_contain_text("Text on the background: contrast 4.47:1 is below WCAG AA")
    page.get_by_label("Text colour:", exact=True).fill("#1d2433")
    expect(warning.locator("li")).to_have_count(0)

    # The chat frame restyles on the messages the page posts it.
    page.get_by_label("Bot name").fill("Ada")
    expect(page.frame_locator("#cfg-frame").get_by_text("Ada", exact=True)).to_be_visible()
    launcher.click()
    expect(page.locator("#cfg-frame")).to_be_hidden()
    expect(page.locator("#cfg-poke")).to_be_visible()
    assert trouble == []


def test_a_marketer_saves_with_the_keyboard_alone(page: Page, live_server: object) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    site = Site.objects.create(name="Site A", allowed_origins=[ALLOWED_ORIGIN])
    trouble = open_configuration(page, base, site)

    page.get_by_label("Bot name").focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Ada")
    page.get_by_label("Show the poke on phones too").focus()
    page.keyboard.press("Space")
    save = page.get_by_role("button", name="Save configuration")
    for _ in range(40):
        if save.evaluate("button => button === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(save).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Configuration saved.")).to_be_visible()
    site.refresh_from_db()
    appearance = Appearance.from_json(site.appearance)
    assert (appearance.bot_name, appearance.poke_mobile) == ("Ada", True)
    assert trouble == []


def test_axe_finds_no_serious_violation_on_the_page(page: Page, live_server: object) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    site = Site.objects.create(name="Site A", allowed_origins=[ALLOWED_ORIGIN])
    trouble = open_configuration(page, base, site)
    page.get_by_label("Text colour:", exact=True).fill("#777777")
    expect(page.locator("#contrast-warnings li").first).to_be_visible()
    assert violations(page) == []
    assert trouble == []
