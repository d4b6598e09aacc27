"""The Marketo page: set up and start the sync, watch it live, manage attributes, browse leads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from dynchat.models import User
from sync import services
from sync.forms import years_ago
from sync.models import (
    AttributeObject,
    ExportJob,
    JobStatus,
    MarketoActivity,
    MarketoCompany,
    MarketoLead,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    Phase,
    RunKind,
    RunState,
    SyncedAttribute,
    SyncRun,
)
from sync.sandbox import MarketoSandbox
from sync.sandbox.config import Dataset, Fault

OVERVIEW = reverse("sync:overview")
START = reverse("sync:start")
ADD = reverse("sync:attributes-add")


@pytest.fixture
def sandbox(
    marketo_sandbox: Callable[..., MarketoSandbox], marketo_settings: Callable[..., Any]
) -> Iterator[MarketoSandbox]:
    """A small Marketo sandbox, and Dynchat's settings naming it.

    Marketo's fields are cached, and each test has its own cache (tests/conftest.py), so every
    test asks this sandbox afresh.
    """
    box = marketo_sandbox(dataset=Dataset(leads=10, companies=5, activities=10))
    with marketo_settings(box):
        yield box


def a_run(**fields: Any) -> SyncRun:
    values: dict[str, Any] = {
        "kind": RunKind.INITIAL,
        "phase": Phase.LEADS,
        "lead_fields": ["id", "email", "title"],
        "company_fields": ["id", "externalCompanyId"],
    }
    return SyncRun.objects.create(**(values | fields))


def synced(**fields: Any) -> SyncRun:
    """A completed initial sync, as the page finds it afterwards."""
    finished = timezone.now() - timedelta(hours=1)
    values = {
        "state": RunState.COMPLETED,
        "phase": Phase.DONE,
        "started_at": finished - timedelta(minutes=40),
        "finished_at": finished,
    }
    return a_run(**(values | fields))


def an_attribute(
    name: str, object: AttributeObject = AttributeObject.PERSON, display: str = ""
) -> SyncedAttribute:
    return SyncedAttribute.objects.create(
        object=object, name=name, display_name=display or name.title(), data_type="string"
    )


def page(client: Client, url: str = OVERVIEW, **headers: Any) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


# --- the page's states -------------------------------------------------------------------------


def test_without_marketo_settings_the_page_says_which_to_set_and_where(
    marketer_client: Client,
) -> None:
    with override_settings(MARKETO_ENABLED=False):
        html = page(marketer_client)
    assert "Marketo is not synced yet" in html
    assert "To connect it to your Marketo instance" in html
    for setting in ("MARKETO_BASE_URL", "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET"):
        assert setting in html
    assert "Admin → LaunchPoint" in html
    assert "Admin → Web Services" in html


@pytest.mark.usefixtures("marketo_on")
def test_a_running_initial_sync_shows_the_live_progress_panel(marketer_client: Client) -> None:
    run = a_run(started_at=timezone.now() - timedelta(minutes=5))
    ExportJob.objects.create(
        run=run,
        object="leads",
        window_start=run.started_at - timedelta(days=40),
        window_end=run.started_at - timedelta(days=9),
        status=JobStatus.LOADED,
        records=1200,
        rows_loaded=1200,
    )

    html = page(marketer_client)

    assert 'aria-live="polite"' in html
    assert f'hx-get="{reverse("sync:progress", args=[run.pk])}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "Exporting leads" in html
    assert f'<label for="run-{run.pk}-leads">Leads</label>' in html
    assert f'<progress id="run-{run.pk}-leads" max="100" value="100">' in html
    assert "1,200 of 1,200" in html
    assert "Initiate sync" not in html


@pytest.mark.usefixtures("marketo_on")
def test_the_progress_fragment_polls_only_while_the_run_is_active(marketer_client: Client) -> None:
    run = a_run()
    url = reverse("sync:progress", args=[run.pk])

    running = page(marketer_client, url, HTTP_HX_REQUEST="true")
    run.state, run.phase, run.finished_at = RunState.COMPLETED, Phase.DONE, timezone.now()
    run.save()
    finished = page(marketer_client, url, HTTP_HX_REQUEST="true")

    assert "<html" not in running
    assert 'hx-trigger="every 2s"' in running
    assert 'hx-trigger="every 2s"' not in finished
    assert "hx-get" not in finished
    assert "Completed" in finished


@pytest.mark.usefixtures("marketo_on")
def test_a_paused_run_says_until_when_in_the_viewers_time_zone(
    marketer: User, marketer_client: Client
) -> None:
    marketer.time_zone = "Europe/Berlin"
    marketer.save()
    a_run(
        state=RunState.PAUSED,
        paused_until=datetime(2026, 3, 3, 6, 0, tzinfo=UTC),
        pause_reason="Marketo daily API quota",
    )

    html = page(marketer_client)

    assert "Paused: Marketo daily API quota until" in html
    assert "3 Mar 2026, 07:00 CET" in html


@pytest.mark.usefixtures("marketo_on")
def test_after_the_initial_sync_the_page_summarises_what_is_mirrored(
    marketer_client: Client,
) -> None:
    synced()
    MarketoLead.objects.bulk_create([MarketoLead(id=n, email=f"l{n}@x.example") for n in range(3)])
    MarketoCompany.objects.create(id=1, external_company_id="acme", name="Acme")
    last = a_run(
        kind=RunKind.INCREMENTAL,
        phase=Phase.DONE,
        state=RunState.COMPLETED,
        started_at=timezone.now() - timedelta(minutes=2),
        finished_at=timezone.now() - timedelta(minutes=1),
        progress={"leads": {"done": 7}, "activities": {"done": 31}, "companies": {"done": 2}},
    )
    an_attribute("title")
    an_attribute("industry", AttributeObject.COMPANY)
    for state in (OutboxState.PENDING, OutboxState.SENT, OutboxState.SENT, OutboxState.FAILED):
        OutboxMessage.objects.create(
            kind=OutboxKind.PUSH_LEAD, email="a@x.example", state=state, last_error="Marketo 1004"
        )

    html = page(marketer_client)

    assert "Synced from Marketo" in html
    assert "<dt>Leads</dt><dd>3</dd>" in html
    assert "<dt>Companies</dt><dd>1</dd>" in html
    assert "7 leads, 2 companies and 31 activities changed or new" in html
    next_due = timezone.localtime(last.started_at + timedelta(minutes=5))
    assert f"{next_due:%H:%M}" in html
    assert "Synced attributes <small" in html
    assert "(2 of 50)" in html
    assert "<code>title</code>" in html
    assert "<code>industry</code>" in html
    assert reverse("sync:attributes-add") in html
    assert "<dt>Waiting</dt><dd>1</dd>" in html
    assert "<dt>Sent</dt><dd>2</dd>" in html
    assert "Marketo 1004" in html
    assert "Recent syncs" in html
    assert "Incremental sync" in html


@pytest.mark.usefixtures("marketo_on")
def test_recent_syncs_are_paginated(marketer_client: Client) -> None:
    start = timezone.now() - timedelta(days=2)
    synced(started_at=start - timedelta(hours=2), finished_at=start - timedelta(hours=1))
    for n in range(24):
        a_run(
            kind=RunKind.INCREMENTAL,
            state=RunState.COMPLETED,
            phase=Phase.DONE,
            started_at=start + timedelta(minutes=5 * n),
            finished_at=start + timedelta(minutes=5 * n + 1),
        )

    first, second = page(marketer_client), page(marketer_client, f"{OVERVIEW}?page=2")

    assert first.count("<td>Incremental sync</td>") == 20
    assert "Page 1 of 2" in first
    assert 'href="?page=2#runs"' in first
    assert second.count("<td>Incremental sync</td>") == 4
    assert "<td>Initial sync</td>" in second


@pytest.mark.usefixtures("marketo_on")
def test_a_failed_run_after_the_initial_sync_shows_its_error_and_retries(
    marketer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    synced()
    failed = a_run(
        kind=RunKind.BACKFILL,
        state=RunState.FAILED,
        last_error="Marketo 1003: Invalid field 'nope'",
        finished_at=timezone.now(),
    )

    html = page(marketer_client)
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(reverse("sync:retry", args=[failed.pk]))

    assert "The last attribute back-fill failed" in html
    assert "Marketo 1003: Invalid field &#x27;nope&#x27;" in html
    assert reverse("sync:retry", args=[failed.pk]) in html
    assert response["Location"] == OVERVIEW
    failed.refresh_from_db()
    assert failed.state == RunState.RUNNING
    assert len(callbacks) == 1


@pytest.mark.usefixtures("marketo_on")
def test_retrying_a_run_that_did_not_fail_is_refused_with_a_message(
    marketer_client: Client,
) -> None:
    synced()
    done = a_run(kind=RunKind.BACKFILL, state=RunState.COMPLETED, finished_at=timezone.now())

    response = marketer_client.post(reverse("sync:retry", args=[done.pk]), follow=True)

    assert "Only a failed sync can be retried." in response.content.decode()


# --- initiating the sync (Marketo's fields come from the sandbox) -------------------------------


@pytest.mark.usefixtures("sandbox")
def test_the_initiate_form_offers_marketos_person_and_company_fields(
    marketer_client: Client,
) -> None:
    html = " ".join(page(marketer_client).split())  # whitespace squashed

    assert "Initiate sync" in html
    assert "Person fields <small>(55)</small>" in html
    assert "Company fields <small>(16)</small>" in html
    assert 'value="person:title" id="attribute-person-title"> Job Title</label>' in html
    assert "<td><code>title</code></td> <td>string</td>" in html
    assert 'value="company:sicCode"' in html
    assert "<span data-count>0</span> of 50 chosen" in html
    default_day = years_ago(timezone.localdate(), 2).isoformat()
    assert f'name="leads_since" value="{default_day}"' in html
    assert '<option value="120" selected>120 days</option>' in html


@pytest.mark.usefixtures("sandbox")
def test_initiating_the_sync_saves_the_choice_and_starts_the_run(
    marketer: User, marketer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    marketer.time_zone = "America/New_York"
    marketer.save()
    chosen = ["person:title", "person:customerTier", "company:sicCode"]
    form = {"attributes": chosen, "leads_since": "2025-01-15", "activities_days": "90"}

    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(START, form)

    assert response.status_code == 302
    assert response["Location"] == OVERVIEW
    assert len(callbacks) == 1  # the run's first task, sent once the transaction commits
    run = SyncRun.objects.get()
    assert (run.kind, run.state) == (RunKind.INITIAL, RunState.RUNNING)
    assert run.leads_since == datetime(2025, 1, 15, 5, 0, tzinfo=UTC)  # midnight in New York
    assert run.activities_since is not None
    assert timezone.now() - run.activities_since - timedelta(days=90) < timedelta(minutes=1)
    assert {"email", "title", "customerTier"} <= set(run.lead_fields)
    assert "sicCode" in run.company_fields
    assert sorted(SyncedAttribute.objects.values_list("object", "name", "display_name")) == [
        ("company", "sicCode", "SIC Code"),
        ("person", "customerTier", "Customer Tier"),
        ("person", "title", "Job Title"),
    ]
    html = page(marketer_client)
    assert "Initial sync started." in html
    assert 'hx-trigger="every 2s"' in html


@pytest.mark.usefixtures("sandbox")
def test_more_than_fifty_attributes_are_refused(marketer_client: Client) -> None:
    offered = services.describe_attributes()
    form = {"attributes": [a.key for a in offered], "leads_since": "2025-01-15"}

    response = marketer_client.post(START, form | {"activities_days": "120"})

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Choose at most 50 attributes; {len(offered)} are chosen." in html
    assert html.count(" checked>") == len(offered)  # the choice is kept for correcting
    assert not SyncRun.objects.exists()
    assert not SyncedAttribute.objects.exists()


@pytest.mark.usefixtures("sandbox")
def test_a_since_day_in_the_future_is_refused(marketer_client: Client) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = {"attributes": ["person:title"], "leads_since": tomorrow.isoformat()}

    response = marketer_client.post(START, form | {"activities_days": "120"})

    assert "Choose a day that is not in the future." in response.content.decode()
    assert not SyncRun.objects.exists()


def test_bad_credentials_are_explained_on_the_page_not_a_server_error(
    marketer_client: Client, sandbox: MarketoSandbox
) -> None:
    with override_settings(MARKETO_CLIENT_SECRET="not-the-secret"):
        response = marketer_client.get(OVERVIEW)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Marketo refused Dynchat&#x27;s request" in html
    assert "Check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET" in html
    assert 'role="alert"' in html
    assert "Initiate sync" not in html


def test_a_used_up_daily_quota_says_when_marketo_answers_again(
    marketer_client: Client, sandbox: MarketoSandbox
) -> None:
    sandbox.add_fault(Fault("607", path="describe"))

    html = page(marketer_client)

    assert "Marketo&#x27;s daily API quota is used up" in html
    assert "after midnight US Central time. That is <time" in html


@pytest.mark.usefixtures("sandbox")
def test_a_failed_initial_sync_can_be_retried_or_started_again(marketer_client: Client) -> None:
    failed = a_run(state=RunState.FAILED, last_error="Marketo 1003: Invalid field 'nope'")

    html = page(marketer_client)

    assert "The initial sync stopped" in html
    assert reverse("sync:retry", args=[failed.pk]) in html
    assert "Initiate sync" in html


# --- synced attributes -------------------------------------------------------------------------


@pytest.mark.usefixtures("sandbox")
def test_adding_attributes_offers_only_unsynced_fields_and_back_fills_them(
    marketer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    synced()
    an_attribute("title", display="Job Title")

    form = page(marketer_client, ADD)
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(ADD, {"attributes": ["person:phone"]})

    assert 'value="person:title"' not in form
    assert 'value="person:phone"' in form
    assert "you can add up to 49 more" in form
    assert response["Location"] == OVERVIEW
    assert len(callbacks) == 1
    backfill = SyncRun.objects.get(kind=RunKind.BACKFILL)
    assert backfill.lead_fields == ["id", "phone"]
    assert SyncedAttribute.objects.filter(name="phone", backfilled_at=None).exists()
    html = page(marketer_client)
    assert "Now syncing Phone Number" in html
    assert "Attribute back-fill" in html
    assert "being filled" in html


@pytest.mark.usefixtures("sandbox")
def test_adding_beyond_fifty_attributes_is_refused(marketer_client: Client) -> None:
    synced()
    offered = services.describe_attributes()
    for attribute in offered[:48]:
        an_attribute(attribute.name, attribute.object)
    more = [a.key for a in offered[48:51]]

    response = marketer_client.post(ADD, {"attributes": more})

    html = response.content.decode()
    assert "Only 2 more can be synced (at most 50 in all); 3 are chosen." in html
    assert not SyncRun.objects.filter(kind=RunKind.BACKFILL).exists()


@pytest.mark.usefixtures("sandbox")
def test_adding_nothing_asks_for_a_choice(marketer_client: Client) -> None:
    synced()
    response = marketer_client.post(ADD, {})
    assert "Choose at least one attribute." in response.content.decode()


# --- synced attributes -------------------------------------------------------------------------


@pytest.mark.usefixtures("marketo_on")
def test_removing_an_attribute_stops_syncing_it(marketer_client: Client) -> None:
    synced()
    title = an_attribute("title")

    response = marketer_client.post(reverse("sync:attribute-remove", args=[title.pk]), follow=True)

    assert not SyncedAttribute.objects.exists()
    assert "“Title” is no longer synced." in response.content.decode()


@pytest.mark.usefixtures("marketo_on")
def test_removing_an_attribute_a_dialogue_uses_is_refused_with_the_reason(
    marketer_client: Client,
) -> None:
    synced()
    title = an_attribute("title")

    def users(object: str, name: str) -> list[str]:
        return ["the dialogue “Pricing page”"] if (object, name) == ("person", "title") else []

    services.ATTRIBUTE_USERS.append(users)
    try:
        response = marketer_client.post(
            reverse("sync:attribute-remove", args=[title.pk]), follow=True
        )
    finally:
        services.ATTRIBUTE_USERS.remove(users)

    assert SyncedAttribute.objects.filter(pk=title.pk).exists()
    html = response.content.decode()
    assert "Not removed: “Title” is used by the dialogue “Pricing page”." in html


# --- leads -------------------------------------------------------------------------------------


def leads(n: int, **fields: Any) -> list[MarketoLead]:
    now = timezone.now()
    return MarketoLead.objects.bulk_create(
        [
            MarketoLead(
                id=1000 + i,
                email=f"lead{i:03}@example.com",
                first_name="Lee",
                last_name=f"Number{i:03}",
                updated_at=now - timedelta(minutes=i),
                **fields,
            )
            for i in range(n)
        ]
    )


def test_without_leads_the_leads_page_says_where_they_come_from(marketer_client: Client) -> None:
    html = page(marketer_client, reverse("sync:leads"))
    assert "No leads mirrored yet" in html
    assert OVERVIEW in html


def test_leads_are_paginated_fifty_to_a_page_newest_change_first(marketer_client: Client) -> None:
    leads(120)
    url = reverse("sync:leads")

    first, third = page(marketer_client, url), page(marketer_client, f"{url}?page=3")

    assert first.count("@example.com</a>") == 50
    assert first.index("lead000@") < first.index("lead049@")
    assert "Page 1 of 3" in first
    assert third.count("@example.com</a>") == 20
    assert "lead119@" in third


def test_leads_are_found_by_email_name_or_company(marketer_client: Client) -> None:
    leads(3)
    MarketoLead.objects.create(
        id=1, email="ada@acme.example", first_name="Ada", last_name="Lovelace", company_name="Acme"
    )
    url = reverse("sync:leads")

    for query in ("ada@acme", "lovelace", "ACME"):
        html = page(marketer_client, f"{url}?q={query}")
        assert "ada@acme.example" in html
        assert "lead000@" not in html
    nothing = page(marketer_client, f"{url}?q=nobody")
    assert "No lead matches “nobody”" in nothing


def test_search_is_kept_across_pages(marketer_client: Client) -> None:
    leads(60, company_name="Acme")
    html = page(marketer_client, f"{reverse('sync:leads')}?q=acme")
    assert 'href="?q=acme&amp;page=2"' in html


def test_a_lead_shows_its_attributes_company_and_latest_activities(
    marketer_client: Client,
) -> None:
    an_attribute("jobTitle", display="Job Title")
    an_attribute("industry", AttributeObject.COMPANY)
    an_attribute("accountTier", AttributeObject.COMPANY, display="Account Tier")
    lead = MarketoLead.objects.create(
        id=7,
        email="ada@acme.example",
        first_name="Ada",
        external_company_id="acme",
        attributes={"jobTitle": "CTO"},
    )
    MarketoCompany.objects.create(
        id=3,
        external_company_id="acme",
        name="Acme Ltd",
        industry="Software",
        attributes={"industry": "Software", "accountTier": "Gold"},
    )
    start = timezone.now() - timedelta(days=30)
    MarketoActivity.objects.bulk_create(
        MarketoActivity(
            marketo_guid=str(n),
            lead_id=7,
            activity_date=start + timedelta(hours=n),
            activity_type_id=1,
            primary_attribute_value=f"/page-{n}",
        )
        for n in range(30)
    )

    html = page(marketer_client, reverse("sync:lead-detail", args=[lead.pk]))

    assert "<td>Job Title</td><td><code>jobTitle</code></td><td>CTO</td>" in html
    assert "Acme Ltd" in html
    assert "<dt>Account Tier</dt><dd>Gold</dd>" in html
    assert html.count("<dt>Industry</dt><dd>Software</dd>") == 1
    assert html.count("Visit Webpage") == 25
    assert html.index("/page-29") < html.index("/page-28")
    assert "/page-4<" not in html


def test_an_unknown_lead_is_404(marketer_client: Client) -> None:
    assert marketer_client.get(reverse("sync:lead-detail", args=[404])).status_code == 404


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "sync:overview", []),
        ("post", "sync:start", []),
        ("get", "sync:progress", [1]),
        ("post", "sync:retry", [1]),
        ("get", "sync:attributes-add", []),
        ("post", "sync:attributes-add", []),
        ("post", "sync:attribute-remove", [1]),
        ("get", "sync:leads", []),
        ("get", "sync:lead-detail", [1]),
    ],
)
def test_agents_get_403_everywhere(
    agent_client: Client, method: str, name: str, args: list[int]
) -> None:
    response = getattr(agent_client, method)(reverse(name, args=args))
    assert response.status_code == 403


# --- query budgets -----------------------------------------------------------------------------


def test_a_page_of_leads_takes_a_fixed_number_of_queries(
    marketer_client: Client, django_assert_max_num_queries: Any
) -> None:
    leads(120)
    with django_assert_max_num_queries(5):
        page(marketer_client, reverse("sync:leads"))


@pytest.mark.usefixtures("marketo_on")
def test_the_synced_page_does_not_query_per_run(
    marketer_client: Client, django_assert_max_num_queries: Any
) -> None:
    synced()
    for _ in range(19):
        a_run(kind=RunKind.INCREMENTAL, state=RunState.COMPLETED, phase=Phase.DONE)
    with django_assert_max_num_queries(22):  # 20 runs on the page
        page(marketer_client)
