"""Cross-cutting request handling: body limits, the viewer's time zone, private pages."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from dynchat.http import JSON_CONTENT_TYPE, is_api_request, json_error, standard_json_error

Handler = Callable[[HttpRequest], HttpResponseBase]

KEPT_HEADERS = ("Allow", "Retry-After", "Vary", "Access-Control-Allow-Origin")


def api_errors(get_response: Handler) -> Handler:
    """Every error under /api/ is JSON in the one error shape, whoever produced it."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        if (
            is_api_request(request)
            and response.status_code >= 400
            and response.get("Content-Type") != JSON_CONTENT_TYPE
        ):
            replacement = standard_json_error(response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    return middleware


def request_body_limit(get_response: Handler) -> Handler:
    """Refuse widget API bodies over WIDGET_MAX_BODY_BYTES with 413, before anything reads them."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if is_api_request(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return json_error(400, "invalid_content_length", "Content-Length is not a number.")
            if length > settings.WIDGET_MAX_BODY_BYTES:
                return json_error(
                    413,
                    "payload_too_large",
                    f"Request bodies are limited to {settings.WIDGET_MAX_BODY_BYTES} bytes.",
                    limit=settings.WIDGET_MAX_BODY_BYTES,
                )
        return get_response(request)

    return middleware


def user_time_zone(get_response: Handler) -> Handler:
    """Show times in the signed-in user's own time zone."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if is_api_request(request):
            return get_response(request)
        zone = getattr(request.user, "time_zone", None)
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return get_response(request)

    return middleware


def private_pages(get_response: Handler) -> Handler:
    """Admin pages show personal data: no browser or proxy may store them (ASVS 14.3.2)."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response

    return middleware
