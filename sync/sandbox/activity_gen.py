"""Generated activities: activity ``k`` is a pure function of (seed, k).

Each standard type has a pool of 256 pre-rendered variants (page, email, form, attribute JSON),
so writing a bulk export row costs two hashes and a tuple, not a JSON encoding.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from sync.sandbox import names
from sync.sandbox.clock import iso
from sync.sandbox.fields import LEAD_FIELD
from sync.sandbox.generate import Timeline, mix

# (type id, weight out of 256)
WEIGHTS = (
    (1, 78),
    (6, 30),
    (7, 28),
    (10, 26),
    (11, 10),
    (2, 8),
    (3, 8),
    (12, 13),
    (13, 20),
    (22, 20),
    (46, 8),
    (104, 5),
    (145, 2),
)
TYPE_TABLE = tuple(type_id for type_id, weight in WEIGHTS for _ in range(weight))
BASE_TYPES = frozenset(type_id for type_id, _ in WEIGHTS)
assert len(TYPE_TABLE) == 256  # noqa: S101 - a broken table is a programming error
VARIANTS = 256
CHANGE_FIELDS = (
    "title",
    "phone",
    "leadStatus",
    "city",
    "customerTier",
    "productInterest",
    "lastChatTopic",
    "rating",
    "leadRole",
    "department",
)


@dataclass(frozen=True, slots=True)
class Variant:
    campaign_id: int | None
    value_id: int | None
    value: str | None
    attributes: tuple[tuple[str, Any], ...]
    changes: tuple[dict[str, Any], ...]  # Change Data Value: [{id, name, newValue, oldValue}]
    csv_tail: tuple[str, ...]  # activityTypeId .. attributes, as bulk export cells


def _ip(rng: random.Random) -> str:
    return f"{rng.choice((23, 34, 52, 66, 73, 98, 104, 151, 185))}.{rng.randrange(256)}." + (
        f"{rng.randrange(256)}.{rng.randrange(1, 255)}"
    )


def _attributes(type_id: int, rng: random.Random) -> tuple[Any, ...]:
    """(campaign id, primary value id, primary value, attributes, changes) of one variant."""
    agent = rng.choice(names.USER_AGENTS)
    if type_id == 1:
        page_index = rng.randrange(len(names.PAGES))
        page = names.PAGES[page_index]
        query = rng.choice(("", "", "utm_source=google&utm_medium=cpc", "utm_campaign=newsletter"))
        attrs: dict[str, Any] = {
            "Client IP Address": _ip(rng),
            "Query Parameters": query,
            "Referrer URL": rng.choice(names.REFERRERS),
            "User Agent": agent,
            "Webpage URL": page,
        }
        return None, 100 + page_index, names.SITE + page, attrs, ()
    if type_id == 2:
        form_id, form = rng.choice(names.FORMS)
        fields = json.dumps({"FirstName": rng.choice(names.FIRST_NAMES), "formid": form_id})
        attrs = {
            "Client IP Address": _ip(rng),
            "Form Fields": fields,
            "Query Parameters": "",
            "Referrer URL": rng.choice(names.REFERRERS),
            "User Agent": agent,
            "Webpage ID": 100 + rng.randrange(len(names.PAGES)),
        }
        return None, form_id, f"LP {form}", attrs, ()
    if type_id == 3:
        link = rng.randrange(len(names.PAGES))
        attrs = {
            "Client IP Address": _ip(rng),
            "Link URL": f"https://{names.SITE}" + names.PAGES[link],
            "User Agent": agent,
        }
        return None, 500 + link, names.SITE + names.PAGES[link], attrs, ()
    if type_id in (6, 7, 10, 11):
        mailing, email = rng.choice(names.EMAILS)
        campaign = rng.choice(names.CAMPAIGNS)[0]
        attrs = {
            "Campaign Run ID": rng.randrange(10_000, 99_999),
            "Step ID": rng.randrange(1, 9),
            "Choice Number": 0,
        }
        if type_id in (10, 11):
            mobile = rng.random() < 0.4
            attrs = {
                "Device": "Mobile" if mobile else "Desktop",
                "Is Mobile Device": mobile,
                "Platform": rng.choice(("Windows", "Mac OS", "iOS", "Android")),
                "User Agent": agent,
            }
            if type_id == 11:
                attrs["Link"] = f"https://{names.SITE}" + rng.choice(names.PAGES)
        return campaign, mailing, f"{email}.{rng.choice(('Email', 'Email B'))}", attrs, ()
    if type_id == 12:
        source = rng.choice(names.SOURCE_TYPES)
        attrs = {"Source Type": source, "Lead Source": rng.choice(names.LEAD_SOURCES)}
        if source == "Web form fillout":
            attrs["Form Name"] = rng.choice(names.FORMS)[1]
        return None, None, None, attrs, ()
    if type_id == 13:
        name = rng.choice(CHANGE_FIELDS)
        field = LEAD_FIELD[name]
        old, new = rng.sample(change_values(name), 2)
        attrs = {
            "New Value": new,
            "Old Value": old,
            "Reason": rng.choice(
                ("Web service API", "Form fill", "Data hygiene campaign", "List import")
            ),
            "Source": rng.choice(("Web service API", "Marketo Flow Action", "Web form fillout")),
        }
        changes = ({"id": field.id, "name": name, "newValue": new, "oldValue": old},)
        return rng.choice(names.CAMPAIGNS)[0], field.id, field.display, attrs, changes
    if type_id == 22:
        change = rng.choice((5, 10, 15, -5, 20, 3))
        score = rng.randrange(0, 80)
        attrs = {
            "Change Value": f"{change:+d}",
            "Old Value": score,
            "New Value": score + change,
            "Reason": rng.choice(
                ("Visited pricing page", "Opened email", "Filled out form", "Score decay")
            ),
        }
        return rng.choice(names.CAMPAIGNS)[0], 1, "Behavior Score", attrs, ()
    if type_id == 46:
        attrs = {
            "Description": rng.choice(names.MOMENTS),
            "Source": "Smart Campaign",
            "Type": rng.choice(("Web", "Email", "Milestone")),
        }
        return rng.choice(names.CAMPAIGNS)[0], None, attrs["Description"], attrs, ()
    if type_id == 104:
        steps = ("Not in Program", "Engaged", "Influenced", "Meeting Booked")
        step = rng.randrange(1, len(steps))
        attrs = {
            "Old Status": steps[step - 1],
            "New Status": steps[step],
            "New Status ID": 40 + step,
            "Success": step == 3,
            "Acquired By": step == 1,
            "Program Member ID": rng.randrange(1000, 999_999),
        }
        return None, 1001, "Dynchat", attrs, ()
    attrs = {
        "Reason": rng.choice(("Booked meeting", "Captured in chat", "Form fill")),
        "Source": rng.choice(("Dynamic Chat", "Website", "Partner portal")),
    }
    return None, None, None, attrs, ()


def change_values(name: str) -> list[str]:
    pools: dict[str, tuple[str, ...]] = {
        "title": tuple(title for title, _ in names.TITLES[:12]),
        "department": ("Marketing", "Sales", "Engineering", "IT", "Finance", "Operations"),
        "leadStatus": names.LEAD_STATUSES[1:],
        "city": tuple(place[1] for place in names.US_PLACES[:10]),
        "customerTier": names.CUSTOMER_TIERS,
        "productInterest": names.PRODUCT_INTERESTS,
        "lastChatTopic": names.CHAT_TOPICS,
        "rating": names.RATINGS,
        "leadRole": names.LEAD_ROLES,
    }
    return list(pools.get(name, ("+1 415-555-0100", "+1 415-555-0199", "+1 212-555-0142")))


def _variant(type_id: int, rng: random.Random) -> Variant:
    campaign, value_id, value, attrs, changes = _attributes(type_id, rng)
    attributes = tuple((k, v) for k, v in attrs.items() if v not in ("", None))
    attributes_json = json.dumps(dict(attributes), separators=(",", ":"))

    def cell(x: object) -> str:
        return "null" if x is None else str(x)

    tail = (str(type_id), cell(campaign), cell(value_id), cell(value), attributes_json)
    return Variant(campaign, value_id, value, attributes, changes, tail)


def build_pools(seed: int) -> dict[int, tuple[Variant, ...]]:
    rng = random.Random(f"marketo-activities-{seed}")  # noqa: S311 - test data, not secrets
    return {t: tuple(_variant(t, rng) for _ in range(VARIANTS)) for t in sorted(BASE_TYPES)}


class ActivityGenerator:
    """Base activities 1..count; activity k's lead was created at or before its date."""

    def __init__(self, count: int, seed: int, timeline: Timeline, leads: Timeline) -> None:
        self.count, self.timeline, self.leads = count, timeline, leads
        self.key = mix(seed * 0x632BE59B + 11)
        self.pools = build_pools(seed)

    def type_of(self, k: int) -> int:
        return TYPE_TABLE[mix(self.key + k) & 0xFF]

    def parts(self, k: int) -> tuple[int, int, int, Variant]:
        """(lead id, date, type id, variant) of activity k."""
        h = mix(self.key + k)
        type_id = TYPE_TABLE[h & 0xFF]
        date = self.timeline.at(k)
        known = self.leads.count_by(date) or self.leads.count
        return 1 + (h >> 16) % known, date, type_id, self.pools[type_id][(h >> 8) & 0xFF]

    def csv_rows(self, ids: range, type_ids: frozenset[int] | None) -> list[tuple[str, ...]]:
        """Bulk export rows (default columns plus actionResult) of the activities in ``ids``."""
        key, table, pools, at = self.key, TYPE_TABLE, self.pools, self.timeline.at
        count_by, lead_total = self.leads.count_by, self.leads.count
        rows = []
        for k in ids:
            h = mix(key + k)
            type_id = table[h & 0xFF]
            if type_ids is not None and type_id not in type_ids:
                continue
            date = at(k)
            known = count_by(date) or lead_total
            tail = pools[type_id][(h >> 8) & 0xFF].csv_tail
            rows.append((str(k), str(1 + (h >> 16) % known), iso(date), *tail, "succeeded"))
        return rows
