"""The Marketo page in a real browser: the progress panel follows the run live, under the CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from dynchat.models import Role, User
from sync.models import ExportJob, JobStatus, Phase, RunKind, RunState, SyncRun
from sync.sandbox import MarketoSandbox
from sync.sandbox.config import Dataset

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct horse battery"


def sign_in(page: Page, base: str, next: str) -> None:
    User.objects.create_user("maya@example.com", PASSWORD, name="Maya", role=Role.MARKETER)
    page.goto(f"{base}/login/?next={next}")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(f"{next}$"))


def watch_for_trouble(page: Page) -> list[str]:
    """Console errors (CSP violations among them) from here on."""
    trouble: list[str] = []
    page.on("console", lambda m: trouble.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: trouble.append(str(error)))
    return trouble


@pytest.mark.usefixtures("marketo_on")
def test_the_progress_panel_follows_the_run_until_it_completes(
    page: Page, live_server: object
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    run = SyncRun.objects.create(
        kind=RunKind.INITIAL,
        phase=Phase.LEADS,
        lead_fields=["id", "title"],
        started_at=timezone.now() - timedelta(minutes=1),
    )
    job = ExportJob.objects.create(
        run=run,
        object=ExportJob.Object.LEADS,
        window_start=run.started_at - timedelta(days=31),
        window_end=run.started_at,
        status=JobStatus.DOWNLOADED,
        records=1000,
    )
    trouble = watch_for_trouble(page)

    sign_in(page, base, "/marketo/")
    panel = page.locator(".run-live")
    expect(panel).to_contain_text("0 of 1,000")
    expect(page.get_by_label("Leads", exact=True)).to_have_attribute("value", "0")

    ExportJob.objects.filter(pk=job.pk).update(rows_loaded=500)
    expect(panel).to_contain_text("500 of 1,000 (50 %)", timeout=10_000)
    expect(page.get_by_label("Leads", exact=True)).to_have_attribute("value", "50")

    ExportJob.objects.filter(pk=job.pk).update(rows_loaded=1000, status=JobStatus.LOADED)
    SyncRun.objects.filter(pk=run.pk).update(
        state=RunState.COMPLETED, phase=Phase.DONE, finished_at=timezone.now()
    )
    expect(panel).to_contain_text("Completed", timeout=10_000)
    expect(panel.locator("[hx-trigger]")).to_have_count(0)
    page.get_by_role("link", name="Show the synced data").focus()
    assert trouble == []


@pytest.fixture
def sandbox() -> Iterator[MarketoSandbox]:
    """A small Marketo sandbox, and Dynchat's settings naming it."""
    box = MarketoSandbox(Dataset(leads=10, companies=5, activities=10))
    with (
        box,
        override_settings(
            MARKETO_ENABLED=True,
            MARKETO_BASE_URL=box.base_url,
            MARKETO_CLIENT_ID=box.client_id,
            MARKETO_CLIENT_SECRET=box.client_secret,
        ),
    ):
        yield box


@pytest.mark.usefixtures("sandbox")
def test_the_initiate_form_counts_the_chosen_fields_and_filters_them(
    page: Page, live_server: object
) -> None:
    trouble = watch_for_trouble(page)
    sign_in(page, str(live_server.url), "/marketo/")  # type: ignore[attr-defined]
    count = page.locator(".attribute-count")
    expect(count).to_contain_text("0 of 50 chosen")
    expect(count.get_by_text("too many")).to_be_hidden()

    page.get_by_label("Job Title").check()
    page.get_by_label("Customer Tier").check()
    expect(count).to_contain_text("2 of 50 chosen")

    search = page.get_by_label("Filter")
    search.fill("phone")
    search.press("Enter")  # filters, and does not submit the form
    expect(page.get_by_label("Mobile Phone Number")).to_be_visible()
    expect(page.get_by_label("Job Title")).to_be_hidden()
    search.fill("")
    expect(page.get_by_label("Job Title")).to_be_checked()
    expect(page).to_have_url(re.compile(r"/marketo/$"))
    assert trouble == []
