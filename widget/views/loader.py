"""The loader script that customers' pages include: /widget.js."""

from __future__ import annotations

import functools
import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from dynchat.access import public

BUILT_LOADER = settings.BASE_DIR / "static" / "widget" / "widget.js"
# The snippet in customers' pages names this URL for good, so it cannot carry a content hash:
# browsers and CDNs keep it a day, then revalidate by ETag in the background for up to a week.
CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"


@functools.cache
def built_loader() -> tuple[bytes, str]:
    script = BUILT_LOADER.read_bytes()
    return script, '"' + hashlib.sha256(script).hexdigest()[:32] + '"'


@public
@require_safe
def loader_script(request: HttpRequest) -> HttpResponseBase:
    script, etag = built_loader()
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return get_conditional_response(request, etag=etag, response=response) or response
