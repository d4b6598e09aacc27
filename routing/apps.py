from __future__ import annotations

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        """Keep the queue by what calendars and meetings announce."""
        from calendars.signals import calendar_connected, calendar_lost
        from meetings.signals import meeting_cancelled
        from routing import queue

        calendar_connected.connect(queue.on_calendar_connected, dispatch_uid="routing.join")
        calendar_lost.connect(queue.on_calendar_lost, dispatch_uid="routing.leave")
        meeting_cancelled.connect(queue.on_meeting_cancelled, dispatch_uid="routing.give-back")
