"""Checking and normalising field values written through the API, by the field's data type."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sync.sandbox.clock import DateError, iso, parse_datetime
from sync.sandbox.fields import Field

_INTEGER = frozenset({"integer", "score"})
_FLOAT = frozenset({"float", "currency", "percent"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def coerce(field: Field, value: Any) -> Any:
    """The stored form of ``value``; ValueError when it does not fit the field's type."""
    if value is None or value == "":
        return None
    kind = field.data_type
    if isinstance(value, (dict, list)):
        raise ValueError(f"{field.name} takes a single value")
    if kind in _INTEGER:
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value).strip()):
            raise ValueError(f"{field.name} must be an integer")
        return int(value)
    if kind in _FLOAT:
        if isinstance(value, bool):
            raise ValueError(f"{field.name} must be a number")
        return float(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise ValueError(f"{field.name} must be a boolean")
    if kind == "date":
        return date.fromisoformat(str(value)[:10]).isoformat()
    if kind == "datetime":
        try:
            return iso(parse_datetime(str(value))[0])
        except DateError as error:
            raise ValueError(str(error)) from error
    text = str(value)
    if kind == "email" and not (text.isascii() and _EMAIL.fullmatch(text)):
        raise ValueError(f"Invalid email address '{text}'")
    if field.length and len(text) > field.length:
        raise ValueError(f"{field.name} is longer than {field.length} characters")
    return text
