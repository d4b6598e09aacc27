"""The Marketo page: connect, pick attributes and start the sync, watch it, manage what syncs.

What the page shows depends on the sync's state: Marketo not configured, no initial sync yet
(the "Initiate sync" form), a run in progress (live progress panels), or synced (the summary,
the synced attributes, the write-back outbox and the recent runs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dynchat.access import marketer_required
from dynchat.http import AuthedRequest
from sync import services
from sync.errors import DailyQuotaReached, FatalMarketoError, MarketoError
from sync.forms import AttributesForm, InitialSyncForm
from sync.models import (
    MAX_ATTRIBUTES,
    OutboxMessage,
    OutboxState,
    RunKind,
    RunState,
    SyncedAttribute,
    SyncRun,
)
from sync.progress import Progress, mirror, progress, totals, with_totals
from sync.services import Attribute, SyncRefused

logger = logging.getLogger("sync")

PAGE = "sync/overview.html"
RUNS_PER_PAGE = 20
OUTBOX_FAILURES = 5


@dataclass(frozen=True)
class Trouble:
    """Why Marketo's fields could not be read, said for the marketer."""

    title: str
    text: str
    until: datetime | None = None


def describe() -> tuple[list[Attribute], Trouble | None]:
    """Marketo's person and company fields, or none and what went wrong."""
    try:
        return services.describe_attributes(), None
    except MarketoError as error:
        logger.warning("Marketo's fields could not be read: %s", error)
        return [], trouble_with(error)


def trouble_with(error: MarketoError) -> Trouble:
    if isinstance(error, FatalMarketoError):
        return Trouble(
            "Marketo refused Dynchat's request",
            f"{error}. Check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (Marketo: Admin → "
            "LaunchPoint → the Dynchat service → View Details) and that the service's API user "
            "may read leads and companies.",
        )
    if isinstance(error, DailyQuotaReached):
        return Trouble(
            "Marketo's daily API quota is used up",
            "Marketo accepts calls again after midnight US Central time.",
            until=error.resume_at,
        )
    return Trouble(
        "Marketo could not be reached",
        f"{error}. Check MARKETO_BASE_URL (Marketo: Admin → Web Services → REST API "
        "endpoint) and try again in a few minutes.",
    )


def active_panels() -> list[Progress]:
    return [progress(run) for run in SyncRun.objects.active().order_by("started_at")]


def setup_context(form: InitialSyncForm | None = None) -> dict[str, Any]:
    latest = SyncRun.objects.latest_initial()
    if latest is not None and latest.state in (RunState.RUNNING, RunState.PAUSED):
        return {"state": "running", "panels": active_panels()}
    trouble = None
    if form is None:
        offered, trouble = describe()
        form = InitialSyncForm(offered=offered)
    failed = [latest] if latest is not None and latest.state == RunState.FAILED else []
    return {"state": "setup", "form": form, "trouble": trouble, "failed_runs": failed}


def synced_context(page: str | None) -> dict[str, Any]:
    runs = Paginator(with_totals(SyncRun.objects.order_by("-started_at")), RUNS_PER_PAGE)
    runs_page = runs.get_page(page)
    latest = [
        SyncRun.objects.filter(kind=kind).order_by("-started_at").first()
        for kind in (RunKind.BACKFILL, RunKind.INCREMENTAL)
    ]
    failures = OutboxMessage.objects.filter(state=OutboxState.FAILED)
    return {
        "state": "synced",
        "panels": active_panels(),
        "mirror": mirror(),
        "failed_runs": [run for run in latest if run is not None and run.state == RunState.FAILED],
        "attributes": SyncedAttribute.objects.all(),
        "max_attributes": MAX_ATTRIBUTES,
        "outbox": OutboxMessage.objects.counts(),
        "outbox_failures": failures.order_by("-id")[:OUTBOX_FAILURES],
        "runs_page": runs_page,
        "run_rows": [(run, totals(run)) for run in runs_page],
    }


@marketer_required
def overview(request: AuthedRequest) -> HttpResponse:
    if not settings.MARKETO_ENABLED:
        return render(request, PAGE, {"state": "unconfigured"})
    if not SyncRun.objects.completed_initial():
        return render(request, PAGE, setup_context())
    return render(request, PAGE, synced_context(request.GET.get("page")))


@marketer_required
@require_POST
def start(request: AuthedRequest) -> HttpResponse | HttpResponseRedirect:
    if not settings.MARKETO_ENABLED:
        return redirect("sync:overview")
    offered, trouble = describe()
    form = InitialSyncForm(request.POST, offered=offered)
    if trouble is None and form.is_valid():
        try:
            run = services.start_initial_sync(
                chosen=form.chosen(),
                offered=offered,
                leads_since=form.leads_since_datetime(),
                activities_since=form.activities_since(),
            )
        except SyncRefused as refused:
            form.add_error(None, str(refused))
        else:
            logger.info("%s started the initial sync (run %s)", request.user, run.pk)
            messages.success(request, "Initial sync started. You can leave this page meanwhile.")
            return redirect("sync:overview")
    context = {**setup_context(form), "trouble": trouble, "again_url": reverse("sync:overview")}
    return render(request, PAGE, context)


@marketer_required
def run_progress(request: AuthedRequest, pk: int) -> HttpResponse:
    """The progress panel of one run; it polls itself for as long as the run is active."""
    run = get_object_or_404(SyncRun, pk=pk)
    return render(request, f"{PAGE}#progress", {"run_progress": progress(run)})


@marketer_required
@require_POST
def retry(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    run = get_object_or_404(SyncRun, pk=pk)
    try:
        services.retry_run(run=run)
    except SyncRefused as refused:
        messages.error(request, str(refused))
    else:
        logger.info("%s retried sync run %s", request.user, run.pk)
        messages.success(request, f"{run.get_kind_display()} goes on from where it stopped.")
    return redirect("sync:overview")


@marketer_required
def attributes_add(request: AuthedRequest) -> HttpResponse | HttpResponseRedirect:
    if not settings.MARKETO_ENABLED or not SyncRun.objects.completed_initial():
        return redirect("sync:overview")
    synced = {(a.object, a.name) for a in SyncedAttribute.objects.all()}
    offered, trouble = describe()
    new = [a for a in offered if (a.object, a.name) not in synced]
    room = MAX_ATTRIBUTES - len(synced)
    data = request.POST if request.method == "POST" else None
    form = AttributesForm(data, offered=new, room=room, require=True)
    if data is not None and trouble is None and form.is_valid():
        try:
            run = services.add_attributes(chosen=form.chosen(), offered=offered)
        except SyncRefused as refused:
            form.add_error(None, str(refused))
        else:
            names = ", ".join(a.display_name for a in form.chosen())
            logger.info("%s added %s (back-fill run %s)", request.user, names, run.pk)
            messages.success(request, f"Now syncing {names}; existing records are back-filled.")
            return redirect("sync:overview")
    context = {"form": form, "trouble": trouble, "synced": len(synced), "room": room}
    context["max_attributes"] = MAX_ATTRIBUTES
    return render(request, "sync/attributes_add.html", context)


@marketer_required
@require_POST
def attribute_remove(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    attribute = get_object_or_404(SyncedAttribute, pk=pk)
    try:
        services.remove_attribute(attribute=attribute)
    except SyncRefused as refused:
        messages.error(request, f"Not removed: {refused}")
    else:
        logger.info("%s stopped syncing %s", request.user, attribute)
        messages.success(request, f"“{attribute.display_name}” is no longer synced.")
    return redirect("sync:overview")
