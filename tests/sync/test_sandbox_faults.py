"""Scripted faults (TESTPLAN §4.5): error codes at call N, bare HTTP errors, timeouts, failed
and cancelled export jobs, and truncated or corrupted downloads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import requests

from sync.sandbox import Dataset, Fault, MarketoSandbox
from tests.sync.conftest import Api

END = datetime(2025, 5, 31, tzinfo=UTC)
DATA = Dataset(
    leads=2000, companies=100, activities=5000, lead_days=40, activity_days=20, seed=8, end=END
)
EXPORT = {
    "fields": ["id", "email", "title", "company"],
    "filter": {"createdAt": {"startAt": "2025-05-01T00:00:00Z", "endAt": "2025-05-31T00:00:00Z"}},
}
Start = Callable[..., MarketoSandbox]
MakeApi = Callable[[MarketoSandbox], Api]


def codes(api: Api, n: int, path: str = "/rest/v1/lead/1.json") -> list[str | None]:
    found: list[str | None] = []
    for _ in range(n):
        answer = api.get(path)
        found.append(answer["errors"][0]["code"] if not answer["success"] else None)
    return found


@pytest.mark.parametrize("error", ["601", "602", "604", "606", "607", "608", "611", "615"])
def test_an_error_code_fires_at_the_call_it_was_scripted_for(
    error: str, marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    sandbox.add_fault(Fault(error, at_call=3, times=2))
    assert codes(api, 5) == [None, None, error, error, None]
    counted = 3 if error in ("601", "602", "604", "608", "611") else 5
    assert sandbox.stats().calls == counted, "Marketo's uncounted codes stay uncounted"
    assert sandbox.stats().errors_by_code == {error: 2}


def test_a_fault_can_be_limited_to_a_path_and_given_a_message(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    sandbox.add_fault(Fault("1029", path="enqueue.json", message="Export daily quota exceeded"))
    assert codes(api, 2) == [None, None]
    created = api.post("/bulk/v1/leads/export/create.json", EXPORT)["result"][0]
    refused = api.post(f"/bulk/v1/leads/export/{created['exportId']}/enqueue.json")
    assert refused["errors"] == [{"code": "1029", "message": "Export daily quota exceeded"}]
    assert api.post(f"/bulk/v1/leads/export/{created['exportId']}/enqueue.json")["success"]


@pytest.mark.parametrize("status", [500, 502, 503, 413])
def test_http_status_faults_are_bare_http_errors(
    status: int, marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    sandbox.add_fault(Fault(status, times=10))
    responses = [api.raw("GET", "/rest/v1/lead/1.json") for _ in range(11)]
    assert [r.status_code for r in responses] == [status] * 10 + [200]
    assert not responses[0].headers["Content-Type"].startswith("application/json")
    assert sandbox.stats().errors_by_code == {f"HTTP {status}": 10}


def test_a_timeout_fault_holds_the_request_and_answers_nothing(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    sandbox.add_fault(Fault("timeout"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.raw("GET", "/rest/v1/lead/1.json", timeout=0.5)
    assert api.get("/rest/v1/lead/1.json")["success"] is True


def test_job_faults_fail_or_cancel_the_next_job_to_complete(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    """TESTPLAN M-8: a job ends Failed (with errorMsg) or Cancelled and must be created again."""
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    sandbox.add_fault(Fault("job-failed"))
    failed = api.export("leads", EXPORT)
    assert failed["status"] == "Failed"
    assert failed["errorMsg"]
    assert "fileChecksum" not in failed
    assert (
        api.raw("GET", f"/bulk/v1/leads/export/{failed['exportId']}/file.json").status_code == 404
    )
    sandbox.add_fault(Fault("job-cancelled"))
    assert api.export("leads", EXPORT)["status"] == "Cancelled"
    assert api.export("leads", EXPORT)["status"] == "Completed"


def test_a_truncated_download_sends_less_than_it_promises(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    done = api.export("leads", EXPORT)
    path = f"/bulk/v1/leads/export/{done['exportId']}/file.json"
    sandbox.add_fault(Fault("truncated-download"))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.raw("GET", path).content  # noqa: B018 - reading the body is the test
    whole = api.raw("GET", path).content
    assert "sha256:" + hashlib.sha256(whole).hexdigest() == done["fileChecksum"]


def test_a_corrupted_download_fails_the_checksum(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    done = api.export("leads", EXPORT)
    sandbox.add_fault(Fault("truncated-download", message="corrupt"))
    body = api.raw("GET", f"/bulk/v1/leads/export/{done['exportId']}/file.json").content
    assert len(body) == done["fileSize"]
    assert "sha256:" + hashlib.sha256(body).hexdigest() != done["fileChecksum"]


def test_faults_can_be_scripted_from_another_process(marketo_sandbox: Start) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    answer = requests.post(
        sandbox.base_url + "/_sandbox/faults",
        timeout=10,
        json=[{"code": 502, "at_call": 2}, {"code": "606", "at_call": 3}],
    )
    assert answer.json() == {"added": 2}
    api = Api(sandbox).authenticate()
    statuses = [api.raw("GET", "/rest/v1/lead/1.json") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 502, 200, 200]
    assert statuses[2].json()["errors"][0]["code"] == "606"
    bad = requests.post(sandbox.base_url + "/_sandbox/faults", json=[{"code": "nope"}], timeout=10)
    assert bad.status_code == 400


def test_faults_that_have_not_fired_can_be_cleared(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    sandbox.add_fault(Fault(503, times=10))
    assert api.raw("GET", "/rest/v1/lead/1.json").status_code == 503
    sandbox.clear_faults()
    assert api.raw("GET", "/rest/v1/lead/1.json").status_code == 200
