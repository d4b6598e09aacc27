"""Sealing calendar tokens at rest: AES-256-GCM under Dynchat's calendar keys, never SECRET_KEY.

``settings.CALENDAR_TOKEN_KEYS`` lists ``"version:base64url-32-bytes"`` pairs, newest first. New
tokens are sealed with the newest key; older keys stay listed only until ``manage.py
rotate_calendar_keys`` has re-sealed every row under the newest one. A blob is
``nonce (12 bytes) || ciphertext+tag``; the key version is authenticated with it, so a blob cannot
be passed off as sealed by another key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from calendars.providers.base import NeedsReconnect

NONCE_BYTES = 12
KEY_BYTES = 32
AAD_PREFIX = b"dynchat.calendar-token:"


class KeyUnavailable(NeedsReconnect):
    """The key a token was sealed with is not configured (any more), or the blob is not genuine."""


@functools.lru_cache(maxsize=8)
def _parse(entries: tuple[str, ...]) -> tuple[tuple[str, AESGCM], ...]:
    keys: list[tuple[str, AESGCM]] = []
    for entry in entries:
        version, sep, encoded = entry.strip().partition(":")
        if not sep or not version or len(version) > 32:
            raise ImproperlyConfigured("CALENDAR_TOKEN_KEYS entries are 'version:base64url-key'.")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as error:
            raise ImproperlyConfigured(f"Calendar key {version!r} is not base64url.") from error
        if len(raw) != KEY_BYTES:
            raise ImproperlyConfigured(f"Calendar key {version!r} must be {KEY_BYTES} bytes.")
        keys.append((version, AESGCM(raw)))
    return tuple(keys)


def keys() -> tuple[tuple[str, AESGCM], ...]:
    """The configured keys, newest first (read at call time, so a deploy's list takes effect)."""
    return _parse(tuple(settings.CALENDAR_TOKEN_KEYS))


def newest_version() -> str:
    configured = keys()
    if not configured:
        raise ImproperlyConfigured(
            "CALENDAR_TOKEN_KEYS is empty: calendar tokens cannot be sealed."
        )
    return configured[0][0]


def seal(plaintext: str) -> tuple[bytes, str]:
    """Encrypt ``plaintext`` under the newest key; returns (blob, key version)."""
    version = newest_version()
    key = keys()[0][1]
    nonce = os.urandom(NONCE_BYTES)
    return nonce + key.encrypt(nonce, plaintext.encode(), AAD_PREFIX + version.encode()), version


def unseal(blob: bytes | memoryview, key_version: str) -> str:
    """Decrypt a blob sealed under ``key_version``; KeyUnavailable if that cannot be done."""
    key = dict(keys()).get(key_version)
    if key is None:
        raise KeyUnavailable(f"calendar key {key_version!r} is not configured")
    data = bytes(blob)
    try:
        plain = key.decrypt(
            data[:NONCE_BYTES], data[NONCE_BYTES:], AAD_PREFIX + key_version.encode()
        )
    except (InvalidTag, ValueError) as error:
        raise KeyUnavailable(f"calendar token does not open with key {key_version!r}") from error
    return plain.decode()
