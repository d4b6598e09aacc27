from __future__ import annotations

from django.urls import path

from calendars import views

app_name = "calendars"

urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/connect/", views.connect, name="connect"),
    path("calendar/callback/<slug:provider>/", views.callback, name="callback"),
    path("calendar/disconnect/", views.disconnect, name="disconnect"),
    path("calendar/rules/", views.rules, name="rules"),
]
