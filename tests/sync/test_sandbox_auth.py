"""The Marketo sandbox's identity calls, access tokens, response envelope and request errors."""

from __future__ import annotations

import re
from collections.abc import Callable

import requests

from sync.sandbox import Dataset, Limits, MarketoSandbox
from tests.sync.conftest import Api

SMALL = Dataset(leads=200, companies=20, activities=1000, seed=5)
Start = Callable[..., MarketoSandbox]


def test_identity_returns_the_same_token_until_it_expires(marketo_sandbox: Start) -> None:
    """TESTPLAN M-3: the token lives token_ttl seconds; identity calls hand out the same one."""
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(token_ttl=30))
    api = Api(sandbox)
    first = api.identity().json()
    assert set(first) == {"access_token", "token_type", "expires_in", "scope"}
    assert first["token_type"] == "bearer"
    assert re.fullmatch(r"[0-9a-f-]{36}:ab", first["access_token"])
    assert 29 <= first["expires_in"] <= 30

    sandbox.advance_clock(20)
    again = api.identity().json()
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] <= 10

    sandbox.advance_clock(11)
    renewed = api.identity().json()
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] >= 29
    assert sandbox.stats().identity_calls == 3
    assert sandbox.stats().calls == 0


def test_bad_credentials_get_http_401_in_oauth_form(marketo_sandbox: Start) -> None:
    sandbox = marketo_sandbox(dataset=SMALL)
    response = Api(sandbox).identity(secret="wrong")
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Bad client credentials",
    }


def test_missing_and_unknown_tokens_are_601_and_expired_ones_602(marketo_sandbox: Start) -> None:
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(token_ttl=30))
    api = Api(sandbox)
    assert api.get("/rest/v1/lead/1.json")["errors"] == [
        {"code": "601", "message": "Access token invalid"}
    ]
    api.token = "00000000-0000-0000-0000-000000000000:ab"
    assert api.get("/rest/v1/lead/1.json")["errors"][0]["code"] == "601"

    api.authenticate()
    assert api.get("/rest/v1/lead/1.json")["success"] is True
    sandbox.advance_clock(31)
    assert api.get("/rest/v1/lead/1.json")["errors"] == [
        {"code": "602", "message": "Access token expired"}
    ]
    stats = sandbox.stats()
    assert stats.calls == 1, "601 and 602 answers count toward no limit"
    assert stats.errors_by_code == {"601": 2, "602": 1}


def test_the_deprecated_access_token_parameter_still_works(
    marketo_sandbox: Start, marketo_api: Callable[[MarketoSandbox], Api]
) -> None:
    sandbox = marketo_sandbox(dataset=SMALL)
    token = marketo_api(sandbox).token
    response = requests.get(
        sandbox.base_url + "/rest/v1/lead/3.json", params={"access_token": token}, timeout=10
    )
    assert response.json()["result"][0]["id"] == 3


def test_envelopes_have_a_request_id_and_leave_out_empty_members(
    marketo_sandbox: Start, marketo_api: Callable[[MarketoSandbox], Api]
) -> None:
    api = marketo_api(marketo_sandbox(dataset=SMALL))
    response = api.raw("GET", "/rest/v1/lead/4.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]+#[0-9a-f]+", body["requestId"])
    assert body["success"] is True
    assert isinstance(body["result"], list)
    assert "errors" not in body
    assert "warnings" not in body

    missing = api.get("/rest/v1/lead/99999.json")
    assert missing["success"] is True
    assert missing["result"] == []


def test_unknown_paths_are_610_and_wrong_methods_605(
    marketo_sandbox: Start, marketo_api: Callable[[MarketoSandbox], Api]
) -> None:
    sandbox = marketo_sandbox(dataset=SMALL)
    api = marketo_api(sandbox)
    assert api.get("/rest/v1/nothing.json")["errors"][0]["code"] == "610"
    wrong = api.get("/rest/v1/leads/push.json")
    assert wrong["success"] is False
    assert wrong["errors"] == [{"code": "605", "message": "Request method not supported"}]
    assert sandbox.stats().calls == 1, "610 counts, 605 does not"


def test_json_bodies_need_the_json_content_type_and_valid_json(
    marketo_sandbox: Start, marketo_api: Callable[[MarketoSandbox], Api]
) -> None:
    api = marketo_api(marketo_sandbox(dataset=SMALL))
    as_text = api.raw(
        "POST", "/rest/v1/leads.json", data=b'{"input": []}', headers={"Content-Type": "text/plain"}
    )
    assert as_text.json()["errors"][0]["code"] == "612"
    broken = api.raw(
        "POST",
        "/rest/v1/leads.json",
        data=b'{"input": [',
        headers={"Content-Type": "application/json"},
    )
    assert broken.json()["errors"][0]["code"] == "609"


def test_long_uris_are_414_and_large_bodies_413(
    marketo_sandbox: Start, marketo_api: Callable[[MarketoSandbox], Api]
) -> None:
    api = marketo_api(marketo_sandbox(dataset=SMALL))
    values = ",".join(f"someone{i}@example.com" for i in range(400))
    too_long = api.raw(
        "GET", "/rest/v1/leads.json", params={"filterType": "email", "filterValues": values}
    )
    assert too_long.status_code == 414
    too_big = api.raw(
        "POST",
        "/rest/v1/leads.json",
        data=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413


def test_long_queries_go_as_post_with_method_get(
    marketo_sandbox: Start, marketo_api: Callable[[MarketoSandbox], Api]
) -> None:
    """The 414 workaround: POST ?_method=GET with the query string as a form body."""
    sandbox = marketo_sandbox(dataset=SMALL)
    api = marketo_api(sandbox)
    emails = [str((sandbox.lead(i) or {})["email"]) for i in range(1, 151)]
    response = api.raw(
        "POST",
        "/rest/v1/leads.json",
        params={"_method": "GET"},
        data={"filterType": "email", "filterValues": ",".join(emails)},
    )
    body = response.json()
    assert body["success"] is True
    assert [lead["id"] for lead in body["result"]] == list(range(1, 151))


def test_control_calls_are_neither_counted_nor_limited(marketo_sandbox: Start) -> None:
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(calls_per_window=1, daily_quota=1))
    base = sandbox.base_url + "/_sandbox"
    for _ in range(3):
        assert requests.get(base + "/stats", timeout=10).json()["calls"] == 0
    counts = requests.get(base + "/counts", timeout=10).json()
    assert counts == {"leads": 200, "companies": 20, "activities": 1000}
    added = requests.post(base + "/faults", json=[{"code": "608", "times": 2}], timeout=10)
    assert added.json() == {"added": 1}
    api = Api(sandbox).authenticate()
    assert api.get("/rest/v1/lead/1.json")["errors"][0]["code"] == "608"
    changes = requests.post(base + "/mutate", json={"new_leads": 2}, timeout=10).json()
    assert len(changes["new_lead_ids"]) == 2
    assert requests.post(base + "/reset-quota", timeout=10).json() == {"ok": True}
    assert requests.post(base + "/reset-stats", timeout=10).json() == {"ok": True}
    assert requests.get(base + "/stats", timeout=10).json()["requests"] == 0
