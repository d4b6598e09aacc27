"""The loader's triggers and its poke on a customer's page: time on page, scroll, time on site
across pages; the first message as a teaser, dismissed, clicked, per the site's settings and the
screen (SPEC §2.3, §2.4, §2.9, widget/README.md)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dynchat.models import Site
from tests.e2e.conftest import HostPages
from tests.e2e.widget_host import POKE, dom_events, launcher, panel, poke, publish_dialogue, visit

pytestmark = pytest.mark.browser

LONG_PAGE = """<!doctype html><html><head><meta name="viewport" content="width=device-width">
<title>A long page</title></head><body style="margin:0"><div style="height:5000px">Long</div>
{snippet}</body></html>"""


@pytest.fixture
def site(host_pages: HostPages) -> Site:
    return Site.objects.create(name="Acme", allowed_origins=[host_pages.origin])


def test_a_time_on_page_trigger_waits_its_seconds(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    version = publish_dialogue(site, kind="time_on_page", amount=1)
    visit(page, host_pages.url(site.key))
    expect(poke(page)).to_have_text(re.compile(POKE))
    assert dom_events(page) == ["ready", "triggered"]
    triggered = page.evaluate("window.dynchatEvents.find(e => e.name === 'triggered')")
    assert triggered["detail"] == {"dialogue": version.dialogue_id}
    assert triggered["at"] >= 1000  # ms since the page started loading


def test_a_scroll_trigger_waits_for_its_percentage(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    host_pages.add("/long", LONG_PAGE)
    publish_dialogue(site, kind="scroll", amount=50)
    page.set_viewport_size({"width": 800, "height": 600})
    visit(page, host_pages.url(site.key, "/long"))
    scroll_to = (
        "async (share) => { const seen = new Promise(resolve =>"
        "  addEventListener('scroll', () => requestAnimationFrame(resolve), {once: true}));"
        "  scrollTo(0, share * (document.documentElement.scrollHeight - innerHeight));"
        "  await seen; }"
    )
    page.evaluate(scroll_to, 0.3)
    assert dom_events(page) == ["ready"]
    page.evaluate(scroll_to, 0.6)
    page.wait_for_function("window.dynchatEvents.some(e => e.name === 'triggered')")
    expect(poke(page)).to_be_visible()
    page.evaluate(scroll_to, 0.9)
    assert dom_events(page).count("triggered") == 1


def test_time_on_site_counts_the_earlier_pages(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site, kind="time_on_site", amount=2)
    page.clock.install(time=1_800_000_000)
    page.clock.pause_at(1_800_000_001)
    visit(page, host_pages.url(site.key))
    page.clock.run_for(1500)
    assert dom_events(page) == ["ready"]
    visit(page, host_pages.url(site.key, "/pricing"))
    page.clock.run_for(600)  # 0.6 s on this page, 2.1 s on the site
    page.wait_for_function("window.dynchatEvents.some(e => e.name === 'triggered')")


def test_the_poke_shows_the_first_message_and_can_be_dismissed(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    publish_dialogue(site)
    visit(page, host_pages.url(site.key))
    expect(poke(page)).to_have_text(re.compile(POKE))
    page.get_by_role("button", name="Dismiss").click()
    expect(poke(page)).to_have_count(0)
    expect(launcher(page)).to_be_visible()
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")


def test_a_click_on_the_poke_opens_the_chat(page: Page, host_pages: HostPages, site: Site) -> None:
    publish_dialogue(site)
    visit(page, host_pages.url(site.key))
    page.get_by_role("button", name=POKE).click()
    expect(panel(page)).to_be_visible()
    expect(poke(page)).to_have_count(0)


@pytest.mark.parametrize(
    ("appearance", "width", "shown"),
    [
        ({"poke": False}, 1024, False),
        ({}, 375, False),
        ({"poke_mobile": True}, 375, True),
    ],
)
def test_the_poke_follows_the_sites_settings_and_the_screen(
    page: Page,
    host_pages: HostPages,
    site: Site,
    appearance: dict[str, bool],
    width: int,
    shown: bool,
) -> None:
    site.appearance = appearance
    site.save()
    publish_dialogue(site)
    page.set_viewport_size({"width": width, "height": 700})
    visit(page, host_pages.url(site.key))
    page.wait_for_function("window.dynchatEvents.some(e => e.name === 'triggered')")
    if shown:
        expect(poke(page)).to_be_visible()
    else:
        expect(poke(page)).not_to_be_visible()
