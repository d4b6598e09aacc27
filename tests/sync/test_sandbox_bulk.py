"""Bulk extract in the sandbox: the job state machine, files, checksums, limits and quotas."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sync.sandbox import Dataset, Limits, MarketoSandbox
from tests.sync.conftest import Api

END = datetime(2025, 5, 31, tzinfo=UTC)
DATA = Dataset(
    leads=3000, companies=200, activities=20_000, lead_days=60, activity_days=40, seed=21, end=END
)
MAY = {"startAt": "2025-05-01T00:00:00Z", "endAt": "2025-05-31T00:00:00Z"}
Start = Callable[..., MarketoSandbox]
MakeApi = Callable[[MarketoSandbox], Api]


def lead_body(**extra: Any) -> dict[str, Any]:
    return {
        "fields": ["id", "email", "middleName", "unsubscribed", "createdAt", "updatedAt"],
        "filter": {"createdAt": MAY},
        **extra,
    }


def download(api: Api, kind: str, export_id: str, **headers: str) -> Any:
    return api.raw("GET", f"/bulk/v1/{kind}/export/{export_id}/file.json", headers=headers)


def test_a_lead_export_runs_from_created_to_completed(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    created = api.post("/bulk/v1/leads/export/create.json", lead_body())["result"][0]
    assert created["status"] == "Created"
    assert created["format"] == "CSV"
    export_id = created["exportId"]
    assert download(api, "leads", export_id).status_code == 404

    queued = api.post(f"/bulk/v1/leads/export/{export_id}/enqueue.json")["result"][0]
    assert queued["status"] == "Queued"
    assert "queuedAt" in queued
    done = api.wait("leads", export_id)
    assert done["status"] == "Completed"
    assert {"startedAt", "finishedAt", "numberOfRecords", "fileSize", "fileChecksum"} <= set(done)

    response = download(api, "leads", export_id)
    assert response.status_code == 200
    content = response.content
    assert len(content) == done["fileSize"]
    assert "sha256:" + hashlib.sha256(content).hexdigest() == done["fileChecksum"]
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["id", "email", "middleName", "unsubscribed", "createdAt", "updatedAt"]
    assert len(rows) - 1 == done["numberOfRecords"]
    created_in_may = [
        i
        for i in range(1, 3001)
        if "2025-05-01" <= str((sandbox.lead(i) or {})["createdAt"]) < "2025-05-31"
    ]
    assert [int(row[0]) for row in rows[1:]] == created_in_may
    assert {row[2] for row in rows[1:]} == {"null"}, "empty values are the literal null"
    assert {row[3] for row in rows[1:]} <= {"true", "false"}
    lead = sandbox.lead(int(rows[1][0])) or {}
    assert rows[1][1] == lead["email"]
    assert rows[1][4] == lead["createdAt"]


def test_header_names_and_formats_can_be_chosen(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    for export_format, delimiter in (("TSV", "\t"), ("SSV", ";")):
        body = lead_body(format=export_format, columnHeaderNames={"id": "Marketo Id"})
        done = api.export("leads", body)
        text = download(api, "leads", done["exportId"]).text
        header = text.splitlines()[0]
        assert header.split(delimiter)[:2] == ["Marketo Id", "email"]
        assert done["format"] == export_format


def test_an_activity_export_has_a_json_attributes_column(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    body = {"filter": {"createdAt": MAY, "activityTypeIds": [1, 13, 104]}}
    done = api.export("activities", body)
    content = download(api, "activities", done["exportId"]).content
    assert "sha256:" + hashlib.sha256(content).hexdigest() == done["fileChecksum"]
    text = content.decode()
    assert text.splitlines()[0] == (
        "marketoGUID,leadId,activityDate,activityTypeId,campaignId,primaryAttributeValueId,"
        "primaryAttributeValue,attributes"
    )
    assert '""New Status""' in text, "quotes inside the JSON column are doubled"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == done["numberOfRecords"]
    assert {row["activityTypeId"] for row in rows} == {"1", "13", "104"}
    assert all("2025-05-01" <= row["activityDate"] <= "2025-05-31" for row in rows)
    assert "null" in {row["campaignId"] for row in rows}
    status = next(row for row in rows if row["activityTypeId"] == "104")
    attributes = json.loads(status["attributes"])
    assert {"Old Status", "New Status", "Success"} <= set(attributes)
    activity = api.get(
        "/rest/v1/activities.json",
        activityTypeIds="104",
        batchSize=1,
        nextPageToken=api.get(
            "/rest/v1/activities/pagingtoken.json", sinceDatetime=status["activityDate"]
        )["nextPageToken"],
    )["result"][0]
    assert activity["marketoGUID"] == status["marketoGUID"]
    as_rest = {a["name"]: a["value"] for a in activity["attributes"]}
    assert as_rest == attributes, "the file and the REST API agree"


def test_date_filters_span_at_most_31_days_without_milliseconds(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    create = "/bulk/v1/leads/export/create.json"
    long = {"startAt": "2025-04-01T00:00:00Z", "endAt": "2025-05-02T00:00:01Z"}
    assert api.post(create, lead_body(filter={"createdAt": long}))["errors"][0]["code"] == "1003"
    exact = {"startAt": "2025-04-01T00:00:00Z", "endAt": "2025-05-02T00:00:00Z"}
    assert api.post(create, lead_body(filter={"createdAt": exact}))["success"] is True
    millis = {"startAt": "2025-04-01T00:00:00.000Z", "endAt": "2025-04-02T00:00:00Z"}
    assert api.post(create, lead_body(filter={"updatedAt": millis}))["errors"][0]["code"] == "1003"
    two = {"createdAt": MAY, "updatedAt": MAY}
    assert api.post(create, lead_body(filter=two))["errors"][0]["code"] == "1003"
    assert api.post(create, {"filter": {"createdAt": MAY}})["errors"][0]["code"] == "1003"
    smart = lead_body(filter={"smartListId": 5})
    assert api.post(create, smart)["errors"][0]["code"] == "1035"
    no_date = {"filter": {"activityTypeIds": [1]}}
    assert api.post("/bulk/v1/activities/export/create.json", no_date)["success"] is False


def test_ranges_are_served_with_206(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    done = api.export("leads", lead_body())
    whole = download(api, "leads", done["exportId"]).content
    part = download(api, "leads", done["exportId"], Range="bytes=10-99")
    assert part.status_code == 206
    assert part.content == whole[10:100]
    assert part.headers["Content-Range"] == f"bytes 10-99/{len(whole)}"
    assert part.headers["Accept-Ranges"] == "bytes"
    rest = download(api, "leads", done["exportId"], Range="bytes=100-")
    assert whole[:100] + rest.content == whole


def test_the_queue_holds_ten_jobs_and_two_process(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    """TESTPLAN M-7: a full queue answers 1029 "Too many jobs in queue"."""
    sandbox = marketo_sandbox(
        dataset=DATA, status_interval=30, limits=Limits(bulk_queued=3, bulk_processing=1)
    )
    api = marketo_api(sandbox)
    ids = [
        api.post("/bulk/v1/leads/export/create.json", lead_body())["result"][0]["exportId"]
        for _ in range(4)
    ]
    for export_id in ids[:3]:
        assert api.post(f"/bulk/v1/leads/export/{export_id}/enqueue.json")["success"] is True
    full = api.post(f"/bulk/v1/leads/export/{ids[3]}/enqueue.json")
    assert full["errors"] == [{"code": "1029", "message": "Too many jobs in queue"}]
    again = api.post(f"/bulk/v1/leads/export/{ids[0]}/enqueue.json")
    assert again["errors"] == [{"code": "1029", "message": "Job already queued"}]

    sandbox.advance_clock(31)
    statuses = [api.wait("leads", i, until=("Queued", "Processing"))["status"] for i in ids[:3]]
    assert statuses.count("Processing") == 1, "one job at a time processes here"
    cancelled = api.post(f"/bulk/v1/leads/export/{ids[2]}/cancel.json")["result"][0]
    assert cancelled["status"] == "Cancelled"
    assert api.post(f"/bulk/v1/leads/export/{ids[3]}/enqueue.json")["success"] is True


def test_the_daily_export_quota_refuses_new_jobs_until_midnight(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    """TESTPLAN M-7: 1029 "Export daily quota exceeded" once the day's bytes are used up."""
    sandbox = marketo_sandbox(dataset=DATA, limits=Limits(export_daily_bytes=1000))
    api = marketo_api(sandbox)
    assert api.export("leads", lead_body())["fileSize"] > 1000
    created = api.post("/bulk/v1/leads/export/create.json", lead_body())["result"][0]
    refused = api.post(f"/bulk/v1/leads/export/{created['exportId']}/enqueue.json")
    assert refused["errors"] == [{"code": "1029", "message": "Export daily quota exceeded"}]
    sandbox.reset_daily_quota()
    enqueued = api.post(f"/bulk/v1/leads/export/{created['exportId']}/enqueue.json")
    assert enqueued["success"] is True


def test_jobs_are_visible_only_to_their_api_user(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    sandbox.add_client("other-service", "other-secret")
    api = marketo_api(sandbox)
    other = Api(sandbox, "other-service", "other-secret").authenticate()
    done = api.export("leads", lead_body())
    export_id = done["exportId"]
    assert other.get(f"/bulk/v1/leads/export/{export_id}/status.json")["success"] is False
    assert download(other, "leads", export_id).status_code == 404
    assert other.get("/bulk/v1/leads/export.json")["result"] == []
    mine = api.get("/bulk/v1/leads/export.json", status="Completed")["result"]
    assert [job["exportId"] for job in mine] == [export_id]
    assert api.get("/bulk/v1/activities/export.json")["result"] == []


def test_a_file_is_404_plain_text_before_completion_and_for_unknown_jobs(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA, status_interval=30)
    api = marketo_api(sandbox)
    created = api.post("/bulk/v1/leads/export/create.json", lead_body())["result"][0]
    api.post(f"/bulk/v1/leads/export/{created['exportId']}/enqueue.json")
    early = download(api, "leads", created["exportId"])
    assert early.status_code == 404
    assert early.headers["Content-Type"].startswith("text/plain")
    assert download(api, "leads", "no-such-job").status_code == 404
    stats = sandbox.stats()
    assert stats.exports_created == {"leads": 1}
    assert stats.exports_enqueued == 1
    assert stats.errors_by_code["HTTP 404"] == 2
