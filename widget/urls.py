from __future__ import annotations

from django.urls import path

from widget.views import api, config, conversations, loader, openapi

app_name = "widget"

site_urls = [
    path("configuration/", config.site_list, name="sites"),
    path("configuration/sites/new/", config.site_create, name="site-create"),
    path("configuration/sites/<int:pk>/", config.site_detail, name="site-detail"),
    path("configuration/sites/<int:pk>/edit/", config.site_edit, name="site-edit"),
    path(
        "configuration/sites/<int:pk>/chat-enabled/",
        config.site_chat_enabled,
        name="site-chat-enabled",
    ),
]

public_urls = [
    path("widget.js", loader.loader_script, name="loader"),
    path("api/widget/v1/openapi.json", openapi.openapi, name="openapi"),
    path("api/widget/v1/decide", api.decide, name="decide"),
    path("api/widget/v1/versions/<int:version_id>", api.version, name="version"),
    path("api/widget/v1/conversations", conversations.conversations, name="conversations"),
    path(
        "api/widget/v1/conversations/<int:conversation_id>",
        conversations.conversation,
        name="conversation",
    ),
    path(
        "api/widget/v1/conversations/<int:conversation_id>/events",
        conversations.events,
        name="events",
    ),
]

urlpatterns = [*site_urls, *public_urls]
