"""The Marketo client's transport: the access token, the shared limiter, retries, the envelope.

``MarketoClient`` (sync/client.py) builds the REST and bulk calls on top of ``MarketoTransport``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from sync.errors import (
    BAD_RESPONSE,
    CONNECTION,
    QUEUE_FULL,
    TIMEOUT,
    DailyQuotaReached,
    ExportNotFound,
    ExportQuotaReached,
    FatalMarketoError,
    MarketoError,
    QueueFull,
    RetriesExhausted,
    RetryClass,
    is_export_quota,
    retry_class,
)
from sync.limiter import RedisLimiter
from sync.quota import next_quota_reset

log = logging.getLogger("sync.client")

# Refresh a token ahead of time when fewer than this many seconds remain (Marketo's advice).
REFRESH_MARGIN = 60.0
# Identity hands back the *same* token until it expires, so a token that was already short-lived
# when we got it is used until this close to its end, and then replaced once it has expired.
EXPIRY_MARGIN = 2.0
# After a 606 wait at least this long (and the shared limiter lowers everyone's budget).
RATE_LIMIT_WAIT = 5.0
# Marketo rejects URIs over 8 KB (HTTP 414); longer reads go as POST ?_method=GET.
MAX_URL_LENGTH = 7_000
EXPORT_QUOTA_BLOCK = QUEUE_FULL

# What one attempt produced: ("", "", value) on success, else (code, message, None).
type Outcome[T] = tuple[str, str, T | None]


def no_answer(error: requests.RequestException) -> tuple[str, str]:
    """The code and message for a request that got no answer (retried like a 5xx)."""
    if isinstance(error, requests.Timeout):
        return TIMEOUT, "Marketo did not answer in time"
    # Not str(error): a requests message can carry the URL and its query string.
    return CONNECTION, f"Connection failed ({type(error).__name__})"


class MarketoTransport:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        limiter: RedisLimiter,
        timeout: float = 120,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.session = session or requests.Session()
        self.calls = 0
        self.identity_calls = 0
        self._client_id = client_id
        self._client_secret = client_secret
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self._count_lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._short_lived = False
        self._generation = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        """The envelope of a successful call, after re-authentication and retries."""
        return self._call(method, path, params=params, json=json)

    # --- calls -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, Any] | None = None,
        retry_queue_full: bool = True,
    ) -> dict[str, Any]:
        def send(token: str) -> Outcome[dict[str, Any]]:
            headers = {"Authorization": f"Bearer {token}"}
            with self.limiter.slot():
                self._count_call()
                response = self.session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    data=form,
                    headers=headers,
                    timeout=self.timeout,
                )
            return read_envelope(response)

        return self._with_retries(method, path, send, retry_queue_full=retry_queue_full)

    def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """A read whose query string may be too long for a URI: then POST ?_method=GET."""
        url = requests.Request("GET", self.base_url + path, params=params).prepare().url or ""
        if len(url) <= MAX_URL_LENGTH:
            return self._call("GET", path, params=params)
        return self._call("POST", path, params={"_method": "GET"}, form=params)

    def _with_retries[T](
        self,
        method: str,
        path: str,
        send: Callable[[str], Outcome[T]],
        *,
        retry_queue_full: bool = True,
    ) -> T:
        attempt = 0
        while True:
            attempt += 1
            generation, token = self._access_token()
            try:
                code, message, value = send(token)
            except requests.RequestException as error:
                (code, message), value = no_answer(error), None
            if value is not None:
                return value
            kind = retry_class(code, message)
            if kind is RetryClass.WAIT:
                raise self._stop_for_quota(code, message)
            if kind is RetryClass.FATAL:
                raise self._fatal(code, message, path)
            if code == QUEUE_FULL and not retry_queue_full:
                raise QueueFull(code, message)
            if attempt >= self.max_attempts:
                raise RetriesExhausted(code, message, attempt)
            if kind is RetryClass.REAUTH:
                log.warning("Marketo %s on %s %s: new token, then retry", code, method, path)
                self._forget_token(generation)
                continue
            wait = self._backoff(attempt, code)
            log.warning(
                "Marketo %s on %s %s (attempt %d of %d): retry in %.1f s",
                code,
                method,
                path,
                attempt,
                self.max_attempts,
                wait,
            )
            self._sleep(wait)

    def _backoff(self, attempt: int, code: str) -> float:
        """Exponential backoff with full jitter; a 606 waits for the window to move on."""
        wait = self._random.uniform(
            0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        )
        if code == "606":
            self.limiter.back_off()
            wait = max(wait, RATE_LIMIT_WAIT)
        return wait

    def _stop_for_quota(self, code: str, message: str) -> MarketoError:
        """A daily quota is used up: block every process until midnight US Central."""
        resume_at = next_quota_reset(datetime.fromtimestamp(self._clock(), UTC))
        if is_export_quota(code, message):
            self.limiter.block_until(resume_at, EXPORT_QUOTA_BLOCK)
            log.warning("Marketo export quota used up; exports resume at %s", resume_at)
            return ExportQuotaReached(code, message, resume_at)
        self.limiter.block_until(resume_at, code)
        log.warning("Marketo daily quota used up; calls resume at %s", resume_at)
        return DailyQuotaReached(code, message, resume_at)

    def _fatal(self, code: str, message: str, path: str) -> MarketoError:
        if code == "HTTP 404" and path.startswith("/bulk/"):
            return ExportNotFound(code, message)
        return FatalMarketoError(code, message)

    def _count_call(self) -> None:
        with self._count_lock:
            self.calls += 1

    # --- the access token ---------------------------------------------------------------------

    def _access_token(self) -> tuple[int, str]:
        """The current token and its generation, fetching a new one when needed."""
        with self._token_lock:
            current = self._token
            if current is not None:
                remaining = self._expires_at - self._clock()
                if remaining > REFRESH_MARGIN or (self._short_lived and remaining > EXPIRY_MARGIN):
                    return self._generation, current
                if remaining > EXPIRY_MARGIN:
                    try:
                        token = self._fetch_token()
                    except RetriesExhausted:
                        log.warning("Marketo identity unavailable; using the token until it ends")
                        self._short_lived = True
                        return self._generation, current
                    return self._generation, token
                if remaining > -1:
                    # Identity would hand back this token until it has expired; expires_in is in
                    # whole seconds, so it may outlive our estimate by up to one.
                    self._sleep(remaining + 1)
            token = self._fetch_token()  # before reading the generation it moves on
            return self._generation, token

    def _forget_token(self, generation: int) -> None:
        """Drop a token Marketo refused, unless another thread already replaced it."""
        with self._token_lock:
            if self._generation == generation:
                self._token = None

    def _fetch_token(self) -> str:
        """One identity call (more only on transient failures); called under the token lock."""
        params = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        for attempt in range(1, self.max_attempts + 1):
            with self._count_lock:
                self.identity_calls += 1
            try:
                response = self.session.get(
                    self.base_url + "/identity/oauth/token", params=params, timeout=self.timeout
                )
                code, message, granted = read_token(response)
            except requests.RequestException as error:
                (code, message), granted = no_answer(error), None
            if granted is not None:
                token, expires_in = granted
                if expires_in > EXPIRY_MARGIN:
                    self._token = token
                    self._expires_at = self._clock() + expires_in
                    self._short_lived = expires_in < REFRESH_MARGIN
                    self._generation += 1
                    return token
                # The old token is about to expire; Marketo issues a new one only after it has.
                code, message = "expiring-token", "Identity handed back an expiring token"
                wait = max(expires_in, 0) + 1
            elif retry_class(code, message) is not RetryClass.RETRY:
                raise FatalMarketoError(code, message)
            else:
                wait = self._backoff(attempt, code)
            if attempt < self.max_attempts:
                log.warning("Marketo identity %s: retry in %.1f s", code, wait)
                self._sleep(wait)
        raise RetriesExhausted(code, message, self.max_attempts)


def read_token(response: requests.Response) -> Outcome[tuple[str, float]]:
    """Identity's answer as an outcome: (token, seconds it has left) on success."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if response.status_code in (400, 401, 403):
        detail = body.get("error_description") or "Bad client credentials"
        return f"HTTP {response.status_code}", str(detail), None
    if response.status_code != 200:
        return f"HTTP {response.status_code}", response.reason or "Identity failed", None
    if not body.get("access_token"):
        return BAD_RESPONSE, "Identity answered without an access token", None
    return "", "", (str(body["access_token"]), float(body.get("expires_in") or 0))


def read_envelope(response: requests.Response) -> Outcome[dict[str, Any]]:
    """Marketo's answer as an outcome: the envelope if ``success``, else the first error."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}", http_message(response), None
    try:
        body = response.json()
    except ValueError:
        return BAD_RESPONSE, "Marketo answered with something other than JSON", None
    if not isinstance(body, dict):
        return BAD_RESPONSE, "Marketo answered with something other than an envelope", None
    if body.get("success") is True:
        return "", "", body
    errors = body.get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    return str(first.get("code", "unknown")), str(first.get("message", "")), None


def http_message(response: requests.Response) -> str:
    """A short message for an HTTP error: a plain-text body, else the reason phrase."""
    text = ""
    if response.headers.get("Content-Type", "").startswith("text/plain"):
        text = " ".join(response.text.split())[:200]
    return text or response.reason or "HTTP error"
