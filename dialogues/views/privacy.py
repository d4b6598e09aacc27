"""Privacy requests (marketers): export or erase what Dynchat holds about a person; the log."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from dialogues import privacy
from dialogues.models import PrivacyRequest
from dialogues.privacy_forms import PrivacyRequestForm
from dynchat.access import marketer_required
from dynchat.http import AuthedRequest

PER_PAGE = 50


@marketer_required
@require_http_methods(["GET", "POST"])
def privacy_requests(request: AuthedRequest) -> HttpResponse | HttpResponseRedirect:
    form = PrivacyRequestForm(request.POST or None)
    action = request.POST.get("action", "")
    if request.method == "POST" and action in ("export", "erase") and form.is_valid():
        email, visitor = form.cleaned_data["email"], form.cleaned_data["visitor"]
        if action == "export":
            data = privacy.export(
                email=email or None, visitor_key=visitor or None, by=request.user, via="admin"
            )
            return _download(data)
        if form.require_confirmation():
            summary = privacy.erase(
                email=email or None, visitor_key=visitor or None, by=request.user, via="admin"
            )
            messages.success(request, _erased_message(summary))
            return redirect("dialogues:privacy")
    log = PrivacyRequest.objects.select_related("requested_by")
    page = Paginator(log, PER_PAGE).get_page(request.GET.get("page"))
    response = render(request, "dialogues/privacy.html", {"form": form, "page": page})
    response["Cache-Control"] = "no-store"
    return response


def _download(data: dict[str, object]) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="privacy-export-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


def _erased_message(summary: dict[str, int]) -> str:
    if not any(count for name, count in summary.items() if name != "tombstones"):
        return "Nothing held about this person was found; the request is logged."
    return (
        f"Erased {summary['visitors']} visitor(s), {summary['conversations']} conversation(s) "
        f"with {summary['events']} event(s), {summary['leads']} Marketo lead copy(ies); "
        f"{summary['meetings_anonymised']} meeting(s) anonymised, "
        f"{summary['outbox_cancelled']} queued Marketo update(s) cancelled."
    )
