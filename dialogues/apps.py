from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class DialoguesConfig(AppConfig):
    name = "dialogues"
    verbose_name = "Dialogues"

    def ready(self) -> None:
        from dialogues import services
        from dynchat.models import Site
        from sync.services import ATTRIBUTE_USERS

        if services.attribute_users not in ATTRIBUTE_USERS:
            ATTRIBUTE_USERS.append(services.attribute_users)
        post_save.connect(_site_changed, sender=Site, dispatch_uid="dialogues.site_saved")
        post_delete.connect(_site_changed, sender=Site, dispatch_uid="dialogues.site_deleted")


def _site_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """Origins or the kill switch changed: the cached live site is stale."""
    from dialogues import live

    live.forget(instance.key)
