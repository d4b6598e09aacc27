"""Web origins as browsers send them in the ``Origin`` header (pure, no ORM)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def normalize_origin(value: str) -> str:
    """Return ``value`` as a browser would serialise its origin, or raise ValueError saying why.

    ``HTTPS://Shop.Example.com:443/`` becomes ``https://shop.example.com``; a path other than
    ``/``, a query, credentials or a scheme other than http(s) are refused.
    """
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} is not a valid origin.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"{text!r} must start with https:// or http://.")
    if not parts.hostname:
        raise ValueError(f"{text!r} has no host name.")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{text!r} must not contain a user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"{text!r} must be an origin only, without a path: e.g. https://example.com."
        )
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = ""
        if not HOST_NAME.fullmatch(host):
            raise ValueError(f"{text!r} has an invalid host name.")
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_of(url: str) -> str | None:
    """The origin of an absolute http(s) URL, or None when it has none."""
    parts = urlsplit(url)
    try:
        return normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        return None
