"""Marketo's error codes, what to do about each, and the exceptions the client raises.

Marketo answers almost everything with HTTP 200 and ``success: false`` plus ``errors[]``; the
client turns those, HTTP failures and transport failures into one code string each ("606",
"HTTP 502", "timeout") and classifies it:

- R (retry): transient; retried with exponential backoff, then ``RetriesExhausted``.
- A (re-authenticate): the token is invalid or expired; fetch a new one and retry.
- W (wait): a daily quota is used up; nothing helps before midnight US Central.
- F (fatal): the request or the configuration is wrong; retrying cannot help.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class RetryClass(StrEnum):
    RETRY = "R"
    REAUTH = "A"
    WAIT = "W"
    FATAL = "F"


# Codes for failures that never reached Marketo's envelope.
TIMEOUT = "timeout"
CONNECTION = "connection"
BAD_RESPONSE = "bad-response"  # HTTP 200 whose body is not a JSON envelope (a proxy page, say)

_REAUTH = frozenset({"601", "602"})
_RETRY = frozenset(
    {
        "500",  # system error, limited like everything else by max_attempts
        "502",
        "604",  # request time-out
        "606",  # rate limit: 100 calls per 20 s for the whole instance
        "608",  # API temporarily unavailable
        "611",  # system error
        "614",  # invalid subscription, usually temporary
        "615",  # concurrency limit: 10 calls in flight for the whole instance
        "713",  # transient error
        "719",  # lock wait timeout
        "1014",  # failed to create object
        "1016",  # too many imports
        "1019",  # import in progress
        "1022",  # object in use
        TIMEOUT,
        CONNECTION,
        BAD_RESPONSE,
    }
)
_RETRY_HTTP = frozenset({408, 429})

QUEUE_FULL = "1029"


def is_export_quota(code: str, message: str) -> bool:
    return code == QUEUE_FULL and "quota" in message.lower()


def is_already_queued(code: str, message: str) -> bool:
    return code == QUEUE_FULL and "already queued" in message.lower()


def retry_class(code: str, message: str = "") -> RetryClass:
    """What to do about Marketo error ``code`` (``"HTTP 502"`` for HTTP statuses)."""
    if code in _REAUTH:
        return RetryClass.REAUTH
    if code == "607" or is_export_quota(code, message):
        return RetryClass.WAIT
    if code == QUEUE_FULL:
        # "Too many jobs in queue" passes once jobs finish; "Job already queued" means the
        # work is done, which the enqueue call treats as success (so retrying is pointless).
        return RetryClass.FATAL if is_already_queued(code, message) else RetryClass.RETRY
    if code in _RETRY:
        return RetryClass.RETRY
    if code.startswith("HTTP "):
        status = int(code.removeprefix("HTTP ") or 0)
        # 413/414 mean the request has the wrong shape; 401 means bad credentials.
        return RetryClass.RETRY if status >= 500 or status in _RETRY_HTTP else RetryClass.FATAL
    return RetryClass.FATAL


class MarketoError(Exception):
    """Marketo refused a call; ``str()`` reads well in a marketer's status line."""

    def __init__(self, code: str, message: str, retry: RetryClass | None = None) -> None:
        self.code = code
        self.message = message
        self.retry = retry if retry is not None else retry_class(code, message)
        super().__init__(code, message, retry)

    def __str__(self) -> str:
        return f"Marketo {self.code}: {self.message}"


class FatalMarketoError(MarketoError):
    """The request or the configuration (credentials, permissions, field names) needs fixing."""


class RetriesExhausted(MarketoError):
    """A transient error persisted through every attempt."""

    def __init__(self, code: str, message: str, attempts: int) -> None:
        super().__init__(code, message)
        self.attempts = attempts
        self.args = (code, message, attempts)  # so that the error survives pickling

    def __str__(self) -> str:
        return f"{super().__str__()} (gave up after {self.attempts} attempts)"


class _QuotaError(MarketoError):
    def __init__(self, code: str, message: str, resume_at: datetime) -> None:
        super().__init__(code, message, RetryClass.WAIT)
        self.resume_at = resume_at
        self.args = (code, message, resume_at)

    def __str__(self) -> str:
        return f"{super().__str__()} (resumes {self.resume_at:%Y-%m-%d %H:%M} UTC)"


class DailyQuotaReached(_QuotaError):
    """607: no API calls until ``resume_at`` (next midnight America/Chicago, in UTC)."""


class ExportQuotaReached(_QuotaError):
    """1029 "Export daily quota exceeded": no export enqueued until ``resume_at``."""


class QueueFull(MarketoError):
    """1029 "Too many jobs in queue" on enqueue: try again once a queued job has finished."""


class DownloadCheckFailed(MarketoError):
    """A downloaded export file has the wrong size or SHA-256; the file has been removed."""


class ExportNotFound(MarketoError):
    """Marketo does not know the export (unknown, expired or not ready): create it again."""
