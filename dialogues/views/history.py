"""The builder's Versions and Test as visitor tabs."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from dialogues import explain
from dialogues.forms import TestVisitorForm
from dialogues.models import DialogueVersion
from dialogues.views.common import flow_lines, get_dialogue_for_user
from dynchat.access import team_required
from dynchat.http import AuthedRequest

VERSIONS_PER_PAGE = 50


@team_required
def versions(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    rows = dialogue.versions.select_related("published_by").order_by("-number")
    page = Paginator(rows, VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"dialogue": dialogue, "page": page, "tab": "versions"}
    return render(request, "dialogues/versions.html", context)


@team_required
def version_detail(request: AuthedRequest, pk: int, number: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    version = get_object_or_404(DialogueVersion, dialogue=dialogue, number=number)
    lines, orphans = flow_lines(version.flow, [])
    context = {
        "dialogue": dialogue,
        "version": version,
        "lines": lines,
        "orphans": orphans,
        "tab": "versions",
    }
    return render(request, "dialogues/version.html", context)


@team_required
def test_visitor(request: AuthedRequest, pk: int) -> HttpResponse:
    """Which dialogue a page and a lead would get now; a GET form, it changes nothing."""
    dialogue = get_dialogue_for_user(request, pk)
    form = TestVisitorForm(request.GET if "url" in request.GET else None)
    result = None
    if form.is_bound and form.is_valid():
        result = explain.test_as_visitor(
            site=dialogue.site, url=form.cleaned_data["url"], lead=form.cleaned_data["lead"]
        )
    context = {"dialogue": dialogue, "form": form, "result": result, "tab": "test"}
    return render(request, "dialogues/test.html", context)
