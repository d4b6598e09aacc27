"""The Meetings page: every meeting a viewer may see, filtered, paged, exported; no-show, cancel."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from dynchat.access import team_required
from dynchat.http import AuthedRequest
from meetings import services
from meetings.csv import csv_lines
from meetings.forms import MeetingFilterForm
from meetings.models import Meeting, MeetingQuerySet

MEETINGS_PER_PAGE = 50


def _filtered(request: AuthedRequest) -> tuple[MeetingFilterForm, MeetingQuerySet]:
    form = MeetingFilterForm(request.GET or None, viewer=request.user)
    meetings = form.filter(Meeting.objects.visible_to(request.user))
    return form, meetings.select_related("agent", "dialogue").order_by("-starts_at", "-id")


@team_required
@vary_on_headers("HX-Request")
def meeting_list(request: AuthedRequest) -> HttpResponse:
    form, meetings = _filtered(request)
    page = Paginator(meetings, MEETINGS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query_string": form.query_string(),
        "any_meetings": bool(page.object_list) or Meeting.objects.visible_to(request.user).exists(),
        "now": timezone.now(),
        "zone": timezone.get_current_timezone_name(),
    }
    template = "meetings/list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


@team_required
def meeting_csv(request: AuthedRequest) -> StreamingHttpResponse:
    _, meetings = _filtered(request)
    zone = services.zone_named(request.user.time_zone)
    response = StreamingHttpResponse(
        csv_lines(meetings.iterator(chunk_size=500), zone), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="meetings.csv"'
    return response


def _back(request: AuthedRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False):
        target = reverse("meetings:list")
    return redirect(target or reverse("meetings:list"))


@team_required
@require_POST
def meeting_cancel(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    meeting = services.get_meeting_for_user(request.user, pk)
    try:
        services.cancel(meeting.pk, by=request.user)
    except services.MeetingClosed as closed:
        messages.error(request, closed.message)
    else:
        messages.success(request, f"Cancelled the meeting with {meeting.lead_email}.")
    return _back(request)


@team_required
@require_POST
def meeting_no_show(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    try:
        meeting = services.mark_no_show(pk, request.user)
    except services.MeetingClosed as closed:
        messages.error(request, closed.message)
    else:
        messages.success(request, f"Marked {meeting.lead_email} as a no-show.")
    return _back(request)
