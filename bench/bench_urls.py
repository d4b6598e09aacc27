"""The product's URLconf plus ``/bench/trivial``: the baseline the widget benchmarks compare to.

The trivial view goes through the same middleware and server as the widget API and does nothing:
what it serves per second is the ceiling of this server configuration.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from dynchat.access import public
from dynchat.http import json_response


@public
def trivial(request: HttpRequest) -> JsonResponse:
    return json_response({"ok": True})


urlpatterns = [
    path("bench/trivial", trivial, name="bench-trivial"),
    path("", include("dynchat.urls")),
]

handler400 = "dynchat.views.errors.bad_request"
handler403 = "dynchat.views.errors.permission_denied"
handler404 = "dynchat.views.errors.page_not_found"
handler500 = "dynchat.views.errors.server_error"
