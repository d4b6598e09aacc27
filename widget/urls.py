from __future__ import annotations

from django.urls import path

from widget.views import api, config, loader

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
    path("api/widget/v1/decide", api.decide, name="decide"),
    path("api/widget/v1/versions/<int:version_id>", api.version, name="version"),
]

urlpatterns = [*site_urls, *public_urls]
