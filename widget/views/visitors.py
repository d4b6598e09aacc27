"""What the loader tells Dynchat about the visitor: consent withdrawn, a verified identity."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dialogues.identity import identify_signed, withdraw_visitor
from dynchat.access import public
from dynchat.http import json_response
from dynchat.ratelimit import ratelimit
from widget.payloads import identify_problems, withdraw_problems
from widget.views.shared import body_rate_key, body_site_key, cors, site_request


@public
@csrf_exempt
@cors(body_site_key, "POST")
@require_POST
@ratelimit("widget-conversation", key=body_rate_key)
def withdraw(request: HttpRequest) -> HttpResponse:
    """The visitor withdrew consent: their tokens end now (204 whether or not they were known)."""
    found = site_request(request, withdraw_problems)
    if isinstance(found, JsonResponse):
        return found
    body, site = found
    withdraw_visitor(site_id=site.site_id, visitor_key=body["visitor"])
    return HttpResponse(status=204)


@public
@csrf_exempt
@cors(body_site_key, "POST")
@require_POST
@ratelimit("widget-conversation", key=body_rate_key)
def identify(request: HttpRequest) -> JsonResponse:
    """Dynchat('identify', …): with a valid signature (sites that verify identity), the visitor
    becomes the person the e-mail names; otherwise nothing changes (``identified`` false)."""
    found = site_request(request, identify_problems)
    if isinstance(found, JsonResponse):
        return found
    body, site = found
    identified = site.verify_identity and identify_signed(
        site_id=site.site_id,
        secret=site.identity_secret,
        visitor_key=body["visitor"],
        email=body["email"],
        ts=body["ts"],
        digest=body.get("hash", ""),
    )
    return json_response({"identified": identified})
