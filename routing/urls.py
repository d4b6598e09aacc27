from __future__ import annotations

from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("routing/", views.queue, name="queue"),
    path("routing/policy/", views.policy, name="policy"),
    path("routing/agents/<int:agent_id>/pause/", views.pause, name="pause"),
    path("routing/agents/<int:agent_id>/move/", views.move, name="move"),
    path("routing/agents/<int:agent_id>/weight/", views.weight, name="weight"),
]
