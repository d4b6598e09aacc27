"""Checking a benchmark's result against Marketo (the sandbox), and the database floor."""

from __future__ import annotations

import csv
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from marketo_common import MIB, SPOT_CHECK, SandboxApi
from psycopg import sql

if TYPE_CHECKING:
    from sync.models import SyncRun


@dataclass
class Check:
    what: str
    checked: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checked > 0 and not self.mismatches

    def compare(self, key: object, name: str, mirrored: object, truth: object) -> None:
        if mirrored != truth:
            self.mismatches.append(f"{self.what} {key} {name}: mirror {mirrored!r} != {truth!r}")

    def __str__(self) -> str:
        if self.ok:
            return f"{self.checked} {self.what} equal field by field"
        return f"{self.checked} {self.what} checked, {len(self.mismatches)} differences"


def check_leads(
    api: SandboxApi, run: SyncRun, ids: Sequence[int], *, skip: Sequence[str] = ()
) -> Check:
    """Every synced field of ``ids`` (≤ 300), but ``skip``, in the mirror against Marketo's."""
    from sync.fields import cookie_tokens, parse_time, typed
    from sync.models import AttributeObject, MarketoLead, SyncedAttribute

    check = Check("leads")
    envelope = api.get(
        "/rest/v1/leads.json",
        filterType="id",
        filterValues=",".join(map(str, ids)),
        fields=",".join(run.lead_fields),
    )
    types = SyncedAttribute.objects.types(AttributeObject.PERSON)
    mirror = MarketoLead.objects.in_bulk(list(ids))
    for truth in envelope.get("result", []):
        lead = mirror.get(int(truth["id"]))
        check.checked += 1
        if lead is None:
            check.mismatches.append(f"lead {truth['id']} is missing")
            continue
        text = {
            "email": lead.email,
            "firstName": lead.first_name,
            "lastName": lead.last_name,
            "company": lead.company_name,
            "externalCompanyId": lead.external_company_id,
        }
        for name, value in text.items():
            check.compare(lead.id, name, value, str(truth.get(name) or ""))
        check.compare(lead.id, "cookies", lead.cookies, cookie_tokens(truth.get("cookies")))
        check.compare(lead.id, "leadScore", lead.lead_score, typed(truth.get("leadScore"), "score"))
        check.compare(lead.id, "createdAt", lead.created_at, parse_time(truth.get("createdAt")))
        if "updatedAt" not in skip:
            updated = parse_time(truth.get("updatedAt"))
            check.compare(lead.id, "updatedAt", lead.updated_at, updated)
        for name, data_type in types.items():
            check.compare(
                lead.id, name, lead.attributes.get(name), typed(truth.get(name), data_type)
            )
    if check.checked != len(ids):
        check.mismatches.append(f"Marketo answered {check.checked} of {len(ids)} leads")
    return check


def check_companies(api: SandboxApi, run: SyncRun, ids: Sequence[int]) -> Check:
    from sync.fields import parse_time, typed
    from sync.models import AttributeObject, MarketoCompany, SyncedAttribute

    check = Check("companies")
    envelope = api.get(
        "/rest/v1/companies.json",
        filterType="id",
        filterValues=",".join(map(str, ids)),
        fields=",".join(run.company_fields),
    )
    types = SyncedAttribute.objects.types(AttributeObject.COMPANY)
    mirror = MarketoCompany.objects.in_bulk(list(ids))
    for truth in envelope.get("result", []):
        company = mirror.get(int(truth["id"]))
        check.checked += 1
        if company is None:
            check.mismatches.append(f"company {truth['id']} is missing")
            continue
        key = company.id
        check.compare(key, "externalCompanyId", company.external_company_id,
                      truth.get("externalCompanyId"))  # fmt: skip
        check.compare(key, "company", company.name, str(truth.get("company") or ""))
        check.compare(key, "industry", company.industry, str(truth.get("industry") or ""))
        check.compare(key, "billingCountry", company.billing_country,
                      str(truth.get("billingCountry") or ""))  # fmt: skip
        check.compare(key, "numberOfEmployees", company.number_of_employees,
                      typed(truth.get("numberOfEmployees"), "integer"))  # fmt: skip
        revenue = truth.get("annualRevenue")
        cents = None if revenue is None else Decimal(str(revenue)).quantize(Decimal("0.01"))
        check.compare(key, "annualRevenue", company.annual_revenue, cents)
        check.compare(key, "updatedAt", company.updated_at, parse_time(truth.get("updatedAt")))
        for name, data_type in types.items():
            value = typed(truth.get(name), data_type)
            check.compare(key, name, company.attributes.get(name), value)
    if check.checked != len(ids):
        check.mismatches.append(f"Marketo answered {check.checked} of {len(ids)} companies")
    return check


def check_activities(api: SandboxApi, since: datetime) -> Check:
    """One REST page of activities from ``since`` (up to 300) against the mirror's rows."""
    from sync.fields import activity_type_groups, parse_time
    from sync.incremental import activity_row
    from sync.models import MarketoActivity

    check = Check("activities")
    moment = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=moment)["nextPageToken"]
    page = api.get(
        "/rest/v1/activities.json",
        nextPageToken=token,
        batchSize=SPOT_CHECK,
        activityTypeIds=",".join(map(str, activity_type_groups()[0])),
    )
    rows = [activity_row(activity) for activity in page.get("result", [])]
    mirror = MarketoActivity.objects.in_bulk([row["marketoGUID"] for row in rows])
    for row in rows:
        check.checked += 1
        activity = mirror.get(row["marketoGUID"])
        if activity is None:
            check.mismatches.append(f"activity {row['marketoGUID']} is missing")
            continue
        key = activity.marketo_guid
        check.compare(key, "leadId", activity.lead_id, row["leadId"])
        check.compare(key, "activityDate", activity.activity_date, parse_time(row["activityDate"]))
        check.compare(key, "activityTypeId", activity.activity_type_id, row["activityTypeId"])
        check.compare(key, "campaignId", activity.campaign_id, row["campaignId"])
        check.compare(key, "primaryAttributeValueId", activity.primary_attribute_value_id,
                      row["primaryAttributeValueId"])  # fmt: skip
        check.compare(key, "primaryAttributeValue", activity.primary_attribute_value,
                      str(row["primaryAttributeValue"] or ""))  # fmt: skip
        check.compare(key, "attributes", activity.attributes, json.loads(row["attributes"]))
    return check


def id_ranges() -> dict[str, tuple[int, int, int]]:
    """(count, min, max) of the mirror's Marketo ids: 1..N each when nothing was lost."""
    from django.db import connection

    ranges = {}
    with connection.cursor() as cursor:
        for name, table, key in (
            ("leads", "sync_marketolead", "id"),
            ("companies", "sync_marketocompany", "id"),
            ("activities", "sync_marketoactivity", "marketo_guid::bigint"),
        ):
            cursor.execute(f"SELECT count(*), min({key}), max({key}) FROM {table}")  # noqa: S608
            count, low, high = cursor.fetchone()
            ranges[name] = (int(count), int(low or 0), int(high or 0))
    return ranges


def random_ids(count: int, n: int, rng: random.Random) -> list[int]:
    return sorted(rng.sample(range(1, count + 1), min(n, count)))


# The database floor


@dataclass(frozen=True)
class Floor:
    files: int
    bytes: int
    rows: int
    seconds: float


def copy_floor(url: str, files: Sequence[Path]) -> Floor:
    """``COPY`` each file into an unlogged table of text columns: no API, no casts, no upsert."""
    rows = size = 0
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        for index, path in enumerate(files):
            with path.open(encoding="utf-8", newline="") as source:
                header = source.readline()
            columns = len(next(csv.reader([header])))
            table = sql.Identifier(f"bench_floor_{index}")
            connection.execute(
                sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(
                    table,
                    sql.SQL(", ").join(sql.SQL(f"c{i} text") for i in range(columns)),
                )
            )
            copy = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true, NULL 'null')")
            with connection.cursor() as cursor:
                with cursor.copy(copy.format(table)) as writer, path.open("rb") as data:
                    while chunk := data.read(MIB):
                        writer.write(chunk)
                rows += cursor.rowcount
            size += path.stat().st_size
        seconds = time.monotonic() - started
        for index in range(len(files)):
            name = sql.Identifier(f"bench_floor_{index}")
            connection.execute(sql.SQL("DROP TABLE {}").format(name))
    return Floor(len(files), size, rows, seconds)


# Reporting
