"""The dialogues list per site, creating a dialogue, site alerts."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dialogues import library, services
from dialogues.forms import CreateDialogueForm
from dialogues.models import Dialogue, SiteAlert
from dynchat.access import marketer_required, team_required
from dynchat.http import AuthedRequest
from dynchat.models import Site


def _chosen_site(request: AuthedRequest, sites: list[Site]) -> Site | None:
    wanted = request.GET.get("site", "")
    return next((s for s in sites if str(s.pk) == wanted), sites[0] if sites else None)


@team_required
def dialogue_list(request: AuthedRequest) -> HttpResponse:
    sites = list(Site.objects.all())
    site = _chosen_site(request, sites)
    dialogues = (
        list(
            Dialogue.objects.of_site(site)
            .select_related("live_version")
            .order_by("priority", "name")
        )
        if site
        else []
    )
    alerts = SiteAlert.objects.filter(site=site, resolved_at=None) if site else []
    context = {
        "sites": sites,
        "site": site,
        "dialogues": dialogues,
        "alerts": alerts,
    }
    return render(request, "dialogues/list.html", context)


@marketer_required
def dialogue_create(request: AuthedRequest) -> HttpResponse | HttpResponseRedirect:
    initial = {"site": request.GET.get("site") or None}
    form = CreateDialogueForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        site: Site = data["site"]
        flow, targeting = library.starting_point(data["template"], site.allowed_origins)
        dialogue = services.create_dialogue(
            site=site,
            name=data["name"],
            description=data["description"],
            priority=data["priority"],
            flow=flow,
            targeting=targeting,
            user=request.user,
        )
        messages.success(request, f"Dialogue “{dialogue.name}” created.")
        return redirect("dialogues:builder", pk=dialogue.pk)
    return render(request, "dialogues/create.html", {"form": form, "templates": library.TEMPLATES})


@marketer_required
@require_POST
def alert_dismiss(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    alert = get_object_or_404(SiteAlert, pk=pk)
    alert.resolve()
    return redirect(f"{reverse('dialogues:list')}?site={alert.site_id}")
