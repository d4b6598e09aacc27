"""CORS for the widget API: only the site's own origins, never a wildcard, never credentials."""

from __future__ import annotations

from django.http import HttpResponseBase
from django.utils.cache import patch_vary_headers


def allow_origin(response: HttpResponseBase, origin: str | None) -> HttpResponseBase:
    """Let the page on ``origin`` (already checked against the site) read ``response``."""
    patch_vary_headers(response, ["Origin"])
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    return response
