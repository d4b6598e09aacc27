"""What the widget keeps of its own: the bot avatars marketers upload."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Avatar(models.Model):
    """An uploaded bot avatar, re-encoded, named by the SHA-256 of its bytes.

    Kept in the database (Postgres is the only state); a site refers to one by its digest in
    ``Site.appearance["avatar"]`` and it is served at ``widget.appearance.AVATAR_PATH + digest``.
    """

    digest = models.CharField(max_length=64, unique=True)
    content = models.BinaryField()
    content_type = models.CharField(max_length=50)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.digest
