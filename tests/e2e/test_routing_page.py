"""The Routing page in a real browser: pause an agent and move another up, under the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dynchat.models import Role, User
from routing.models import RotationMember
from tests.routing.test_queue import connect

pytestmark = [pytest.mark.browser]
PASSWORD = "correct horse battery"


def test_a_marketer_pauses_an_agent_and_moves_another_up(page: Page, live_server: object) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    ann, bob, cay = connect("Ann"), connect("Bob"), connect("Cay")
    User.objects.create_user("maya@example.com", PASSWORD, name="Maya", role=Role.MARKETER)
    trouble: list[str] = []
    page.on("console", lambda m: trouble.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: trouble.append(str(error)))

    page.goto(f"{base}/login/?next=/routing/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile("/routing/$"))
    rows = page.locator("tr.routing-member")
    expect(rows).to_have_count(3)
    expect(page.locator("tr.routing-next")).to_contain_text("Ann")

    page.get_by_role("switch", name="Pause Ann").click()
    expect(page.get_by_role("status")).to_contain_text("Ann paused.")
    expect(page.get_by_role("switch", name="Pause Ann")).to_have_attribute("aria-checked", "true")
    expect(page.locator("tr.routing-next")).to_contain_text("Bob")

    page.get_by_role("button", name="Move Cay up").click()
    expect(page.get_by_role("status")).to_contain_text("Cay moved up.")
    expect(rows.locator(".routing-name")).to_have_text(["Ann", "Cay", "Bob"])
    expect(page.locator("tr.routing-next")).to_contain_text("Cay")

    page.reload()  # the changes were saved, not only shown
    expect(rows.locator(".routing-name")).to_have_text(["Ann", "Cay", "Bob"])
    assert RotationMember.objects.get(agent=ann).paused is True
    assert [m.agent_id for m in RotationMember.objects.order_by("position")] == [
        ann.pk,
        cay.pk,
        bob.pk,
    ]
    assert trouble == []
