"""The public widget API (JSON, CORS per site). It authenticates by site key, never by cookie."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from dynchat.access import public
from dynchat.http import json_error, json_response
from dynchat.models import Site
from dynchat.origins import origin_of
from dynchat.ratelimit import ratelimit
from widget.cors import allow_origin
from widget.forms import DecideForm


@public
@require_safe
@ratelimit("widget-decide")
def decide(request: HttpRequest) -> JsonResponse:
    """What the loader should show on this page of this site."""
    form = DecideForm(request.GET)
    if not form.is_valid():
        return json_error(
            400, "invalid_request", "Check the parameters.", fields=form.errors.get_json_data()
        )
    try:
        site = Site.objects.get(key=form.cleaned_data["site"])
    except Site.DoesNotExist:
        return json_error(404, "site_not_found", "No site has this key.")
    origin = request.headers.get("Origin") or origin_of(form.cleaned_data["url"])
    if origin is None or not site.allows(origin):
        return json_error(
            403, "origin_not_allowed", "This site does not allow chat on this origin."
        )
    response = json_response({"site": site.key, "enabled": site.chat_enabled, "dialogue": None})
    response["Cache-Control"] = "no-store"
    allow_origin(response, request.headers.get("Origin"))
    return response
