"""The Reports page in a real browser: charts drawn, numbers in reach, nothing the CSP blocks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dialogues.report_models import DailyGoal, DailyMetric
from dynchat.models import Role, Site, User
from tests.dialogues.factories import new_dialogue
from tests.e2e.test_admin_shell import PASSWORD, sign_in, watch_for_trouble

pytestmark = pytest.mark.browser


def test_a_marketer_reads_the_charts_and_the_numbers_behind_them(
    page: Page, live_server: object
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    User.objects.create_user("maya@example.com", PASSWORD, name="Maya", role=Role.MARKETER)
    site = Site.objects.create(name="Site A", allowed_origins=["https://a.example"])
    dialogue = new_dialogue(site, name="Welcome")
    today = timezone.now().date()
    for n in range(10):
        day = today - timedelta(days=n)
        DailyMetric.objects.create(
            site=site, dialogue=dialogue, day=day, known=False, triggered=n + 1, engaged=n
        )
        DailyGoal.objects.create(dialogue=dialogue, day=day, known=False, goal="Demo", reached=1)
    trouble = watch_for_trouble(page)
    sign_in(page, base, "maya@example.com")
    expect(page).to_have_url(re.compile(r"/dialogues/$"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Site A")).to_be_visible()
    chart = page.get_by_role("img", name="Triggered")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(1)
    assert chart.bounding_box()["height"] > 50  # type: ignore[index]
    expect(page.get_by_role("link", name="Welcome")).to_be_visible()

    page.get_by_label("Period").select_option("7")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"range=7"))
    page.get_by_text("The numbers per day").click()
    expect(page.locator("table caption", has_text="Per UTC day")).to_be_visible()
    expect(page.locator(".report-data tbody tr")).to_have_count(7)

    page.get_by_role("link", name="Welcome").click()
    expect(page.get_by_role("link", name="Reports", exact=True).last).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("img", name="Engaged")).to_be_visible()
    assert trouble == []
