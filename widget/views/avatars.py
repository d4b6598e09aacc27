"""Bot avatars: the upload and removal on the Configuration page, and the public image URL."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from dynchat.access import marketer_required, public
from dynchat.http import AuthedRequest
from dynchat.models import Site
from dynchat.ratelimit import ratelimit
from widget.forms import AvatarForm, AvatarSizeLimit
from widget.models import Avatar
from widget.services import remove_avatar, save_avatar
from widget.views.config import render_configuration

DIGEST = re.compile(r"[0-9a-f]{64}")
IMMUTABLE = "public, max-age=31536000, immutable"


# The size limit must be in place before the body is parsed, and CSRF checking parses it: so the
# middleware leaves this view alone and the check runs inside, after (Django's documented way).
@csrf_exempt
@marketer_required
@require_POST
def site_avatar(request: AuthedRequest, pk: int) -> HttpResponse | HttpResponseRedirect:
    limit = AvatarSizeLimit(request)
    request.upload_handlers.insert(0, limit)
    return _upload_avatar(request, pk, limit)


@csrf_protect
def _upload_avatar(
    request: AuthedRequest, pk: int, limit: AvatarSizeLimit
) -> HttpResponse | HttpResponseRedirect:
    site = get_object_or_404(Site, pk=pk)
    form = AvatarForm(request.POST, request.FILES, too_large=limit.exceeded)
    if not form.is_valid():
        return render_configuration(request, site, avatar_form=form)
    save_avatar(site=site, image=form.cleaned_data["image"])
    messages.success(request, "Avatar saved.")
    return redirect(reverse("widget:site-detail", args=[site.pk]) + "#appearance")


@marketer_required
@require_POST
def site_avatar_remove(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    site = get_object_or_404(Site, pk=pk)
    remove_avatar(site=site)
    messages.success(request, "Avatar removed.")
    return redirect(reverse("widget:site-detail", args=[site.pk]) + "#appearance")


@public
@require_safe
@ratelimit("widget-version")
def avatar(request: HttpRequest, digest: str) -> HttpResponse:
    """An avatar's image; its URL names its content, so it never changes."""
    found = None
    if DIGEST.fullmatch(digest):
        found = Avatar.objects.filter(digest=digest).values_list("content", "content_type").first()
    if found is None:
        raise Http404("No avatar has this digest.")
    content, content_type = found
    response = HttpResponse(bytes(content), content_type=content_type)
    response["Cache-Control"] = IMMUTABLE
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["X-Content-Type-Options"] = "nosniff"
    response["ETag"] = f'"{digest}"'
    return response
