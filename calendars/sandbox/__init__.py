"""Local stand-ins for Google Calendar and Microsoft Graph (and their sign-in), for tests and the
demo: ``CalendarSandbox`` in-process, ``python -m calendars.sandbox`` as a process."""

from __future__ import annotations

from calendars.sandbox.sandbox import CalendarSandbox

__all__ = ["CalendarSandbox"]
