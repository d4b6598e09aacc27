"""The Configuration pages: the sites, and each site's snippet, appearance, behaviour, origins."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from dynchat.access import marketer_required
from dynchat.http import AuthedRequest
from dynchat.models import Site
from widget.appearance import AA_NORMAL_TEXT, CONTRAST_PAIRS, ICONS, Appearance
from widget.forms import AppearanceForm, AvatarForm, SiteForm
from widget.services import save_configuration


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
def site_detail(request: AuthedRequest, pk: int) -> HttpResponse | HttpResponseRedirect:
    """The site's Configuration page; a POST saves its settings and appearance at once."""
    site = get_object_or_404(Site, pk=pk)
    data = request.POST if request.method == "POST" else None
    site_form = SiteForm(data, instance=site)
    appearance_form = AppearanceForm(
        data, initial=AppearanceForm.initial_for(Appearance.from_json(site.appearance))
    )
    if data is not None and all([site_form.is_valid(), appearance_form.is_valid()]):
        appearance = appearance_form.appearance()
        save_configuration(site=site_form.save(commit=False), appearance=appearance)
        messages.success(request, "Configuration saved.")
        if appearance.contrast_warnings():
            messages.warning(request, "Some text is hard to read: see the contrast warning.")
        return redirect("widget:site-detail", pk=site.pk)
    return render_configuration(request, site, site_form=site_form, appearance_form=appearance_form)


def render_configuration(
    request: AuthedRequest,
    site: Site,
    *,
    site_form: SiteForm | None = None,
    appearance_form: AppearanceForm | None = None,
    avatar_form: AvatarForm | None = None,
) -> HttpResponse:
    """The Configuration page, with the forms as submitted where one was."""
    stored = Appearance.from_json(site.appearance)
    if appearance_form is None:
        appearance_form = AppearanceForm(initial=AppearanceForm.initial_for(stored))
    shown = _appearance_shown(appearance_form, stored)
    avatar_url = reverse("widget:avatar", args=[stored.avatar]) if stored.avatar else None
    context: dict[str, Any] = {
        "site": site,
        "site_form": SiteForm(instance=site) if site_form is None else site_form,
        "appearance_form": appearance_form,
        "avatar_form": AvatarForm() if avatar_form is None else avatar_form,
        "avatar_url": avatar_url,
        "contrast_warnings": shown.contrast_warnings(),
        "frame_url": reverse("widget:frame") + "?" + urlencode({"site": site.key, "preview": "1"}),
        "preview": {
            "appearance": shown.public(avatar_url),
            "icons": {key: path for key, (_, path) in ICONS.items()},
            "aa": AA_NORMAL_TEXT,
            "pairs": CONTRAST_PAIRS,
        },
    }
    return render(request, "widget/site_detail.html", context)


def _appearance_shown(form: AppearanceForm, stored: Appearance) -> Appearance:
    """The appearance the page shows: as submitted where valid, else as stored."""
    if not form.is_bound:
        return stored
    valid = dict(form.cleaned_data)
    if "delay" in valid:
        valid["delay_ms"] = int(valid.pop("delay") * 1000)
    return Appearance.from_json({**stored.to_json(), **valid})


@marketer_required
def site_edit(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    """The old edit page: name and origins are now part of the Configuration page."""
    site = get_object_or_404(Site, pk=pk)
    return redirect(reverse("widget:site-detail", args=[site.pk]) + "#origins")


@marketer_required
@require_POST
def site_chat_enabled(request: AuthedRequest, pk: int) -> HttpResponse | HttpResponseRedirect:
    site = get_object_or_404(Site, pk=pk)
    site.set_chat_enabled(request.POST.get("chat_enabled") == "on")
    if request.htmx:
        return render(request, "widget/site_detail.html#chat-switch", {"site": site})
    return redirect("widget:site-detail", pk=site.pk)
