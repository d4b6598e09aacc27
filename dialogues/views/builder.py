"""The builder's Flow tab: the cards, editing them in place, publishing."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from dialogues import editing, services
from dialogues.forms import CARD_FORMS, CardForm
from dialogues.models import Dialogue
from dialogues.views.common import flow_context, get_dialogue_for_user, parse_slot
from dialogues.views.reports import card_reach
from dynchat.access import marketer_required, team_required
from dynchat.http import AuthedRequest

PAGE = "dialogues/builder.html"


def card_form(
    dialogue: Dialogue, card_id: str, fields: services.Fields, data: QueryDict | None = None
) -> CardForm:
    card = dialogue.flow["cards"].get(card_id)
    if card is None or card["type"] not in CARD_FORMS:
        raise Http404("No such card, or nothing to edit on it")
    return CARD_FORMS[card["type"]](
        data, card=card, lead_fields=fields.lead, attributes=fields.for_audience
    )


def respond(
    request: AuthedRequest,
    dialogue: Dialogue,
    *,
    fields: services.Fields | None = None,
    editing_card: str = "",
    form: CardForm | None = None,
    error: str = "",
    notice: str = "",
) -> HttpResponse:
    """The flow panel (htmx), or the page: redirected after a change that went through."""
    fields = fields or services.known_fields()
    context = flow_context(dialogue, fields, editing_card=editing_card, form=form, error=error)
    context["reach"] = card_reach(dialogue)
    if request.htmx:
        return render(request, f"{PAGE}#flow-panel", {**context, "notice": notice})
    if notice:
        messages.success(request, notice)
    if request.method == "POST" and not error and not (form and form.is_bound and form.errors):
        url = reverse("dialogues:builder", args=[dialogue.pk])
        return redirect(f"{url}?edit={editing_card}#card-{editing_card}" if editing_card else url)
    return render(request, PAGE, {**context, "tab": "flow"})


@team_required
@vary_on_headers("HX-Request")
def builder(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    fields = services.known_fields()
    card_id = request.GET.get("edit", "") if request.user.is_marketer else ""
    form = card_form(dialogue, card_id, fields) if card_id in dialogue.flow["cards"] else None
    context = flow_context(dialogue, fields, editing_card=card_id if form else "", form=form)
    return render(request, PAGE, {**context, "tab": "flow", "reach": card_reach(dialogue)})


@marketer_required
def card_edit(request: AuthedRequest, pk: int, card: str) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    if request.method != "POST" and not request.htmx:
        return redirect(f"{reverse('dialogues:builder', args=[pk])}?edit={card}#card-{card}")
    fields = services.known_fields()
    if request.method != "POST":
        form = card_form(dialogue, card, fields)
        return respond(request, dialogue, fields=fields, editing_card=card, form=form)
    op = request.POST.get("op", "save")
    if op == "cancel":
        return respond(request, dialogue, fields=fields)
    form = card_form(dialogue, card, fields, request.POST)
    if not form.is_valid():
        return respond(request, dialogue, fields=fields, editing_card=card, form=form)
    try:
        flow = editing.edit_card(dialogue.flow, card, form.values())
        if op != "save":
            flow = editing.apply(flow, card, op)
    except editing.EditError as error:
        return respond(request, dialogue, fields=fields, editing_card=card, form=form,
                       error=str(error))  # fmt: skip
    services.save_flow(dialogue, flow)
    if op == "save":
        return respond(request, dialogue, fields=fields)
    form = card_form(dialogue, card, fields)
    return respond(request, dialogue, fields=fields, editing_card=card, form=form)


@marketer_required
@require_POST
def card_add(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    card_id = editing.next_id(dialogue.flow)
    try:
        flow = editing.add_card(
            dialogue.flow, request.POST.get("kind", ""), parse_slot(request.POST.get("slot", "")),
            card_id,
        )  # fmt: skip
    except editing.EditError as error:
        return respond(request, dialogue, error=str(error))
    services.save_flow(dialogue, flow)
    if flow["cards"][card_id]["type"] == "end":
        return respond(request, dialogue)
    fields = services.known_fields()
    form = card_form(dialogue, card_id, fields)
    return respond(request, dialogue, fields=fields, editing_card=card_id, form=form)


@marketer_required
@require_POST
def card_delete(request: AuthedRequest, pk: int, card: str) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    try:
        services.save_flow(dialogue, editing.delete_card(dialogue.flow, card))
    except editing.EditError as error:
        return respond(request, dialogue, error=str(error))
    return respond(request, dialogue)


@marketer_required
@require_POST
def card_move(request: AuthedRequest, pk: int, card: str) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    direction = request.POST.get("direction", "")
    try:
        services.save_flow(dialogue, editing.move_card(dialogue.flow, card, direction))
    except editing.EditError as error:
        return respond(request, dialogue, error=str(error))
    return respond(request, dialogue)


@marketer_required
@require_POST
def publish(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    try:
        version = services.publish(dialogue, user=request.user)
    except services.PublishRefused as refused:
        count = len(refused.problems)
        return respond(request, dialogue, error=f"Not published: fix the {count} problem(s) first.")
    dialogue = get_dialogue_for_user(request, pk)  # as publish left it, with its live version
    return respond(request, dialogue, notice=f"Published version {version.number}.")


@marketer_required
@require_POST
def unpublish(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    services.unpublish(dialogue)
    notice = "Unpublished: new visitors no longer get this dialogue."
    return respond(request, dialogue, notice=notice)


@marketer_required
@require_POST
def dialogue_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    site_id = dialogue.site_id
    services.delete_dialogue(dialogue)
    messages.success(request, f"Dialogue “{dialogue.name}” deleted.")
    url = f"{reverse('dialogues:list')}?site={site_id}"
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
