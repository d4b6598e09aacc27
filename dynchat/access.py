"""Who may reach which view. Every view in the URLconf carries exactly one of these marks.

``public`` views are for anyone (the login page, the widget's own endpoints, which authenticate by
site key and conversation token); ``role_required`` views need a signed-in user with one of the
roles. A test walks the URLconf and fails on any view without a mark.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django_htmx.http import HttpResponseClientRedirect

from dynchat.models import Role

View = TypeVar("View", bound=Callable[..., HttpResponseBase])
ACCESS_ATTRIBUTE = "dynchat_access"
PUBLIC = "public"
EVERYONE = (Role.MARKETER, Role.AGENT)


def public[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Mark a view as reachable without signing in."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def role_required(*roles: Role) -> Callable[[View], View]:
    """Let through signed-in users with one of ``roles``; send others to sign in, or 403."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                if getattr(request, "htmx", False):
                    # A fragment request would swap the login page into the fragment; reload.
                    return HttpResponseClientRedirect(redirect_to_login(request.path).url)
                return redirect_to_login(request.get_full_path())
            if getattr(user, "role", None) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, frozenset(roles))
        return wrapper  # type: ignore[return-value]

    return decorator


marketer_required = role_required(Role.MARKETER)
team_required = role_required(*EVERYONE)


def access_of(view: Callable[..., Any]) -> str | frozenset[Role] | None:
    """The access mark of a view: PUBLIC, the roles it admits, or None if it has none."""
    mark: str | frozenset[Role] | None = getattr(view, ACCESS_ATTRIBUTE, None)
    return mark
