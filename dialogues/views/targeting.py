"""The builder's Targeting tab: pages, audience, trigger, priority (and name, description)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse

from dialogues import services
from dialogues.audience import MAX_CONDITIONS, MAX_GROUPS
from dialogues.forms import OPERATOR_CHOICES, TargetingForm
from dialogues.models import Dialogue
from dialogues.views.common import get_dialogue_for_user
from dynchat.access import team_required
from dynchat.http import AuthedRequest

PAGE = "dialogues/targeting.html"
EMPTY_CONDITION = {"attribute": "lead.email", "operator": "is_not_empty", "value": ""}


def apply_op(groups: list[dict[str, Any]], op: str) -> list[dict[str, Any]]:
    """The audience after one of the form's row buttons."""
    name, _, arguments = op.partition(":")
    numbers = [int(part) for part in arguments.split(":") if part.isdigit()]
    groups = [{**g, "conditions": list(g["conditions"])} for g in groups]
    if name == "add-group" and len(groups) < MAX_GROUPS:
        groups.append({"match": "all", "conditions": [dict(EMPTY_CONDITION)]})
    elif numbers and numbers[0] < len(groups):
        group = groups[numbers[0]]
        if name == "remove-group":
            del groups[numbers[0]]
        elif name == "add-condition" and len(group["conditions"]) < MAX_CONDITIONS:
            group["conditions"].append(dict(EMPTY_CONDITION))
        elif name == "remove-condition" and len(numbers) == 2:
            del group["conditions"][numbers[1] : numbers[1] + 1]
            if not group["conditions"]:
                del groups[numbers[0]]
    return groups


def page(
    request: AuthedRequest, dialogue: Dialogue, form: TargetingForm, fields: services.Fields
) -> HttpResponse:
    context = {
        "dialogue": dialogue,
        "form": form,
        "operators": OPERATOR_CHOICES,
        "targeting_problems": services.targeting_problems(dialogue.targeting, fields),
        "tab": "targeting",
    }
    return render(request, PAGE, context)


@team_required
def targeting(request: AuthedRequest, pk: int) -> HttpResponse | HttpResponseRedirect:
    dialogue = get_dialogue_for_user(request, pk)
    fields = services.known_fields()
    attributes = sorted(fields.for_audience)
    initial = TargetingForm.initial_for(dialogue)
    if request.method != "POST":
        form = TargetingForm(initial=initial, attributes=attributes)
        return page(request, dialogue, form, fields)
    if not request.user.is_marketer:
        return redirect("dialogues:targeting", pk=pk)
    form = TargetingForm(request.POST, initial=initial, attributes=attributes)
    op = request.POST.get("op", "save")
    if op != "save":
        groups = apply_op(form.groups, op)
        return page(request, dialogue, _with_groups(form, groups, initial, attributes), fields)
    if not form.is_valid():
        return page(request, dialogue, form, fields)
    data = form.cleaned_data
    services.save_details(
        dialogue, name=data["name"], description=data["description"], priority=data["priority"]
    )
    services.save_targeting(dialogue, form.targeting())
    messages.success(request, "Targeting saved.")
    return redirect(reverse("dialogues:targeting", args=[pk]))


def _with_groups(
    form: TargetingForm,
    groups: list[dict[str, Any]],
    initial: dict[str, Any],
    attributes: list[str],
) -> TargetingForm:
    """An unbound form showing what was typed, with the audience rows changed."""
    typed = {name: form.data.get(name, initial.get(name)) for name in form.fields}
    return TargetingForm(initial={**typed, "audience": groups}, attributes=attributes)
