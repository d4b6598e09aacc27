"""Activities in the sandbox: date paging tokens, pages that may be empty, lead changes, deleted
leads, custom activity types and custom activities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sync.sandbox import Dataset, MarketoSandbox
from tests.sync.conftest import Api

END = datetime(2025, 3, 1, tzinfo=UTC)
DATA = Dataset(
    leads=400, companies=30, activities=12_000, lead_days=60, activity_days=30, seed=3, end=END
)
Start = Callable[..., MarketoSandbox]
MakeApi = Callable[[MarketoSandbox], Api]


def walk(
    api: Api, path: str, token: str, **params: Any
) -> tuple[list[dict[str, Any]], list[int], str]:
    """Every result from ``token`` on, the size of each page, and the last token."""
    results: list[dict[str, Any]] = []
    sizes: list[int] = []
    while True:
        page = api.get(path, nextPageToken=token, **params)
        assert page["success"] is True, page
        assert "nextPageToken" in page, "activity endpoints always return a token"
        results += page["result"]
        sizes.append(len(page["result"]))
        token = page["nextPageToken"]
        if not page["moreResult"]:
            return results, sizes, token


def test_a_paging_token_has_no_result_member(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    page = api.get(
        "/rest/v1/activities/pagingtoken.json", sinceDatetime="2025-02-01T00:00:00-06:00"
    )
    assert set(page) == {"requestId", "success", "nextPageToken"}
    bad = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime="yesterday")
    assert bad["success"] is False


def test_sparse_type_filters_give_short_and_empty_pages_until_the_end(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime="2025-01-01T00:00:00Z")[
        "nextPageToken"
    ]
    results, sizes, last = walk(api, "/rest/v1/activities.json", token, activityTypeIds="145")
    assert all(size < 300 for size in sizes)
    one_lead, one_lead_sizes, _ = walk(
        api, "/rest/v1/activities.json", token, activityTypeIds="145", leadIds="390"
    )
    assert 0 in one_lead_sizes, "a page may be empty while moreResult is true"
    assert all(a["leadId"] == 390 for a in one_lead)
    assert [int(a["marketoGUID"]) for a in results] == sorted(int(a["id"]) for a in results)
    assert {a["activityTypeId"] for a in results} == {145}
    assert len(results) == sandbox.activity_count([145])

    everything, full_sizes, _ = walk(
        api, "/rest/v1/activities.json", token, activityTypeIds="1,6,7,10,11,2,3,12,13,22"
    )
    assert max(full_sizes) == 300
    assert len(everything) == sandbox.activity_count([1, 6, 7, 10, 11, 2, 3, 12, 13, 22])

    at_end = api.get("/rest/v1/activities.json", nextPageToken=last, activityTypeIds="145")
    assert at_end["result"] == []
    assert at_end["moreResult"] is False
    changes = sandbox.mutate(new_activities=400)
    later, _, _ = walk(api, "/rest/v1/activities.json", last, activityTypeIds="1,145")
    new = set(changes.new_activity_guids)
    assert {a["marketoGUID"] for a in later} <= new
    assert later, "a token from the end finds activities added after it"


def test_activity_records_have_marketo_shape(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime="2025-02-20T00:00:00Z")[
        "nextPageToken"
    ]
    page = api.get(
        "/rest/v1/activities.json", nextPageToken=token, activityTypeIds="1", batchSize=5
    )
    assert len(page["result"]) == 5
    visit = page["result"][0]
    assert visit["marketoGUID"] == str(visit["id"])
    assert visit["activityTypeId"] == 1
    assert visit["activityDate"] >= "2025-02-20T00:00:00Z"
    assert visit["activityDate"].endswith("Z")
    assert visit["primaryAttributeValue"].startswith("www.example.com/")
    names = {attribute["name"] for attribute in visit["attributes"]}
    assert {"Client IP Address", "User Agent", "Webpage URL"} <= names
    assert all(attribute["value"] not in ("", None) for attribute in visit["attributes"])


def test_activity_queries_are_checked(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime="2025-02-01T00:00:00Z")[
        "nextPageToken"
    ]
    eleven = ",".join(str(t) for t in (1, 2, 3, 6, 7, 10, 11, 12, 13, 22, 46))
    assert (
        api.get("/rest/v1/activities.json", nextPageToken=token, activityTypeIds=eleven)["errors"][
            0
        ]["code"]
        == "1003"
    )
    assert api.get("/rest/v1/activities.json", nextPageToken=token)["errors"][0]["code"] == "701"
    assert (
        api.get("/rest/v1/activities.json", nextPageToken="NOT-A-TOKEN", activityTypeIds="1")[
            "errors"
        ][0]["code"]
        == "1003"
    )
    by_lead = api.get(
        "/rest/v1/activities.json", nextPageToken=token, activityTypeIds="1,6,7,10", leadIds="5,6"
    )
    assert all(a["leadId"] in (5, 6) for a in by_lead["result"])


def test_lead_changes_show_new_values_of_the_fields_asked_for(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    since = sandbox.mutate().since.isoformat()
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=since)["nextPageToken"]
    changes = sandbox.mutate(updated_leads=40, new_leads=3)
    fields = "title,phone,leadStatus,city,customerTier,productInterest,lastChatTopic"
    fields += ",rating,leadRole,department"
    results, _, _ = walk(api, "/rest/v1/activities/leadchanges.json", token, fields=fields)
    updated = [r for r in results if r["activityTypeId"] == 13]
    created = [r for r in results if r["activityTypeId"] == 12]
    assert sorted(r["leadId"] for r in updated) == changes.updated_lead_ids
    assert sorted(r["leadId"] for r in created) == changes.new_lead_ids
    for record in updated:
        (change,) = record["fields"]
        assert set(change) == {"id", "name", "newValue", "oldValue"}
        assert change["newValue"] == str((sandbox.lead(record["leadId"]) or {})[change["name"]])
        assert {"name": "Lead ID", "value": record["leadId"]} in record["attributes"]

    only_title, _, _ = walk(api, "/rest/v1/activities/leadchanges.json", token, fields="title")
    assert all(c["name"] == "title" for r in only_title for c in r["fields"])
    assert len([r for r in only_title if r["activityTypeId"] == 13]) <= len(updated)
    missing = api.get("/rest/v1/activities/leadchanges.json", nextPageToken=token)
    assert missing["errors"][0]["code"] == "701"


def test_deleted_leads_page_through_quickly_when_there_are_none(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime="2024-01-01T00:00:00Z")[
        "nextPageToken"
    ]
    results, sizes, _ = walk(api, "/rest/v1/activities/deletedleads.json", token)
    assert results == []
    assert len(sizes) == 1


def create_type(api: Api, name: str) -> dict[str, Any]:
    body = {
        "apiName": name,
        "name": f"Chat {name}",
        "triggerName": f"Does {name}",
        "filterName": f"Did {name}",
        "description": "Dynchat event",
        "primaryAttribute": {"apiName": "dialogue", "name": "Dialogue", "description": "name"},
    }
    answer: dict[str, Any] = api.post("/rest/v1/activities/external/type.json", body)
    return answer


def test_custom_activity_types_are_drafts_until_approved(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    created = create_type(api, "engagedWithDialogue")["result"][0]
    assert created["status"] == "draft"
    assert created["primaryAttribute"]["dataType"] == "string"
    attributes = api.post(
        "/rest/v1/activities/external/type/engagedWithDialogue/attributes/create.json",
        {"attributes": [{"apiName": "goal", "name": "Goal", "dataType": "string"}]},
    )["result"][0]
    assert [a["apiName"] for a in attributes["attributes"]] == ["goal"]
    type_id = created["id"]
    activity = {
        "leadId": 10,
        "activityDate": "2025-03-01T10:00:00+01:00",
        "activityTypeId": type_id,
        "primaryAttributeValue": "Pricing",
        "attributes": [{"apiName": "goal", "value": "Booked"}],
    }
    draft_use = api.post("/rest/v1/activities/external.json", {"input": [activity]})
    assert draft_use["result"][0]["status"] == "skipped"

    approved = api.post("/rest/v1/activities/external/type/engagedWithDialogue/approve.json")
    assert approved["result"][0]["status"] == "approved"
    listed = api.get("/rest/v1/activities/external/types.json")["result"]
    assert "engagedWithDialogue" in [t["apiName"] for t in listed]
    described = api.get("/rest/v1/activities/external/type/engagedWithDialogue/describe.json")
    assert described["result"][0]["attributes"][0]["name"] == "Goal"
    types = api.get("/rest/v1/activities/types.json")["result"]
    assert type_id in [t["id"] for t in types]


def test_at_most_ten_custom_activity_types(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    existing = len(api.get("/rest/v1/activities/external/types.json")["result"])
    for n in range(10 - existing):
        assert create_type(api, f"event{n}")["success"] is True
    refused = create_type(api, "eleventh")
    assert refused["errors"][0]["code"] == "1027"


def test_custom_activities_are_added_to_the_stream(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    type_id = create_type(api, "reachedGoal")["result"][0]["id"]
    api.post("/rest/v1/activities/external/type/reachedGoal/approve.json")
    token = api.get(
        "/rest/v1/activities/pagingtoken.json", sinceDatetime=sandbox.mutate().since.isoformat()
    )["nextPageToken"]
    good = {
        "leadId": 12,
        "activityDate": "2025-03-01T10:00:00Z",
        "activityTypeId": type_id,
        "primaryAttributeValue": "Demo dialogue",
        "attributes": [],
    }
    unknown_lead = {**good, "leadId": 999_999}
    answer = api.post("/rest/v1/activities/external.json", {"input": [good, unknown_lead]})
    added, skipped = answer["result"]
    assert added["status"] == "added"
    assert added["marketoGUID"] == str(added["id"])
    assert skipped == {
        "status": "skipped",
        "errors": [{"code": "1004", "message": "Lead not found"}],
    }
    found, _, _ = walk(api, "/rest/v1/activities.json", token, activityTypeIds=str(type_id))
    assert [a["marketoGUID"] for a in found] == [added["marketoGUID"]]
    assert found[0]["primaryAttributeValue"] == "Demo dialogue"
    assert found[0]["activityDate"] == "2025-03-01T10:00:00Z"
    assert sandbox.activity_count([type_id]) == 1
