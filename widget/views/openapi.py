"""The widget API's OpenAPI document, for integrators and for the API fuzz test (F-1)."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from dynchat.access import public
from dynchat.http import json_response
from dynchat.ratelimit import ratelimit
from widget.openapi import document


@functools.cache
def _document() -> dict[str, Any]:
    return document()


@public
@require_safe
@ratelimit("widget-document")
def openapi(request: HttpRequest) -> JsonResponse:
    response = json_response(_document())
    response["Cache-Control"] = "public, max-age=3600"
    return response
