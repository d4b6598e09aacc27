"""An agent connects their Google Calendar in a real browser: the Calendar page's button, the
provider's consent page (the sandbox's), "Allow", and back on the Calendar page, connected."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from calendars.models import CalendarConnection, ConnectionStatus
from dynchat.models import Role, User

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
ACCOUNT = "alex.agent@acme.example"


def test_an_agent_connects_google_calendar_through_the_consent_page(
    page: Page, live_server: Any, calendar_sandbox: Any, calendar_settings: Any, settings: Any
) -> None:
    base = str(live_server.url)
    settings.SITE_URL = base  # the redirect URI the provider sends the browser back to
    calendar_sandbox.auto_consent(None)  # show the consent page
    agent = User.objects.create_user(
        "alex@example.com", PASSWORD, name="Alex Agent", role=Role.AGENT
    )
    page.goto(f"{base}/login/?next=/calendar/")
    page.get_by_label("Email").fill("alex@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="No calendar connected")).to_be_visible()

    page.get_by_role("button", name="Connect Google Calendar").click()

    expect(page).to_have_url(re.compile(f"^{re.escape(calendar_sandbox.google_base)}/"))
    page.get_by_label("E-mail address").fill(ACCOUNT)
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{base}/calendar/")
    expect(page.get_by_text("Connected", exact=True)).to_be_visible()
    expect(page.get_by_text(ACCOUNT)).to_be_visible()
    connection = CalendarConnection.objects.get(agent=agent)
    assert (connection.provider, connection.status) == ("google", ConnectionStatus.ACTIVE)
