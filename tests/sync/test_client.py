"""The Marketo client against the Marketo sandbox over HTTP: tokens, paging, reads and writes.

The clients come from ``connect`` (tests/sync/clients.py): their sleeps pass in an instant.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from sync.client import MarketoClient, Page
from sync.errors import FatalMarketoError, RetriesExhausted
from sync.sandbox import Fault, Limits, MarketoSandbox
from tests.sync.clients import SMALL, Connect

TRADE_SHOW_TYPE = 100_001  # the sandbox's approved custom activity type "attendTradeShow"


@pytest.fixture
def sandbox(marketo_sandbox: Callable[..., MarketoSandbox]) -> MarketoSandbox:
    return marketo_sandbox(dataset=SMALL)


# --- the access token ------------------------------------------------------------------------


def test_one_token_serves_every_call_and_travels_only_in_the_header(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)

    for _ in range(5):
        harness.client.describe_leads()

    assert sandbox.stats().identity_calls == harness.client.identity_calls == 1
    assert harness.client.calls == 5
    api_calls = [r for r in harness.sent if "/identity/" not in (r.url or "")]
    assert len(api_calls) == 5
    for request in api_calls:
        assert request.headers["Authorization"].startswith("Bearer ")
        assert "access_token" not in (request.url or "")


def test_a_token_is_refreshed_ahead_of_its_expiry_without_a_refused_call(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)
    harness.client.describe_leads()

    harness.pass_time(3_550)  # 50 s left: refresh ahead of time
    harness.client.describe_leads()
    assert sandbox.stats().identity_calls == 2  # Marketo hands back the same token, 50 s left

    harness.pass_time(49)  # 1 s left: wait it out, then a new token
    harness.client.describe_leads()

    stats = sandbox.stats()
    assert stats.identity_calls == 3
    assert len(harness.waits) == 1
    assert 0 < harness.waits[0] <= 3
    assert not {"601", "602"} & set(stats.errors_by_code)


def test_short_lived_tokens_are_replaced_about_once_per_lifetime(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect
) -> None:
    """M-3, the client's half: 30 s tokens, calls every 5 s for 100 s."""
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(token_ttl=30))
    harness = connect(sandbox)

    for _ in range(20):
        harness.client.describe_leads()
        harness.pass_time(5)

    stats = sandbox.stats()
    assert 3 <= stats.identity_calls <= 5
    gaps = [
        b - a
        for a, b in zip(stats.identity_call_times, stats.identity_call_times[1:], strict=False)
    ]
    assert min(gaps) >= 25
    assert not {"601", "602"} & set(stats.errors_by_code)


@pytest.mark.parametrize("code", ["601", "602"])
def test_a_refused_token_is_refreshed_once_and_the_call_retried_once(
    sandbox: MarketoSandbox, connect: Connect, code: str
) -> None:
    harness = connect(sandbox)
    harness.client.describe_leads()
    sandbox.reset_stats()
    sandbox.add_fault(Fault(code))

    assert harness.client.describe_companies()

    stats = sandbox.stats()
    assert stats.errors_by_code == {code: 1}
    assert stats.identity_calls == 1
    assert stats.requests == 2
    assert harness.waits == []


def test_each_of_several_expired_tokens_gets_one_refresh_and_one_retry(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)
    sandbox.add_fault(Fault("602", times=3))

    harness.client.describe_leads()

    stats = sandbox.stats()
    assert stats.errors_by_code == {"602": 3}
    assert stats.identity_calls == 1 + 3
    assert stats.requests == 1 + 3


def test_a_token_refused_on_every_attempt_ends_in_retries_exhausted(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox, max_attempts=3)
    sandbox.add_fault(Fault("601", times=10))

    with pytest.raises(RetriesExhausted) as exhausted:
        harness.client.describe_leads()

    assert (exhausted.value.code, exhausted.value.attempts) == ("601", 3)
    assert sandbox.stats().identity_calls == 3
    assert sandbox.stats().requests == 3


def test_threads_that_need_a_new_token_share_one_identity_call(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)
    harness.client.describe_leads()
    harness.pass_time(3_601)  # the token has expired
    failures: list[BaseException] = []

    def call() -> None:
        try:
            harness.client.describe_leads()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not failures
    assert sandbox.stats().identity_calls == 2
    assert "602" not in sandbox.stats().errors_by_code


def test_bad_credentials_are_fatal_and_no_api_call_is_made(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)
    harness.client = MarketoClient(
        sandbox.base_url, sandbox.client_id, "wrong", limiter=harness.limiter, sleep=harness.sleep
    )

    with pytest.raises(FatalMarketoError) as refused:
        harness.client.describe_leads()

    assert refused.value.code == "HTTP 401"
    assert str(refused.value) == "Marketo HTTP 401: Bad client credentials"
    assert sandbox.stats().identity_calls == 1
    assert sandbox.stats().requests == 0
    assert harness.waits == []


def test_the_client_can_be_built_from_settings(
    sandbox: MarketoSandbox, marketo_settings: Callable[[MarketoSandbox], Any]
) -> None:
    with marketo_settings(sandbox):
        client = MarketoClient.from_settings()
        try:
            assert client.activity_types()
        finally:
            client.limiter.reset()

    assert client.timeout == settings.MARKETO_TIMEOUT_SECONDS
    assert client.limiter.calls == settings.MARKETO_MAX_CALLS_PER_20S


# --- reads -------------------------------------------------------------------------------------


def test_describe_calls_return_the_field_lists(sandbox: MarketoSandbox, connect: Connect) -> None:
    client = connect(sandbox).client

    lead_fields = {field["rest"]["name"] for field in client.describe_leads() if "rest" in field}
    company_fields = {field["name"] for field in client.describe_companies()}
    activity_types = {kind["id"]: kind["name"] for kind in client.activity_types()}

    assert {"id", "email", "externalCompanyId"} <= lead_fields
    assert {"externalCompanyId", "company"} <= company_fields
    assert activity_types[12] == "New Lead"


def test_lookups_follow_every_page(sandbox: MarketoSandbox, connect: Connect) -> None:
    harness = connect(sandbox)
    by_company: dict[str, set[int]] = {}
    for lead_id in sandbox.lead_ids():
        lead = sandbox.lead(lead_id) or {}
        by_company.setdefault(lead.get("externalCompanyId") or "", set()).add(lead_id)
    companies = [key for key in by_company if key]
    chosen: list[str] = []
    expected: set[int] = set()
    while len(expected) <= 400:
        chosen.append(companies[len(chosen)])
        expected |= by_company[chosen[-1]]

    leads = harness.client.leads_by("externalCompanyId", chosen, ["email", "externalCompanyId"])

    assert {lead["id"] for lead in leads} == expected
    assert len(leads) == len(expected)
    pages = [r for r in harness.sent if "/rest/v1/leads.json" in (r.url or "")]
    assert len(pages) == -(-len(expected) // 300)


def test_a_lookup_too_long_for_a_url_goes_as_a_form_post(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)
    emails = {(sandbox.lead(i) or {})["email"]: i for i in range(1, 301)}

    leads = harness.client.leads_by("email", list(emails), ["email"])

    assert {lead["email"]: lead["id"] for lead in leads} == emails
    (request,) = [r for r in harness.sent if "/rest/v1/leads.json" in (r.url or "")]
    assert request.method == "POST"
    assert (request.url or "").endswith("/rest/v1/leads.json?_method=GET")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_companies_are_looked_up_by_external_id(sandbox: MarketoSandbox, connect: Connect) -> None:
    client = connect(sandbox).client
    wanted = [(sandbox.company(i) or {})["externalCompanyId"] for i in (1, 2, 3)]

    companies = client.companies_by("externalCompanyId", wanted, ["company", "externalCompanyId"])

    assert [company["externalCompanyId"] for company in companies] == wanted


def test_activity_pages_come_one_at_a_time_and_empty_pages_do_not_end_the_walk(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    client = connect(sandbox).client
    since = datetime.now(UTC) - timedelta(minutes=1)
    chat_type = client.create_custom_activity_type(
        {
            "apiName": f"chatted{uuid.uuid4().hex[:8]}",
            "name": "Chatted",
            "triggerName": "Chats",
            "filterName": "Chatted",
            "primaryAttribute": {"apiName": "dialogue", "name": "Dialogue"},
        }
    )
    client.approve_custom_activity_type(chat_type["apiName"])
    # 6,000 activities of another type first: the server walks them and finds nothing.
    for _ in range(20):
        added = client.add_custom_activities(
            [
                {
                    "leadId": 1,
                    "activityDate": "2026-01-05T10:00:00Z",
                    "activityTypeId": TRADE_SHOW_TYPE,
                    "primaryAttributeValue": "Expo",
                }
            ]
            * 300
        )
        assert {result["status"] for result in added} == {"added"}
    (chat,) = client.add_custom_activities(
        [
            {
                "leadId": 2,
                "activityDate": "2026-01-05T10:05:00Z",
                "activityTypeId": chat_type["id"],
                "primaryAttributeValue": "Pricing",
            }
        ]
    )

    token = client.paging_token(since)
    pages: list[Page] = []
    while True:
        page = client.activities_page(token, [chat_type["id"]])
        pages.append(page)
        assert page.next_page_token
        token = page.next_page_token
        if not page.more or len(pages) > 10:
            break

    assert [len(page.results) for page in pages[:-1]].count(0) >= 1
    assert all(page.more for page in pages[:-1])
    found = [activity for page in pages for activity in page.results]
    assert [activity["marketoGUID"] for activity in found] == [chat["marketoGUID"]]


def test_lead_changes_come_a_page_at_a_time(sandbox: MarketoSandbox, connect: Connect) -> None:
    client = connect(sandbox).client
    token = client.paging_token(datetime.now(UTC) - timedelta(days=200))

    page = client.lead_changes_page(token, ["title", "phone"])

    assert page.more
    assert page.next_page_token not in (None, token)
    assert page.results
    assert {change["activityTypeId"] for change in page.results} <= {12, 13}


def test_too_many_activity_types_are_refused_before_any_call(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)

    with pytest.raises(ValueError, match="10 activity type ids"):
        harness.client.activities_page("token", list(range(1, 12)))

    assert harness.client.calls == 0


# --- writes: record-level results come back in input order, skipped ones included --------------


def test_pushed_leads_report_created_updated_and_skipped_in_input_order(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    client = connect(sandbox).client
    existing = (sandbox.lead(5) or {})["email"]

    results = client.push_leads(
        [
            {"email": existing, "title": "CTO"},
            {"email": "new.visitor@example.com", "firstName": "New"},
            {"email": "odd@example.com", "favouriteColour": "teal"},
        ],
        program_name="Dynchat",
        source="Dynchat",
        reason="Chatted on the pricing page",
    )

    assert [result["status"] for result in results] == ["updated", "created", "skipped"]
    assert results[0]["id"] == 5
    assert results[2]["reasons"][0]["code"] == "1006"
    assert (sandbox.lead(5) or {})["title"] == "CTO"


def test_custom_activities_report_added_and_skipped_records(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    client = connect(sandbox).client
    spec = {
        "apiName": "bookedMeeting",
        "name": "Booked Meeting in Chat",
        "triggerName": "Books Meeting in Chat",
        "filterName": "Booked Meeting in Chat",
        "primaryAttribute": {"apiName": "dialogue", "name": "Dialogue"},
    }

    draft = client.create_custom_activity_type(spec)
    approved = client.approve_custom_activity_type("bookedMeeting")
    listed = {kind["apiName"]: kind for kind in client.custom_activity_types()}
    results = client.add_custom_activities(
        [
            {
                "leadId": lead_id,
                "activityDate": "2026-01-05T10:00:00Z",
                "activityTypeId": draft["id"],
                "primaryAttributeValue": "Pricing",
            }
            for lead_id in (3, 999_999)
        ]
    )

    assert (draft["status"], approved["status"]) == ("draft", "approved")
    assert listed["bookedMeeting"]["status"] == "approved"
    assert results[0]["status"] == "added"
    assert results[0]["marketoGUID"]
    assert results[1]["status"] == "skipped"
    assert results[1]["errors"][0]["code"] == "1004"


def test_program_statuses_only_move_forward_and_skips_are_reported(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    client = connect(sandbox).client

    first = client.program_member_status(1001, "Influenced", [10, 11])
    second = client.program_member_status(1001, "Engaged", [10, 999_999])

    assert [result["status"] for result in first] == ["created", "created"]
    assert [result["status"] for result in second] == ["skipped", "skipped"]
    assert second[0]["reasons"][0]["code"] == "1037"
    assert second[1]["reasons"][0]["code"] == "1004"


def test_batches_over_300_records_are_refused_before_any_call(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)

    with pytest.raises(ValueError, match="at most 300"):
        harness.client.program_member_status(1001, "Engaged", list(range(1, 302)))

    assert harness.client.calls == 0
