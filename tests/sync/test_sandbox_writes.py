"""Writing to the sandbox: sync and push leads, sync companies, program member status, and
changes made inside the instance (``mutate``) as the read APIs and exports show them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.sandbox import Dataset, MarketoSandbox
from sync.sandbox.clock import iso
from tests.sync.conftest import Api

END = datetime(2025, 4, 30, tzinfo=UTC)
DATA = Dataset(
    leads=1000, companies=80, activities=6000, lead_days=50, activity_days=30, seed=13, end=END
)
Start = Callable[..., MarketoSandbox]
MakeApi = Callable[[MarketoSandbox], Api]


def activities_since(api: Api, since: datetime, types: str) -> list[dict[str, Any]]:
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=since.isoformat())[
        "nextPageToken"
    ]
    found: list[dict[str, Any]] = []
    while True:
        page = api.get("/rest/v1/activities.json", nextPageToken=token, activityTypeIds=types)
        found += page["result"]
        token = page["nextPageToken"]
        if not page["moreResult"]:
            return found


def test_sync_leads_creates_updates_and_skips_like_marketo(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    existing = str((sandbox.lead(5) or {})["email"])
    body = {
        "action": "createOrUpdate",
        "lookupField": "email",
        "input": [
            {"email": "ada@example.com", "firstName": "Ada", "leadScore": "12"},
            {"email": existing, "title": "Head of Growth"},
            {"email": "bad@example.com", "shoeSize": 44},
            {"email": "typed@example.com", "numberOfEmployees": "many"},
        ],
    }
    result = api.post("/rest/v1/leads.json", body)["result"]
    assert result[0] == {"id": 1001, "status": "created"}
    assert result[1] == {"id": 5, "status": "updated"}
    assert result[2]["status"] == "skipped"
    assert result[2]["reasons"][0]["code"] == "1006"
    assert result[3]["reasons"][0]["code"] == "1001"
    assert "seq" not in result[0], "leads carry no seq"
    assert (sandbox.lead(1001) or {})["leadScore"] == 12
    assert (sandbox.lead(5) or {})["title"] == "Head of Growth"

    only_create = api.post(
        "/rest/v1/leads.json", {"action": "createOnly", "input": [{"email": "ADA@example.com"}]}
    )
    assert only_create["result"][0]["reasons"][0]["code"] == "1005"
    only_update = api.post(
        "/rest/v1/leads.json", {"action": "updateOnly", "input": [{"email": "no@example.com"}]}
    )
    assert only_update["result"][0]["reasons"][0]["code"] == "1004"
    by_id = api.post(
        "/rest/v1/leads.json",
        {"action": "updateOnly", "lookupField": "id", "input": [{"id": 7, "city": "Boston"}]},
    )
    assert by_id["result"] == [{"id": 7, "status": "updated"}]
    company = api.post("/rest/v1/leads.json", {"input": [{"email": existing, "industry": "Toys"}]})
    assert company["result"][0]["reasons"][0]["code"] == "1021"
    too_many = {"input": [{"email": f"p{i}@example.com"} for i in range(301)]}
    assert api.post("/rest/v1/leads.json", too_many)["errors"][0]["code"] == "1003"


def test_push_lead_upserts_and_writes_a_push_activity(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    since = sandbox.mutate().since
    body = {
        "programName": "Dynchat",
        "source": "Dynchat",
        "reason": "Booked meeting",
        "lookupField": "email",
        "programStatus": "Engaged",
        "input": [
            {"email": "grace@example.com", "firstName": "Grace"},
            {"email": str((sandbox.lead(9) or {})["email"]), "phone": "555-0100"},
        ],
    }
    answer = api.post("/rest/v1/leads/push.json", body)
    assert answer["warnings"] == []
    assert answer["result"] == [{"id": 1001, "status": "created"}, {"id": 9, "status": "updated"}]
    pushes = activities_since(api, since, "145")
    assert sorted(a["leadId"] for a in pushes) == [9, 1001]
    assert {"name": "Reason", "value": "Booked meeting"} in pushes[0]["attributes"]
    members = api.get(
        "/rest/v1/programs/1001/members.json",
        filterType="leadId",
        filterValues="9,1001,1",
        fields="leadId,statusName",
    )["result"]
    assert [(m["leadId"], m["statusName"]) for m in members] == [(9, "Engaged"), (1001, "Engaged")]
    unknown = api.post("/rest/v1/leads/push.json", {**body, "programName": "Nope"})
    assert unknown["success"] is False


def test_program_member_status_only_moves_forward(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    since = sandbox.mutate().since
    path = "/rest/v1/programs/1001/members/status.json"
    first = api.post(path, {"statusName": "Influenced", "input": [{"leadId": 20}, {"leadId": 21}]})
    assert first["result"] == [
        {"seq": 0, "status": "created", "leadId": 20},
        {"seq": 1, "status": "created", "leadId": 21},
    ]
    later = api.post(path, {"statusName": "Meeting Booked", "input": [{"leadId": 20}]})
    assert later["result"] == [{"seq": 0, "status": "updated", "leadId": 20}]
    back = api.post(path, {"statusName": "Engaged", "input": [{"leadId": 20}, {"leadId": 99999}]})
    assert back["result"][0]["reasons"][0]["code"] == "1037"
    assert back["result"][1]["reasons"][0]["code"] == "1004"
    unknown = api.post(path, {"statusName": "Attended", "input": [{"leadId": 20}]})
    assert unknown["errors"][0]["code"] == "1025"
    progressions = activities_since(api, since, "104")
    assert [(a["leadId"], a["primaryAttributeValue"]) for a in progressions] == [
        (20, "Dynchat"),
        (21, "Dynchat"),
        (20, "Dynchat"),
    ]
    new_status = {a["name"]: a["value"] for a in progressions[2]["attributes"]}
    assert new_status["New Status"] == "Meeting Booked"
    assert new_status["Success"] is True
    programs = api.get("/rest/v1/programs.json")["result"]
    assert "Dynchat" in [p["name"] for p in programs]


def test_sync_companies_dedupes_on_external_id(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    answer = api.post(
        "/rest/v1/companies.json",
        {
            "input": [
                {"externalCompanyId": "ACCT-000004", "numberOfEmployees": 4321},
                {"externalCompanyId": "NEW-1", "company": "Fresh Start Inc."},
                {"externalCompanyId": "NEW-1", "company": "Again"},
            ]
        },
    )["result"]
    assert answer[0] == {"seq": 0, "status": "updated", "id": 4}
    assert answer[1] == {"seq": 1, "status": "created", "id": 81}
    assert answer[2]["reasons"][0]["code"] == "1036"
    assert (sandbox.company(4) or {})["numberOfEmployees"] == 4321
    lead_of_4 = next(
        i for i in range(1, 1001) if (sandbox.lead(i) or {})["externalCompanyId"] == "ACCT-000004"
    )
    assert (sandbox.lead(lead_of_4) or {})["numberOfEmployees"] == 4321
    found = api.get(
        "/rest/v1/companies.json",
        filterType="externalCompanyId",
        filterValues="NEW-1",
        fields="company",
    )["result"]
    assert found == [{"seq": 0, "id": 81, "company": "Fresh Start Inc."}]


def test_mutate_reports_what_it_changed(marketo_sandbox: Start) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    before = sandbox.activity_count()
    changes = sandbox.mutate(updated_leads=30, new_leads=5, new_activities=50, updated_companies=7)
    assert len(changes.updated_lead_ids) == 30
    assert changes.new_lead_ids == [1001, 1002, 1003, 1004, 1005]
    assert len(changes.updated_company_ids) == 7
    assert len(changes.new_activity_guids) == 30 + 5 + 50
    assert sandbox.activity_count() == before + 85
    assert sandbox.activity_count(since=changes.since) == 85
    assert sandbox.lead_count() == 1005
    for lead_id in changes.updated_lead_ids:
        assert (sandbox.lead(lead_id) or {})["updatedAt"] >= iso(changes.since.timestamp())


def test_changed_leads_show_in_an_updated_at_export(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    """TESTPLAN M-9: the changes after a sync are found again by an updatedAt window."""
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    changes = sandbox.mutate(updated_leads=25, new_leads=4)
    window = {
        "startAt": iso(changes.since.timestamp()),
        "endAt": iso((changes.since + timedelta(days=1)).timestamp()),
    }
    body = {"fields": ["id", "updatedAt", "title"], "filter": {"updatedAt": window}}
    done = api.export("leads", body)
    rows = list(
        csv.DictReader(
            io.StringIO(api.raw("GET", f"/bulk/v1/leads/export/{done['exportId']}/file.json").text)
        )
    )
    assert [int(r["id"]) for r in rows] == sorted(changes.updated_lead_ids + changes.new_lead_ids)
    for row in rows:
        assert row["title"] == str((sandbox.lead(int(row["id"])) or {})["title"])


def test_an_old_updated_at_window_finds_generated_leads(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    window = {"startAt": "2025-04-10T00:00:00Z", "endAt": "2025-04-20T00:00:00Z"}
    done = api.export("leads", {"fields": ["id", "updatedAt"], "filter": {"updatedAt": window}})
    text = api.raw("GET", f"/bulk/v1/leads/export/{done['exportId']}/file.json").text
    ids = [int(row["id"]) for row in csv.DictReader(io.StringIO(text))]
    expected = [
        i
        for i in range(1, 1001)
        if "2025-04-10T00:00:00Z"
        <= str((sandbox.lead(i) or {})["updatedAt"])
        <= "2025-04-20T00:00:00Z"
    ]
    assert ids == expected
