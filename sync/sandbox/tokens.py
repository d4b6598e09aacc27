"""Opaque paging tokens: base32 text that carries a kind and a position."""

from __future__ import annotations

import base64
import binascii

from sync.sandbox.errors import ApiError


def encode(kind: str, position: int) -> str:
    return base64.b32encode(f"{kind}:{position}:{position * 7 % 97}".encode()).decode()


def decode(kind: str, token: str) -> int:
    """The position in ``token``; 1003 when it is not a token of this kind."""
    try:
        text = base64.b32decode(token.strip().upper(), casefold=True).decode()
        token_kind, position, check = text.split(":")
        value = int(position)
        if token_kind != kind or int(check) != value * 7 % 97 or value < 0:
            raise ValueError(token)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError("1003", "Invalid nextPageToken") from None
    return value
