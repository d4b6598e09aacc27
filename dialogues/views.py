from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from dynchat.access import marketer_required, team_required
from dynchat.http import AuthedRequest
from dynchat.models import Site


@team_required
def dialogue_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "dialogues/list.html", {"has_site": Site.objects.exists()})


@marketer_required
def reports(request: AuthedRequest) -> HttpResponse:
    return render(request, "dialogues/reports.html")
