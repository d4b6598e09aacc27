"""The visitor's pages for a booked meeting (links in the invitation e-mail)."""

from __future__ import annotations

from django.urls import path

from widget.views import manage

app_name = "meeting-manage"

urlpatterns = [
    path("meeting/<slug:token>/cancel/", manage.cancel, name="cancel"),
    path("meeting/<slug:token>/reschedule/", manage.reschedule_meeting, name="reschedule"),
]
