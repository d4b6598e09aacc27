from __future__ import annotations

from django.urls import path

from sync import views

app_name = "sync"

urlpatterns = [
    path("marketo/", views.overview, name="overview"),
]
