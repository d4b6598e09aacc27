from __future__ import annotations

from django.urls import path

from widget.appearance import AVATAR_PATH
from widget.views import (
    api,
    avatars,
    booking,
    config,
    conversations,
    frame,
    loader,
    openapi,
    visitors,
)

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
    path("configuration/sites/<int:pk>/avatar/", avatars.site_avatar, name="site-avatar"),
    path(
        "configuration/sites/<int:pk>/avatar/remove/",
        avatars.site_avatar_remove,
        name="site-avatar-remove",
    ),
]

public_urls = [
    path("widget.js", loader.loader_script, name="loader"),
    path(f"{AVATAR_PATH}<slug:digest>", avatars.avatar, name="avatar"),
    path("widget/frame", frame.frame, name="frame"),
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
    path(
        "api/widget/v1/conversations/<int:conversation_id>/slots",
        booking.slots,
        name="slots",
    ),
    path(
        "api/widget/v1/conversations/<int:conversation_id>/holds",
        booking.holds,
        name="holds",
    ),
    path(
        "api/widget/v1/conversations/<int:conversation_id>/bookings",
        booking.bookings,
        name="bookings",
    ),
    path("api/widget/v1/visitors/withdraw", visitors.withdraw, name="withdraw"),
    path("api/widget/v1/visitors/identify", visitors.identify, name="identify"),
]

urlpatterns = [*site_urls, *public_urls]
