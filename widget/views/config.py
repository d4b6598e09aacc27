"""The Configuration pages: sites, their keys, allowed origins and install snippets."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dynchat.access import marketer_required
from dynchat.http import AuthedRequest
from dynchat.models import Site
from widget.forms import SiteForm


@marketer_required
def site_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "widget/sites.html", {"sites": Site.objects.all()})


@marketer_required
def site_create(request: AuthedRequest) -> HttpResponse | HttpResponseRedirect:
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        site = form.save()
        messages.success(request, f"Site “{site.name}” created. Copy its snippet into your pages.")
        return redirect("widget:site-detail", pk=site.pk)
    return render(request, "widget/site_form.html", {"form": form})


@marketer_required
def site_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    site = get_object_or_404(Site, pk=pk)
    return render(request, "widget/site_detail.html", {"site": site})


@marketer_required
def site_edit(request: AuthedRequest, pk: int) -> HttpResponse | HttpResponseRedirect:
    site = get_object_or_404(Site, pk=pk)
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Site saved.")
        return redirect("widget:site-detail", pk=site.pk)
    return render(request, "widget/site_form.html", {"form": form, "site": site})


@marketer_required
@require_POST
def site_chat_enabled(request: AuthedRequest, pk: int) -> HttpResponse | HttpResponseRedirect:
    site = get_object_or_404(Site, pk=pk)
    site.set_chat_enabled(request.POST.get("chat_enabled") == "on")
    if request.htmx:
        return render(request, "widget/site_detail.html#chat-switch", {"site": site})
    return redirect("widget:site-detail", pk=site.pk)
