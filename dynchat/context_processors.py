from __future__ import annotations

from django.http import HttpRequest

from dynchat.navigation import NavLink, navigation_for


def navigation(request: HttpRequest) -> dict[str, list[NavLink]]:
    role = getattr(request.user, "role", None) if hasattr(request, "user") else None
    if role is None:
        return {"nav_links": []}
    return {"nav_links": navigation_for(role, request.path)}
