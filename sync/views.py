from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from dynchat.access import marketer_required
from dynchat.http import AuthedRequest


@marketer_required
def overview(request: AuthedRequest) -> HttpResponse:
    return render(request, "sync/overview.html")
