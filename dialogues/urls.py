from __future__ import annotations

from django.urls import path

from dialogues.views import builder, conversations, history, lists, privacy, reports, targeting

app_name = "dialogues"

urlpatterns = [
    path("dialogues/", lists.dialogue_list, name="list"),
    path("dialogues/new/", lists.dialogue_create, name="create"),
    path("dialogues/alerts/<int:pk>/dismiss/", lists.alert_dismiss, name="alert-dismiss"),
    path("dialogues/<int:pk>/", builder.builder, name="builder"),
    path("dialogues/<int:pk>/cards/add/", builder.card_add, name="card-add"),
    path("dialogues/<int:pk>/cards/<slug:card>/edit/", builder.card_edit, name="card-edit"),
    path("dialogues/<int:pk>/cards/<slug:card>/delete/", builder.card_delete, name="card-delete"),
    path("dialogues/<int:pk>/cards/<slug:card>/move/", builder.card_move, name="card-move"),
    path("dialogues/<int:pk>/publish/", builder.publish, name="publish"),
    path("dialogues/<int:pk>/unpublish/", builder.unpublish, name="unpublish"),
    path("dialogues/<int:pk>/delete/", builder.dialogue_delete, name="delete"),
    path("dialogues/<int:pk>/targeting/", targeting.targeting, name="targeting"),
    path("dialogues/<int:pk>/versions/", history.versions, name="versions"),
    path("dialogues/<int:pk>/versions/<int:number>/", history.version_detail, name="version"),
    path("dialogues/<int:pk>/test/", history.test_visitor, name="test"),
    path(
        "dialogues/<int:pk>/conversations/", conversations.conversation_list, name="conversations"
    ),
    path(
        "dialogues/<int:pk>/conversations/<int:conversation_id>/",
        conversations.transcript,
        name="transcript",
    ),
    path(
        "marketo/leads/<int:lead_id>/conversations/",
        conversations.lead_conversations,
        name="lead-conversations",
    ),
    path("dialogues/<int:pk>/reports/", reports.dialogue_reports, name="dialogue-reports"),
    path("reports/", reports.reports_page, name="reports"),
    path("privacy/", privacy.privacy_requests, name="privacy"),
]
