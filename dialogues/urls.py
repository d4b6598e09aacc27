from __future__ import annotations

from django.urls import path

from dialogues import views

app_name = "dialogues"

urlpatterns = [
    path("dialogues/", views.dialogue_list, name="list"),
    path("reports/", views.reports, name="reports"),
]
