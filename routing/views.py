"""The Routing page: the queue in order, who is next, pause, reorder, weights and the policy."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dynchat.access import marketer_required
from dynchat.http import AuthedRequest
from dynchat.models import Role, User
from routing import queue as rotation_queue
from routing.forms import MoveForm, PauseForm, PolicyForm, WeightForm
from routing.models import Rotation, RotationMember

PAGE = "routing/queue.html"


def page_context(**extra: Any) -> dict[str, Any]:
    rows = rotation_queue.rows()
    listed = {row.member.agent_id for row in rows}
    current = Rotation.current()
    return {
        "rows": rows,
        "in_turn": sum(1 for row in rows if row.turn is not None),
        "without_calendar": User.objects.filter(role=Role.AGENT, is_active=True)
        .exclude(pk__in=listed)
        .order_by("name", "email"),
        "policy_form": PolicyForm(
            initial={
                "count_cancellations": current.count_cancellations,
                "agent_lead_field": current.agent_lead_field,
            }
        ),
        **extra,
    }


def respond(request: AuthedRequest, *, notice: str = "", error: str = "") -> HttpResponse:
    """The queue fragment (htmx), or back to the page with the notice as a message."""
    if request.htmx:
        return render(request, f"{PAGE}#queue", page_context(notice=notice, error=error))
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect("routing:queue")


def member_or_404(agent_id: int) -> RotationMember:
    member = rotation_queue.members().filter(agent_id=agent_id).first()
    if member is None:
        raise Http404("No such agent in the rotation.")
    return member


def name_of(member: RotationMember) -> str:
    return member.agent.name or member.agent.email


@marketer_required
def queue(request: AuthedRequest) -> HttpResponse:
    return render(request, PAGE, page_context())


@marketer_required
@require_POST
def pause(request: AuthedRequest, agent_id: int) -> HttpResponse:
    member = member_or_404(agent_id)
    form = PauseForm(request.POST)
    form.is_valid()  # a missing or false "paused" means resume
    paused = bool(form.cleaned_data.get("paused"))
    rotation_queue.pause(agent_id, paused)
    return respond(request, notice=f"{name_of(member)} {'paused' if paused else 'back in turn'}.")


@marketer_required
@require_POST
def move(request: AuthedRequest, agent_id: int) -> HttpResponse:
    member = member_or_404(agent_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return respond(request, error="Move up or down.")
    up = form.cleaned_data["direction"] == "up"
    index = [m.agent_id for m in rotation_queue.members()].index(agent_id)
    rotation_queue.move(agent_id, index - 1 if up else index + 1)
    return respond(request, notice=f"{name_of(member)} moved {'up' if up else 'down'}.")


@marketer_required
@require_POST
def weight(request: AuthedRequest, agent_id: int) -> HttpResponse:
    member = member_or_404(agent_id)
    form = WeightForm(request.POST)
    if not form.is_valid():
        return respond(
            request, error=f"Weight: a whole number from 1 to {rotation_queue.MAX_WEIGHT}."
        )
    rotation_queue.set_weight(agent_id, form.cleaned_data["weight"])
    return respond(
        request, notice=f"{name_of(member)} now has weight {form.cleaned_data['weight']}."
    )


@marketer_required
@require_POST
def policy(request: AuthedRequest) -> HttpResponse:
    form = PolicyForm(request.POST)
    if form.is_valid():
        rotation_queue.set_policy(
            form.cleaned_data["count_cancellations"], form.cleaned_data["agent_lead_field"]
        )
        if not request.htmx:
            messages.success(request, "Routing policy saved.")
            return redirect("routing:queue")
        form = PolicyForm(initial=form.cleaned_data)
        return render(request, f"{PAGE}#policy", {"policy_form": form, "saved": True})
    if request.htmx:
        return render(request, f"{PAGE}#policy", {"policy_form": form})
    return render(request, PAGE, page_context(policy_form=form), status=422)
