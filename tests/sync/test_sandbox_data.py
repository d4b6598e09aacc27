"""The sandbox's generated instance: describe calls, realistic deterministic data, lead and
company reads with filters and paging tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sync.sandbox import Dataset, MarketoSandbox
from sync.sandbox.fields import LEAD_FIELDS
from tests.sync.conftest import Api

END = datetime(2025, 6, 30, 12, tzinfo=UTC)
DATA = Dataset(
    leads=600, companies=50, activities=4000, lead_days=90, activity_days=60, seed=11, end=END
)
Start = Callable[..., MarketoSandbox]
MakeApi = Callable[[MarketoSandbox], Api]


def test_describe_lists_standard_and_custom_lead_fields(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    fields = api.get("/rest/v1/leads/describe.json")["result"]
    by_name = {field["rest"]["name"]: field for field in fields}
    assert len(fields) >= 50
    for name, data_type in [
        ("id", "integer"),
        ("email", "email"),
        ("leadScore", "score"),
        ("annualRevenue", "currency"),
        ("unsubscribed", "boolean"),
        ("phone", "phone"),
        ("createdAt", "datetime"),
        ("productInterest", "string"),
        ("trialStartDate", "date"),
    ]:
        assert by_name[name]["dataType"] == data_type
    assert by_name["id"]["rest"]["readOnly"] is True
    assert {"id", "displayName", "dataType", "rest", "soap"} <= set(by_name["email"])

    api_lead = api.get("/rest/v1/leads/describe2.json")["result"][0]
    assert api_lead["name"] == "API Lead"
    assert ["email"] in api_lead["searchableFields"]
    assert {f["name"] for f in api_lead["fields"]} == set(by_name)


def test_describe_companies_and_activity_types(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    company = api.get("/rest/v1/companies/describe.json")["result"][0]
    assert company["idField"] == "id"
    assert company["dedupeFields"] == ["externalCompanyId"]
    assert {
        "company",
        "industry",
        "numberOfEmployees",
        "annualRevenue",
        "billingCountry",
        "website",
        "sicCode",
        "mainPhone",
    } <= {f["name"] for f in company["fields"]}
    types = {t["id"]: t for t in api.get("/rest/v1/activities/types.json")["result"]}
    assert {1, 2, 3, 6, 7, 10, 11, 12, 13, 22, 46, 104, 145} <= set(types)
    assert types[1]["name"] == "Visit Webpage"
    assert types[1]["primaryAttribute"] == {"name": "Webpage ID", "dataType": "integer"}
    custom = [t for t in types.values() if t["id"] >= 100_000]
    assert custom
    assert all("apiName" in t for t in custom)


def test_the_data_is_deterministic_and_realistic(marketo_sandbox: Start) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    twin = MarketoSandbox(DATA)
    leads = [sandbox.lead(i) or {} for i in range(1, 601)]
    assert leads == [twin.lead(i) for i in range(1, 601)]
    assert set(leads[0]) == {field.name for field in LEAD_FIELDS}

    emails = [str(lead["email"]) for lead in leads]
    assert len(set(emails)) == len(emails)
    assert all(e.isascii() and e == e.lower() and "@" in e for e in emails)
    created = [datetime.fromisoformat(str(lead["createdAt"])) for lead in leads]
    assert created == sorted(created)
    assert END - timedelta(days=90) <= created[0]
    assert created[-1] <= END
    assert all(str(lead["updatedAt"]) >= str(lead["createdAt"]) for lead in leads)
    cookies = [lead["cookies"] for lead in leads if lead["cookies"]]
    assert 0.6 < len(cookies) / len(leads) < 0.8
    assert all(re.fullmatch(r"_mch-[a-z0-9.-]+-\d{13}-\d{5}", str(c)) for c in cookies)
    assert all(0 <= int(lead["leadScore"]) <= 100 for lead in leads)
    assert all(re.fullmatch(r"ACCT-\d{6}", str(lead["externalCompanyId"])) for lead in leads)

    company_id = int(str(leads[0]["externalCompanyId"])[5:])
    company = sandbox.company(company_id) or {}
    for field in ("company", "industry", "numberOfEmployees", "annualRevenue"):
        assert leads[0][field] == company[field], "company fields are inherited onto the lead"
    assert sandbox.lead_count() == 600
    assert list(sandbox.lead_ids()) == list(range(1, 601))
    assert sandbox.company_count() == 50
    assert sandbox.activity_count() == 4000
    assert sandbox.activity_count(since=END - timedelta(days=30)) in range(1950, 2050)


def test_a_lead_by_id_has_the_default_fields_or_the_ones_asked_for(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    lead = api.get("/rest/v1/lead/42.json")["result"][0]
    assert set(lead) == {"id", "email", "updatedAt", "createdAt", "firstName", "lastName"}
    chosen = api.get("/rest/v1/lead/42.json", fields="email,middleName,leadScore")["result"][0]
    assert set(chosen) == {"id", "email", "leadScore"}, "a null value is left out"
    assert chosen["leadScore"] == (sandbox.lead(42) or {})["leadScore"]
    assert api.get("/rest/v1/lead/42.json", fields="shoeSize")["errors"][0]["code"] == "1006"


def test_leads_by_filter_find_emails_cookies_and_companies(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    lead = sandbox.lead(77) or {}
    by_email = api.get(
        "/rest/v1/leads.json",
        filterType="email",
        filterValues=str(lead["email"]).upper() + ",nobody@example.com",
    )
    assert [found["id"] for found in by_email["result"]] == [77]

    with_cookie = next(i for i in range(1, 600) if (sandbox.lead(i) or {}).get("cookies"))
    cookie = str((sandbox.lead(with_cookie) or {})["cookies"])
    by_cookie = api.get("/rest/v1/leads.json", filterType="cookies", filterValues=cookie)
    assert [found["id"] for found in by_cookie["result"]] == [with_cookie]

    company = str(lead["externalCompanyId"])
    members = [i for i in range(1, 601) if (sandbox.lead(i) or {})["externalCompanyId"] == company]
    by_company = api.get(
        "/rest/v1/leads.json",
        filterType="externalCompanyId",
        filterValues=company,
        fields="company,externalCompanyId",
    )
    assert [found["id"] for found in by_company["result"]] == members
    assert all(found["externalCompanyId"] == company for found in by_company["result"])


def test_leads_by_filter_page_with_tokens(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    ids = ",".join(str(i) for i in range(1, 251))
    seen: list[int] = []
    page = api.get("/rest/v1/leads.json", filterType="id", filterValues=ids, batchSize=100)
    while True:
        assert page["success"] is True
        seen += [lead["id"] for lead in page["result"]]
        if not page.get("moreResult"):
            break
        page = api.get(
            "/rest/v1/leads.json",
            filterType="id",
            filterValues=ids,
            batchSize=100,
            nextPageToken=page["nextPageToken"],
        )
    assert seen == list(range(1, 251))


def test_leads_cannot_be_filtered_by_date_or_by_more_than_300_values(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    api = marketo_api(marketo_sandbox(dataset=DATA))
    by_date = api.get("/rest/v1/leads.json", filterType="createdAt", filterValues="2025-01-01")
    assert by_date["errors"][0]["code"] == "1011"
    too_many = api.get(
        "/rest/v1/leads.json", filterType="id", filterValues=",".join(str(i) for i in range(1, 302))
    )
    assert too_many["errors"][0]["code"] == "1003"


def test_companies_by_external_id_carry_seq(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    sandbox = marketo_sandbox(dataset=DATA)
    api = marketo_api(sandbox)
    found = api.get(
        "/rest/v1/companies.json",
        filterType="externalCompanyId",
        filterValues="ACCT-000003,ACCT-999999,ACCT-000001",
    )
    assert [(c["seq"], c["id"]) for c in found["result"]] == [(0, 3), (2, 1)]
    assert set(found["result"][0]) == {"seq", "id", "externalCompanyId", "createdAt", "updatedAt"}
    name = str((sandbox.company(9) or {})["company"])
    by_name = api.get(
        "/rest/v1/companies.json",
        filterType="company",
        filterValues=name,
        fields="company,industry",
    )
    assert 9 in [c["id"] for c in by_name["result"]]
    assert all(c["company"] == name for c in by_name["result"])
