from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from dynchat.access import team_required
from dynchat.http import AuthedRequest


@team_required
def meeting_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "meetings/list.html")
