"""Sign in, sign out, change password: Django's views, with our access marks and limits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import (
    LoginView,
    LogoutView,
    PasswordChangeDoneView,
    PasswordChangeView,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from dynchat.access import public, team_required
from dynchat.ratelimit import ratelimit

login = public(
    ratelimit("login", methods=("POST",))(
        LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True)
    )
)
logout = team_required(LogoutView.as_view())
password_change = team_required(
    PasswordChangeView.as_view(success_url=reverse_lazy("dynchat:password-change-done"))
)
password_change_done = team_required(PasswordChangeDoneView.as_view())


def locked_out(
    request: HttpRequest, credentials: dict[str, Any], *args: Any, **kwargs: Any
) -> HttpResponse:
    """What a locked-out account sees instead of the login result (django-axes calls this)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request, data=request.POST or None)
    context = {
        "form": form,
        "locked_out": f"Too many failed sign-ins for this account. Try again in {minutes} minutes.",
    }
    return render(request, "registration/login.html", context, status=429)
