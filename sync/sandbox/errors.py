"""The two ways a sandbox call fails: Marketo's HTTP-200 error envelope, or a bare HTTP status."""

from __future__ import annotations

from sync.sandbox.config import MESSAGES


class ApiError(Exception):
    """Answered as HTTP 200 with ``success: false`` and ``errors: [{code, message}]``."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        super().__init__(f"{code} {self.message}")


class HttpError(Exception):
    """Answered with this HTTP status and a plain-text body."""

    def __init__(self, status: int, text: str) -> None:
        self.status, self.text = status, text
        super().__init__(f"HTTP {status}: {text}")
