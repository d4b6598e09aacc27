"""The chat frame: the document the loader's iframe shows (widget/README.md, "Chat frame").

Only the site's own origins may embed it (``frame-ancestors``); it runs nothing of its own accord:
the loader's ``start`` message, from the ``host`` the URL names, starts or resumes a conversation.
A signed-in marketer may ask for ``preview=1``: the Configuration page's sample chat, which makes
no API call and restyles itself on ``appearance`` messages from that page.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.csp import CSP, build_policy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from dialogues import live
from dynchat.access import public
from dynchat.models import Role
from dynchat.ratelimit import ratelimit
from widget.appearance import public_appearance
from widget.payloads import SITE_KEY

# Long enough to spare a visitor browsing several pages the round trip; short enough that a change
# of the site's origins or appearance shows within minutes. Revalidated by ETag.
CACHE_CONTROL = "private, max-age=300"
# An origin as it may stand in a CSP source list (normalize_origin produced it; this re-checks).
_CSP_ORIGIN = re.compile(r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?\Z")


class FrameForm(forms.Form):
    site = forms.RegexField(SITE_KEY.replace("$", r"\Z"), strip=False)
    host = forms.CharField(required=False, max_length=255, strip=False)
    preview = forms.BooleanField(required=False)


def document_policy(ancestors: Iterable[str]) -> str:
    """The frame's Content-Security-Policy: its own scripts, styles and API only, embeddable by
    ``ancestors`` (CSP source expressions) and nobody else."""
    return build_policy(
        {
            "default-src": [CSP.NONE],
            "script-src": [CSP.SELF],
            "style-src": [CSP.SELF],
            "img-src": [CSP.SELF, "data:"],
            "connect-src": [CSP.SELF],
            "font-src": [CSP.SELF],
            "frame-ancestors": list(ancestors) or [CSP.NONE],
            "base-uri": [CSP.NONE],
            "object-src": [CSP.NONE],
            "form-action": [CSP.NONE],
        }
    )


def document_config(
    *, site_key: str, host: str | None, appearance: object, preview: bool
) -> dict[str, Any]:
    """The frame's settings, read by frame.js from the ``dynchat-config`` data island."""
    return {
        "site": site_key,
        "host": host,  # None: the frame starts nothing (a host the site does not allow, a preview)
        "api": reverse("widget:conversations").rsplit("/", 1)[0],
        "appearance": public_appearance(appearance, settings.SITE_URL),
        "preview": preview,
    }


def _previewing(request: HttpRequest) -> bool:
    return getattr(request.user, "role", None) == Role.MARKETER and request.user.is_active


def _headed(
    request: HttpRequest, response: HttpResponse, ancestors: list[str], preview: bool
) -> HttpResponseBase:
    """The frame's own policy (replacing the admin's), no Referer, caching, ETag."""
    response["Content-Security-Policy"] = document_policy(ancestors)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store" if preview else CACHE_CONTROL
    policy = response["Content-Security-Policy"].encode()
    etag = '"' + hashlib.sha256(response.content + policy).hexdigest()[:32] + '"'
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response) or response


@public
@require_safe
@xframe_options_exempt
@ratelimit("widget-document")
def frame(request: HttpRequest) -> HttpResponseBase:
    """The chat frame's document for the site in ``?site=`` embedded on ``?host=``."""
    form = FrameForm(request.GET)
    form.is_valid()  # a bad host or preview only makes the frame inert; a bad site is a 404
    key = form.cleaned_data.get("site")
    site = live.live_site(key) if key else None
    if site is None:
        raise Http404("No site has this key.")
    preview = bool(form.cleaned_data.get("preview")) and _previewing(request)
    host = form.cleaned_data.get("host", "")
    config = document_config(
        site_key=site.key,
        host=host if not preview and site.allows(host) else None,
        appearance=site.appearance,
        preview=preview,
    )
    response = render(request, "widget/frame.html", {"config": config})
    origins = sorted(filter(_CSP_ORIGIN.match, site.allowed_origins))
    return _headed(request, response, [str(CSP.SELF)] if preview else origins, preview)
