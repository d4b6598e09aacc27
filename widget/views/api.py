"""The public widget API (JSON, CORS per site). It authenticates by site key, never by cookie."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from dialogues import decision, live, visitors
from dialogues.models import DialogueVersion
from dialogues.tokens import render
from dynchat.access import public
from dynchat.http import json_error, json_response
from dynchat.origins import origin_of
from dynchat.ratelimit import ratelimit
from widget.appearance import public_appearance
from widget.cors import allow_origin
from widget.forms import DecideForm, VersionForm

IMMUTABLE = "public, max-age=31536000, immutable"
# The public appearance of each site, computed once per copy of the site this process loads.
_appearances: dict[str, tuple[object, dict[str, Any]]] = {}


def _appearance(site: live.LiveSite) -> dict[str, Any]:
    kept = _appearances.get(site.key)
    if kept is None or kept[0] is not site.appearance:
        if len(_appearances) >= live.LOCAL_MAX:
            _appearances.clear()
        kept = (site.appearance, public_appearance(site.appearance, settings.SITE_URL))
        _appearances[site.key] = kept
    return kept[1]


@public
@require_safe
@ratelimit("widget-decide")
def decide(request: HttpRequest) -> JsonResponse:
    """What the loader should show on this page: the dialogue, its version and trigger, or none.

    An anonymous visitor's page view reads only the cache; a returning or known one adds their
    cached snapshot (dialogues.visitors).
    """
    form = DecideForm(request.GET)
    if not form.is_valid():
        return json_error(
            400, "invalid_request", "Check the parameters.", fields=form.errors.get_json_data()
        )
    site = live.live_site(form.cleaned_data["site"])
    if site is None:
        return json_error(404, "site_not_found", "No site has this key.")
    url = form.cleaned_data["url"]
    origin = request.headers.get("Origin") or origin_of(url)
    if origin is None or not site.allows(origin):
        return json_error(
            403, "origin_not_allowed", "This site does not allow chat on this origin."
        )
    visitor = visitors.snapshot(
        site.site_id, form.cleaned_data["visitor"], form.cleaned_data["mkto"]
    )
    chosen = decision.decide(
        chat_enabled=site.chat_enabled,
        candidates=site.candidates,
        url=url,
        state=visitor.state,
        facts=visitor.facts,
    )
    dialogue = None
    if chosen.outcome != "none":
        dialogue = {
            "id": chosen.dialogue_id,
            "name": chosen.name,
            "version": chosen.version_id,
            "trigger": {"kind": chosen.trigger.kind, "amount": chosen.trigger.amount},
            "poke": render(chosen.poke, visitor.facts) if chosen.poke else None,
            "conversation": chosen.conversation_id is not None,
        }
    response = json_response(
        {
            "site": site.key,
            "enabled": site.chat_enabled,
            "outcome": chosen.outcome,
            "dialogue": dialogue,
            "consent": site.require_consent,
            "appearance": _appearance(site),
        }
    )
    response["Cache-Control"] = "no-store"
    allow_origin(response, request.headers.get("Origin"))
    return response


@public
@require_safe
@ratelimit("widget-version")
def version(request: HttpRequest, version_id: int) -> JsonResponse:
    """A published version's flow: immutable, so browsers and proxies may keep it forever."""
    form = VersionForm(request.GET)
    if not form.is_valid():
        return json_error(
            400, "invalid_request", "Check the parameters.", fields=form.errors.get_json_data()
        )
    found = (
        DialogueVersion.objects.filter(pk=version_id, dialogue__site__key=form.cleaned_data["site"])
        .values("pk", "dialogue_id", "number", "flow")
        .first()
    )
    if found is None:
        return json_error(404, "version_not_found", "This site has no such dialogue version.")
    response = json_response(
        {
            "id": found["pk"],
            "dialogue": found["dialogue_id"],
            "number": found["number"],
            "flow": found["flow"],
        }
    )
    response["Cache-Control"] = IMMUTABLE
    return response
