"""CSV cells safe to open in a spreadsheet: every CSV export of Dynchat writes its cells so."""

from __future__ import annotations

# A cell a spreadsheet would read as a formula (or DDE) starts with one of these (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value: object) -> str:
    """The text of a cell, with a leading quote when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
