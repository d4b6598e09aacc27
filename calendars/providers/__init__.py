"""The calendar providers Dynchat connects to, by name."""

from __future__ import annotations

from calendars.models import Provider as ProviderName
from calendars.providers.base import CalendarError, Provider


def provider_for(name: str) -> Provider:
    """The provider client for ``name`` ("google" or "microsoft"); it reads settings per call."""
    if name == ProviderName.GOOGLE:
        from calendars.providers.google import GoogleCalendar

        return GoogleCalendar()
    if name == ProviderName.MICROSOFT:
        from calendars.providers.microsoft import OutlookCalendar

        return OutlookCalendar()
    raise CalendarError(f"unknown calendar provider {name!r}")
