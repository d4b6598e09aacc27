"""The builder's Conversations tab, one conversation's transcript, and a lead's conversations."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from dialogues import transcripts
from dialogues.views.common import get_dialogue_for_user
from dynchat.access import marketer_required, team_required
from dynchat.http import AuthedRequest
from sync.models import MarketoLead


@team_required
def conversation_list(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    rows = transcripts.of_dialogue(dialogue)
    page = Paginator(rows, transcripts.PER_PAGE).get_page(request.GET.get("page"))
    context = {"dialogue": dialogue, "page": page, "tab": "conversations"}
    return render(request, "dialogues/conversations.html", context)


@team_required
def transcript(request: AuthedRequest, pk: int, conversation_id: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    found = transcripts.transcript_of(dialogue, conversation_id)
    if found is None:
        raise Http404("This dialogue has no such conversation.")
    context = {"dialogue": dialogue, "transcript": found, "tab": "conversations"}
    return render(request, "dialogues/transcript.html", context)


@marketer_required
def lead_conversations(request: AuthedRequest, lead_id: int) -> HttpResponse:
    """Marketer-only like the lead pages it hangs off."""
    lead = get_object_or_404(MarketoLead, pk=lead_id)
    rows = transcripts.of_lead(lead)
    page = Paginator(rows, transcripts.PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "dialogues/conversations_lead.html", {"lead": lead, "page": page})
