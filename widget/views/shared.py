"""What every public widget endpoint shares: the JSON body read once, CORS for the site's own
origins (and their preflights), the site key a body names, the site a request may speak for, and
the 400/415 answers."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import patch_vary_headers

from dialogues import live
from dynchat.access import View
from dynchat.http import client_ip, json_error
from dynchat.models import Site
from dynchat.origins import origin_of
from widget.cors import allow_origin
from widget.payloads import SITE_KEY as SITE_KEY_PATTERN
from widget.payloads import InvalidJson, parse_json

PREFLIGHT_MAX_AGE = "600"
_SITE_KEY = re.compile(SITE_KEY_PATTERN)
BODY = "dynchat_widget_body"


def body_of(request: HttpRequest) -> Any:
    """The JSON body, parsed once per request (or the InvalidJson error it raised)."""
    if not hasattr(request, BODY):
        try:
            setattr(request, BODY, parse_json(request.body))
        except InvalidJson as error:
            setattr(request, BODY, error)
    return getattr(request, BODY)


def body_site_key(request: HttpRequest) -> str:
    """The site key the start names, if it looks like one (it is not validated yet)."""
    body = body_of(request) if request.method == "POST" else None
    key = body.get("site") if isinstance(body, dict) else None
    return key if isinstance(key, str) and _SITE_KEY.fullmatch(key) else ""


def body_rate_key(request: HttpRequest) -> str:
    return f"{client_ip(request)}|{body_site_key(request)}"


def site_allows(site_key: str, origin: str) -> bool:
    site = live.live_site(site_key) if site_key else None
    return site is not None and site.allows(origin)


def cors(site_key_of: Callable[[HttpRequest], str], methods: str) -> Callable[[View], View]:
    """Answer preflights and let the site's own origins read the answers; nobody else.

    A preflight of a start carries no body, so no site key: an origin some site allows passes it,
    and the start itself then checks the origin against the named site.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            origin = request.headers.get("Origin")
            if request.method == "OPTIONS":
                return _preflight(request, origin, site_key_of, methods)
            response = view(request, *args, **kwargs)
            response["Cache-Control"] = "no-store"
            if origin and site_allows(site_key_of(request), origin):
                allow_origin(response, origin)
            else:
                patch_vary_headers(response, ["Origin"])
            return response

        return wrapper  # type: ignore[return-value]

    return decorator


def _preflight(
    request: HttpRequest,
    origin: str | None,
    site_key_of: Callable[[HttpRequest], str],
    methods: str,
) -> HttpResponseBase:
    site_key = site_key_of(request)
    if site_key:
        allowed = bool(origin) and site_allows(site_key, str(origin))
    else:
        allowed = bool(origin) and Site.objects.filter(allowed_origins__contains=[origin]).exists()
    if not allowed:
        refusal = json_error(403, "origin_not_allowed", "This origin may not use the widget API.")
        patch_vary_headers(refusal, ["Origin"])
        return refusal
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    allow_origin(response, origin)
    return response


def json_body(request: HttpRequest) -> Any:
    """The parsed JSON body, or the 415/400 answer for a body that is not JSON."""
    if request.content_type != "application/json":
        return json_error(415, "unsupported_media_type", "Send JSON (application/json).")
    body = body_of(request)
    if isinstance(body, InvalidJson):
        return json_error(400, body.code, str(body))
    return body


def invalid(problems: dict[str, Any]) -> JsonResponse:
    return json_error(400, "invalid_request", "Check the request.", fields=problems)


Problems = Callable[[Any], dict[str, Any]]


def site_request(
    request: HttpRequest, problems_of: Problems, *, for_page: bool = False
) -> tuple[dict[str, Any], live.LiveSite] | JsonResponse:
    """The valid JSON body of a request naming a site (``site``), and that site, when the request
    comes from one of the site's origins; else the error answer (400/404/403/415).

    ``for_page``: the chat frame, on Dynchat's own origin, may speak for the page that embeds it
    (the body's ``url``): only the site's origins may embed it (frame-ancestors), and a frame
    loaded alone starts nothing.
    """
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    if problems := problems_of(body):
        return invalid(problems)
    site = live.live_site(body["site"])
    if site is None:
        return json_error(404, "site_not_found", "No site has this key.")
    origin = request.headers.get("Origin")
    own = request.build_absolute_uri("/").rstrip("/")
    if for_page and (origin is None or origin == own):
        origin = origin_of(body["url"])
    if origin is None or not site.allows(origin):
        return json_error(403, "origin_not_allowed", "This site does not allow chat here.")
    return body, site
