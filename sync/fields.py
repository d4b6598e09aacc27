"""What Dynchat asks Marketo for, and how Marketo values become typed ones (pure, no ORM)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

# Lead fields every sync reads (REST names → mirror columns); the marketer's choices come on top.
LEAD_CORE = {
    "id": "id",
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "company": "company_name",
    "externalCompanyId": "external_company_id",
    "cookies": "cookies",
    "leadScore": "lead_score",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
}
COMPANY_CORE = {
    "id": "id",
    "externalCompanyId": "external_company_id",
    "company": "name",
    "industry": "industry",
    "numberOfEmployees": "number_of_employees",
    "annualRevenue": "annual_revenue",
    "billingCountry": "billing_country",
    "updatedAt": "updated_at",
}
# The bulk activity export's default columns, in file order.
ACTIVITY_COLUMNS = (
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
)
# Activities worth targeting on: web, forms, email engagement, lead lifecycle, programs, pushes.
SYNCED_ACTIVITY_TYPES = (1, 2, 3, 6, 7, 10, 11, 12, 13, 22, 46, 104, 145)
# Names of the standard activity types Dynchat syncs (Marketo's ids, reference §9).
ACTIVITY_TYPE_NAMES = {
    1: "Visit Webpage",
    2: "Fill Out Form",
    3: "Click Link",
    6: "Send Email",
    7: "Email Delivered",
    10: "Open Email",
    11: "Click Email",
    12: "New Lead",
    13: "Change Data Value",
    22: "Change Score",
    46: "Interesting Moment",
    104: "Change Status in Progression",
    145: "Push Lead to Marketo",
}
# Marketo's activity endpoints take at most 10 type ids per call.
ACTIVITY_TYPE_GROUP = 10
NUMERIC_TYPES = {"integer", "float", "currency", "score", "percent"}
BULK_WINDOW = timedelta(days=31)


def activity_type_groups(type_ids: Sequence[int] = SYNCED_ACTIVITY_TYPES) -> list[list[int]]:
    return [
        list(type_ids[i : i + ACTIVITY_TYPE_GROUP])
        for i in range(0, len(type_ids), ACTIVITY_TYPE_GROUP)
    ]


def watermark_names() -> list[str]:
    """The streams incremental sync reads from a paging-token watermark, in the order it reads."""
    groups = [f"activities:{index}" for index in range(len(activity_type_groups()))]
    return ["leadchanges", "deletedleads", *groups]


def windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Contiguous bulk-export windows ``[s, s + 31 d - 1 s]`` covering ``start``…``end``.

    Marketo takes date filters of at most 31 days and without milliseconds; one second between
    a window's end and the next one's start leaves neither a gap nor an overlap.
    """
    start = start.astimezone(UTC).replace(microsecond=0)
    while start <= end:
        stop = min(start + BULK_WINDOW - timedelta(seconds=1), end.astimezone(UTC))
        yield start, stop.replace(microsecond=0)
        start = start + BULK_WINDOW


def marketo_time(moment: datetime) -> str:
    """A Marketo filter datetime: UTC, no milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def typed(value: Any, data_type: str) -> Any:
    """A Marketo value as JSON for the mirror's ``attributes``: numbers and booleans typed."""
    if value is None or value == "" or value == "null":
        return None
    if data_type in NUMERIC_TYPES:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if data_type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        return {"true": True, "1": True, "false": False, "0": False}.get(text, str(value))
    return value if isinstance(value, str) else str(value)


def attributes_of(record: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    """The chosen attributes of a REST record, typed, without empty values."""
    values = {name: typed(record.get(name), data_type) for name, data_type in types.items()}
    return {name: value for name, value in values.items() if value is not None}


def cookie_tokens(value: Any) -> list[str]:
    """Munchkin cookie tokens from Marketo's ``cookies`` field (comma-separated)."""
    if not value or value == "null":
        return []
    return [token.strip() for token in str(value).split(",") if token.strip()]


def parse_time(value: Any) -> datetime | None:
    if not value or value == "null":
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # "+0000" → "+00:00"
    return datetime.fromisoformat(text)
