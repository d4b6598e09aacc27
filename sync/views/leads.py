"""The mirrored Marketo leads: a searchable list and each lead with its company and activities."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from dynchat.access import marketer_required
from dynchat.http import AuthedRequest
from sync.fields import ACTIVITY_TYPE_NAMES, COMPANY_CORE
from sync.models import (
    AttributeObject,
    MarketoActivity,
    MarketoCompany,
    MarketoLead,
    SyncedAttribute,
)

LEADS_PER_PAGE = 50
LATEST_ACTIVITIES = 25

# Names of the standard activity types Dynchat mirrors (Marketo's activities/types.json).


@marketer_required
def lead_list(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    leads = MarketoLead.objects.search(query).order_by(F("updated_at").desc(nulls_last=True), "id")
    page = Paginator(leads, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "query_string": f"{urlencode({'q': query})}&" if query else "",
        "any_leads": bool(page.object_list) or MarketoLead.objects.exists(),
    }
    return render(request, "sync/leads.html", context)


def attribute_rows(
    object: AttributeObject, values: dict[str, Any], *, besides: Iterable[str] = ()
) -> list[tuple[SyncedAttribute, Any]]:
    """The synced attributes of ``object`` with a record's values (None when empty)."""
    attributes = SyncedAttribute.objects.of(object).exclude(name__in=list(besides))
    return [(attribute, values.get(attribute.name)) for attribute in attributes]


@marketer_required
def lead_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(MarketoLead, pk=pk)
    company = None
    if lead.external_company_id:
        company = MarketoCompany.objects.filter(
            external_company_id=lead.external_company_id
        ).first()
    activities = MarketoActivity.objects.filter(lead_id=lead.id).order_by("-activity_date")
    context = {
        "lead": lead,
        "attributes": attribute_rows(AttributeObject.PERSON, lead.attributes),
        "company": company,
        # The company's core fields are shown with its own columns.
        "company_attributes": attribute_rows(
            AttributeObject.COMPANY, company.attributes, besides=COMPANY_CORE
        )
        if company
        else [],
        "activities": [
            (activity, ACTIVITY_TYPE_NAMES.get(activity.activity_type_id))
            for activity in activities[:LATEST_ACTIVITIES]
        ],
    }
    return render(request, "sync/lead_detail.html", context)
