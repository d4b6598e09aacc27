"""Fixed-window rate limits kept in Redis (through Django's cache), one counter per scope and key.

Scopes and their rates live in ``settings.RATELIMITS`` (``"count/period"``); a limited request gets
429 with ``Retry-After`` and the stable error code ``rate_limited``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from dynchat.access import View
from dynchat.http import client_ip, is_api_request, json_error

log = logging.getLogger("dynchat.security")
RATELIMIT_ATTRIBUTE = "dynchat_ratelimit"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"200/h"`` → 200 per 3600 s; ``"50/15m"`` → 50 per 900 s."""
        match = _RATE.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a rate like 200/h or 50/15m")
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * _UNITS[unit])


@functools.cache
def counters() -> redis.Redis:
    """The Redis client for counters (Django's cache API would take three round trips)."""
    return redis.Redis.from_url(settings.REDIS_URL, **settings.REDIS_OPTIONS)


def retry_after(scope: str, key: str) -> int | None:
    """Count one request for ``key`` in ``scope``; return seconds to wait if over the limit."""
    if not settings.RATELIMIT_ENABLED:
        return None
    rate = Rate.parse(settings.RATELIMITS[scope])
    now = time.time()
    window = int(now // rate.seconds)
    # Hashed: keys may be addresses or e-mails, which have no business sitting in Redis.
    digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    # The cache's key prefix keeps deployments (and test runs) sharing a Redis apart.
    counter = cache.make_key(f"rl:{scope}:{digest}:{window}")
    # One atomic round trip: create the window's counter with its expiry if new, then count.
    with counters().pipeline(transaction=True) as pipeline:
        pipeline.set(counter, 0, ex=rate.seconds + 1, nx=True)
        pipeline.incr(counter)
        _, count = pipeline.execute()
    if count <= rate.count:
        return None
    return max(1, math.ceil((window + 1) * rate.seconds - now))


def ratelimit(
    scope: str,
    key: Callable[[HttpRequest], str] = client_ip,
    methods: Collection[str] | None = None,
) -> Callable[[View], View]:
    """Limit a view to ``settings.RATELIMITS[scope]`` requests per ``key`` (the client address)."""
    if scope not in settings.RATELIMITS:
        raise ValueError(f"no rate configured for scope {scope!r}")

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if methods is None or request.method in methods:
                wait = retry_after(scope, key(request))
                if wait is not None:
                    log.warning(
                        "rate limited: scope=%s client=%s path=%s",
                        scope,
                        client_ip(request),
                        request.path,
                    )
                    return limited(request, wait)
            return view(request, *args, **kwargs)

        setattr(wrapper, RATELIMIT_ATTRIBUTE, scope)
        return wrapper  # type: ignore[return-value]

    return decorator


def limited(request: HttpRequest, wait: int) -> HttpResponse:
    message = f"Too many requests. Try again in {wait} seconds."
    response: HttpResponse
    if is_api_request(request):
        response = json_error(429, "rate_limited", message, retry_after=wait)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response
