"""P-6: the sync does not bring back a lead whose e-mail was erased on request."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dialogues.privacy import subject_hash
from sync.fields import ACTIVITY_COLUMNS, LEAD_CORE
from sync.loading import load, load_records, records_csv
from sync.models import ErasedSubject, MarketoActivity, MarketoLead

FIELDS = list(LEAD_CORE)


def lead(number: int, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": number,
        "email": email,
        "firstName": f"First{number}",
        "lastName": f"Last{number}",
        "company": "",
        "externalCompanyId": "",
        "updatedAt": "2026-01-05T10:00:00Z",
        **extra,
    }


@pytest.mark.django_db
def test_a_page_of_leads_leaves_out_the_erased_ones_whatever_their_case_and_spaces() -> None:
    """P-6: an erased e-mail comes back from Marketo in another case, with spaces: not imported;
    the leads around it are."""
    ErasedSubject.objects.create(email_hash=subject_hash("gone@example.com"))

    load_records(
        "leads",
        [lead(1, "kept@example.com"), lead(2, "  Gone@Example.COM "), lead(3, "")],
        FIELDS,
        types={},
    )

    assert set(MarketoLead.objects.values_list("id", flat=True)) == {1, 3}


@pytest.mark.django_db
def test_an_erased_lead_already_mirrored_is_not_updated_again() -> None:
    """P-6: a lead imported before the tombstone (and erased by the request) stays gone, and a
    later change of it from Marketo does not re-create it."""
    load_records("leads", [lead(7, "ann@example.com")], FIELDS, types={})
    MarketoLead.objects.filter(pk=7).delete()
    ErasedSubject.objects.create(email_hash=subject_hash("ann@example.com"))

    load_records(
        "leads", [lead(7, "ann@example.com", updatedAt="2026-02-01T00:00:00Z")], FIELDS, types={}
    )

    assert not MarketoLead.objects.filter(pk=7).exists()


@pytest.mark.django_db
def test_a_bulk_file_skips_erased_leads_with_one_statement_per_batch() -> None:
    """P-6: the check is part of the batch's upsert, not a query per lead."""
    ErasedSubject.objects.bulk_create(
        [ErasedSubject(email_hash=subject_hash(f"erased{n}@example.com")) for n in range(1, 100, 2)]
    )
    rows = [
        lead(n, f"erased{n}@example.com" if n % 2 else f"new{n}@example.com") for n in range(100)
    ]

    with CaptureQueriesContext(connection) as queries:
        load("leads", [records_csv(rows, FIELDS)], FIELDS, types={})

    imported = set(MarketoLead.objects.values_list("email", flat=True))
    assert imported == {f"new{n}@example.com" for n in range(0, 100, 2)}
    upserts = [q for q in queries.captured_queries if "INSERT INTO sync_marketolead" in q["sql"]]
    assert len(upserts) == 1


def activity(guid: str, lead_id: int) -> dict[str, Any]:
    return {
        "marketoGUID": guid,
        "leadId": lead_id,
        "activityDate": "2026-01-05T10:00:00Z",
        "activityTypeId": 100001,
        "primaryAttributeValue": "Pricing questions",
        "attributes": '{"fieldValue": "my private answer"}',
    }


@pytest.mark.django_db
def test_activities_of_an_erased_lead_are_not_imported_again() -> None:
    """P-6: the chat activities Dynchat wrote back to an erased person's lead (their answers in
    the attributes) do not come back with the next activity sync; other leads' do."""
    ErasedSubject.objects.create(email_hash=subject_hash("ann@example.com"), lead_ids=[7])

    load_records(
        "activities", [activity("g-1", 7), activity("g-2", 8)], list(ACTIVITY_COLUMNS), types={}
    )

    assert list(MarketoActivity.objects.values_list("lead_id", flat=True)) == [8]
