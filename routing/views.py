from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from dynchat.access import marketer_required
from dynchat.http import AuthedRequest
from dynchat.models import Role, User


@marketer_required
def queue(request: AuthedRequest) -> HttpResponse:
    agents = User.objects.filter(role=Role.AGENT, is_active=True).order_by("name", "email")
    return render(request, "routing/queue.html", {"agents": agents})
