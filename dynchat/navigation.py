"""The admin's main navigation: one list, filtered by the viewer's role."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from dynchat.access import EVERYONE
from dynchat.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[Role, ...]
    icon: str


NAVIGATION = (
    NavItem("Dialogues", "dialogues:list", EVERYONE, "dialogues"),
    NavItem("Configuration", "widget:sites", (Role.MARKETER,), "configuration"),
    NavItem("Calendar", "calendars:calendar", EVERYONE, "calendar"),
    NavItem("Meetings", "meetings:list", EVERYONE, "meetings"),
    NavItem("Routing", "routing:queue", (Role.MARKETER,), "routing"),
    NavItem("Reports", "dialogues:reports", (Role.MARKETER,), "reports"),
    NavItem("Privacy", "dialogues:privacy", (Role.MARKETER,), "privacy"),
    NavItem("Marketo", "sync:overview", (Role.MARKETER,), "marketo"),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    icon: str
    current: bool


def navigation_for(role: str, path: str) -> list[NavLink]:
    """The items ``role`` may open; the one whose section contains ``path`` is current."""
    links = []
    for item in NAVIGATION:
        if role not in item.roles:
            continue
        url = reverse(item.url_name)
        links.append(NavLink(item.label, url, item.icon, path.startswith(url)))
    return links
