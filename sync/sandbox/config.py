"""What a sandbox is made of: its data set, its limits, scripted faults, and what it reports."""

from __future__ import annotations

import re
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime

# Response-level error messages, as Marketo words them (the reference's §5).
MESSAGES = {
    "601": "Access token invalid",
    "602": "Access token expired",
    "603": "Access denied",
    "604": "Request time-out",
    "605": "Request method not supported",
    "606": "Max rate limit '{limit}' exceeded with in '{window}' secs",
    "607": "Daily quota reached",
    "608": "API Temporarily Unavailable",
    "609": "Invalid JSON",
    "610": "Requested resource not found",
    "611": "System error",
    "612": "Invalid Content Type",
    "613": "Invalid Multipart Request",
    "614": "Invalid Subscription",
    "615": "Concurrent access limit reached",
    "616": "Invalid subscription type",
    "701": "Value cannot be blank",
    "702": "No data found for given search scenario",
    "703": "The feature is not enabled for the subscription",
    "704": "Invalid date format",
    "709": "Business Rule Violation",
    "713": "Transient Error",
    "1003": "Invalid data",
    "1013": "Object not found",
    "1029": "Too many jobs in queue",
    "1035": "Unsupported filter type for target subscription",
}
# Calls answered with these count toward neither the rate window nor the daily quota.
UNCOUNTED_CODES = frozenset({"601", "602", "604", "605", "608", "611"})
# Faults that are not an answer to one request but change a later bulk job or file download.
JOB_FAULTS = frozenset({"job-failed", "job-cancelled"})
DOWNLOAD_FAULT = "truncated-download"
TIMEOUT_FAULT = "timeout"


@dataclass(frozen=True)
class Dataset:
    """The generated Marketo instance: ids 1..N, dates spread evenly up to ``end``.

    Rows are derived from ``seed`` and their id when asked for, so any size costs no memory;
    only changes made later (through the API or ``mutate``) are stored.
    """

    leads: int = 50_000
    companies: int = 20_000
    activities: int = 200_000
    lead_days: float = 120
    activity_days: float = 120
    seed: int = 1
    end: datetime | None = None  # UTC; the moment the data runs up to (default: construction)

    def __post_init__(self) -> None:
        if min(self.leads, self.companies, self.activities) < 0:
            raise ValueError("leads, companies and activities cannot be negative")
        if self.activities and not self.leads:
            raise ValueError("activities need at least one lead to belong to")
        if self.lead_days <= 0 or self.activity_days <= 0:
            raise ValueError("lead_days and activity_days must be positive")
        if self.end is not None and self.end.tzinfo is None:
            raise ValueError("end must be an aware datetime (UTC)")


@dataclass(frozen=True)
class Limits:
    """Marketo's limits per instance; None lifts one."""

    calls_per_window: int | None = 100
    window_seconds: float = 20.0
    concurrency: int | None = 10
    daily_quota: int | None = 50_000
    export_daily_bytes: int | None = 500 * 2**20
    token_ttl: float = 3600
    bulk_processing: int = 2
    bulk_queued: int = 10

    @classmethod
    def lifted(cls) -> Limits:
        """No rate, concurrency, daily or export limit (the bulk queue keeps its shape)."""
        return cls(
            calls_per_window=None, concurrency=None, daily_quota=None, export_daily_bytes=None
        )


@dataclass
class Fault:
    """A scripted failure.

    ``code`` is a Marketo error code ("606", "1029", ...) answered as HTTP 200 with
    ``success: false``; an int HTTP status (500, 502, 503, 413, ...) answered bare; or one of
    "timeout" (hold the request, then close without an answer), "job-failed" and
    "job-cancelled" (the next bulk job that would complete ends so), "truncated-download" (the
    next file download is cut short; with ``message="corrupt"`` it is complete but altered).
    ``at_call``: the fault waits until the request number (1-based, every request but the
    identity call) reaches it. ``times``: how many matching requests it hits. ``path``: a
    regular expression (a plain substring works) the request path must contain.
    """

    code: str | int
    _: KW_ONLY
    at_call: int | None = None
    times: int = 1
    path: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.code, int):
            if not 400 <= self.code <= 599:
                raise ValueError(f"HTTP status faults are 4xx or 5xx, not {self.code}")
        elif not (self.code.isdigit() or self.is_special):
            raise ValueError(f"unknown fault code {self.code!r}")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.path is not None:
            re.compile(self.path)

    @property
    def is_special(self) -> bool:
        return self.code in JOB_FAULTS or self.code in (DOWNLOAD_FAULT, TIMEOUT_FAULT)

    def matches(self, request_number: int, path: str) -> bool:
        if self.at_call is not None and request_number < self.at_call:
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass
class SandboxStats:
    """A snapshot of what clients did. Times are sandbox-clock epoch seconds."""

    calls: int = 0  # counted calls (every request but identity and the uncounted error codes)
    requests: int = 0  # every request but identity, counted or not
    identity_calls: int = 0
    calls_by_path: dict[str, int] = field(default_factory=dict)  # route pattern -> counted calls
    errors_by_code: dict[str, int] = field(default_factory=dict)  # "606", "HTTP 502", ...
    max_calls_in_window: int = 0  # most counted calls within any window_seconds
    max_concurrent: int = 0  # most requests in flight at once (identity excluded)
    exports_created: dict[str, int] = field(default_factory=dict)  # "leads"/"activities" -> n
    exports_enqueued: int = 0
    exports_completed: int = 0
    downloads: int = 0  # file requests answered with the file (whole or a range)
    bytes_exported: int = 0  # file sizes of the completed export jobs
    bytes_downloaded: int = 0  # file bytes sent
    identity_call_times: list[float] = field(default_factory=list)
    call_times: list[float] = field(default_factory=list)


@dataclass
class Changes:
    """What one ``mutate`` did; ``since`` is the sandbox time (whole seconds) before it.

    ``new_activity_guids`` lists every activity it wrote: the ``new_activities`` asked for, and
    the New Lead (12) and Change Data Value (13) activities of new and updated leads.
    """

    since: datetime
    updated_lead_ids: list[int] = field(default_factory=list)
    new_lead_ids: list[int] = field(default_factory=list)
    new_activity_guids: list[str] = field(default_factory=list)
    updated_company_ids: list[int] = field(default_factory=list)
