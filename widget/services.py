"""Changing a site's widget configuration: its settings, appearance and avatar.

Every change is one save of the site row, which also makes the widget's cached copy of the site
reload (the Site post_save hook in dialogues.apps).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from typing import Final

from django.db import transaction
from PIL import Image, ImageOps

from dynchat.models import Site
from widget.appearance import Appearance
from widget.models import Avatar

AVATAR_PX: Final = 128  # what the widget shows at most (at 2x on high-density screens)
SITE_FIELDS: Final = ("name", "allowed_origins", "require_consent", "verify_identity")


@transaction.atomic
def save_configuration(*, site: Site, appearance: Appearance) -> None:
    """Save the site as edited (SITE_FIELDS) with ``appearance``; the avatar stays as stored."""
    stored = Site.objects.select_for_update().only("appearance").get(pk=site.pk)
    avatar = Appearance.from_json(stored.appearance).avatar
    site.appearance = dataclasses.replace(appearance, avatar=avatar).to_json()
    site.save(update_fields=[*SITE_FIELDS, "appearance", "updated_at"])


@transaction.atomic
def save_avatar(*, site: Site, image: Image.Image) -> Avatar:
    """Make ``image`` (checked by AvatarForm) the site's avatar: a small PNG without metadata."""
    content = avatar_png(image)
    digest = hashlib.sha256(content).hexdigest()
    avatar, _ = Avatar.objects.get_or_create(
        digest=digest, defaults={"content": content, "content_type": "image/png"}
    )
    _set_avatar(site, digest)
    return avatar


@transaction.atomic
def remove_avatar(*, site: Site) -> None:
    """The site's bot shows no avatar any more."""
    _set_avatar(site, "")


def _set_avatar(site: Site, digest: str) -> None:
    stored = Site.objects.select_for_update().only("appearance").get(pk=site.pk)
    appearance = Appearance.from_json(stored.appearance)
    site.appearance = dataclasses.replace(appearance, avatar=digest).to_json()
    site.save(update_fields=["appearance", "updated_at"])
    if appearance.avatar and appearance.avatar != digest:
        _drop_if_unused(appearance.avatar)


def _drop_if_unused(digest: str) -> None:
    """Delete an avatar no site shows any more (several sites may share one image)."""
    if not Site.objects.filter(appearance__avatar=digest).exists():
        Avatar.objects.filter(digest=digest).delete()


def avatar_png(image: Image.Image) -> bytes:
    """``image`` upright, at most AVATAR_PX square, as PNG bytes with no metadata at all."""
    upright = ImageOps.exif_transpose(image).convert("RGBA")
    if upright.width > AVATAR_PX:
        upright = upright.resize((AVATAR_PX, AVATAR_PX), Image.Resampling.LANCZOS)
    # A new image carries nothing of the original's info (EXIF, ICC profile, text chunks).
    clean = Image.new("RGBA", upright.size)
    clean.paste(upright)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()
