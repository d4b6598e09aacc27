"""The admin shell: the landing redirect, the live worker status in the sidebar and failed tasks."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dynchat.access import marketer_required, team_required
from dynchat.http import AuthedRequest
from dynchat.models import DeadLetter, WorkerHeartbeat
from dynchat.reliable import discard_dead_letter, retry_dead_letter

FAILED_TASKS_PER_PAGE = 25


@team_required
def home(request: AuthedRequest) -> HttpResponseRedirect:
    return redirect("dialogues:list" if request.user.is_marketer else "calendars:calendar")


@team_required
def worker_status(request: AuthedRequest) -> HttpResponse:
    heartbeat = WorkerHeartbeat.objects.latest_seen()
    # Only marketers may open the failed tasks, so only they are told about them.
    failed = DeadLetter.objects.unresolved().count() if request.user.is_marketer else 0
    return render(
        request, "base.html#worker-status", {"heartbeat": heartbeat, "failed_tasks": failed}
    )


@marketer_required
def failed_tasks(request: AuthedRequest) -> HttpResponse:
    paginator = Paginator(DeadLetter.objects.unresolved(), FAILED_TASKS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "dynchat/failed_tasks.html", {"page": page})


@marketer_required
@require_POST
def failed_task_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        letter = retry_dead_letter(pk)
    except DeadLetter.DoesNotExist:
        raise Http404("No such failed task, or it was already handled.") from None
    return resolved(request, letter, f"{letter.task_name} was sent to the workers again.")


@marketer_required
@require_POST
def failed_task_discard(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        letter = discard_dead_letter(pk)
    except DeadLetter.DoesNotExist:
        raise Http404("No such failed task, or it was already handled.") from None
    return resolved(request, letter, f"{letter.task_name} was discarded.")


def resolved(request: AuthedRequest, letter: DeadLetter, message: str) -> HttpResponse:
    """The row, now resolved, for htmx; otherwise back to the list with a message."""
    if request.htmx:
        return render(request, "dynchat/failed_tasks.html#failed-task", {"letter": letter})
    messages.success(request, message)
    return redirect("dynchat:failed-tasks")
