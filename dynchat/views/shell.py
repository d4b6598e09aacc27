"""The admin shell: the landing redirect and the live worker status in the sidebar."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render

from dynchat.access import team_required
from dynchat.http import AuthedRequest
from dynchat.models import WorkerHeartbeat


@team_required
def home(request: AuthedRequest) -> HttpResponseRedirect:
    return redirect("dialogues:list" if request.user.is_marketer else "calendars:calendar")


@team_required
def worker_status(request: AuthedRequest) -> HttpResponse:
    heartbeat = WorkerHeartbeat.objects.latest_seen()
    return render(request, "base.html#worker-status", {"heartbeat": heartbeat})
