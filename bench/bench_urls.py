"""The product's URLconf plus ``/bench/trivial``: the baseline the widget benchmarks compare to.

The trivial view goes through the same middleware and server as the widget API and does nothing:
what it serves per second is the ceiling of this server configuration.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from dynchat.access import public
from dynchat.http import json_response

# Django looks for the error views in the root URLconf only (this module): the product's.
from dynchat.urls import handler400 as handler400
from dynchat.urls import handler403 as handler403
from dynchat.urls import handler404 as handler404
from dynchat.urls import handler500 as handler500


@public
def trivial(request: HttpRequest) -> JsonResponse:
    return json_response({"ok": True})


urlpatterns = [
    path("bench/trivial", trivial, name="bench-trivial"),
    path("", include("dynchat.urls")),
]
