"""How provider failures map onto Dynchat's errors, the same way for every provider.

invalid_grant → TokenRevoked (the agent must reconnect); 5xx, 429, timeouts and connection
failures → ProviderUnavailable (may pass: retry, never read as free time); anything else →
CalendarError.
"""

from __future__ import annotations

from calendars.providers.base import CalendarError, ProviderUnavailable, TokenRevoked

TRANSIENT_STATUSES = frozenset({408, 429})


def is_transient(status: int) -> bool:
    return status >= 500 or status in TRANSIENT_STATUSES


def for_status(status: int, what: str, detail: str = "") -> CalendarError:
    """The error for an unexpected HTTP answer of ``what`` (an endpoint name for the log)."""
    message = f"{what} answered {status}" + (f": {detail[:200]}" if detail else "")
    if is_transient(status):
        return ProviderUnavailable(message)
    return CalendarError(message)


def for_token_error(error: str, description: str, what: str) -> CalendarError:
    """The error for an OAuth error answer (``{"error": …, "error_description": …}``)."""
    message = f"{what}: {error}" + (f": {description[:300]}" if description else "")
    if error == "invalid_grant":
        return TokenRevoked(message)
    if error in {"temporarily_unavailable", "server_error"}:
        return ProviderUnavailable(message)
    return CalendarError(message)
