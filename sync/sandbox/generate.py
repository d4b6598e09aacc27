"""Generated companies and leads: row ``i`` is a pure function of (seed, i), computed on demand.

Dates are spread evenly over the data set's days and grow with the id, so the rows of a date
window are found by arithmetic (``Timeline``) rather than by looking at every row. Leads belong
to companies by a modular permutation, so a company's leads are a ``range`` too.
"""

from __future__ import annotations

import re
from math import ceil, floor
from typing import Any

from sync.sandbox import names
from sync.sandbox.clock import DAY, iso, iso_date

M64 = 0xFFFF_FFFF_FFFF_FFFF
COOKIE_DOMAIN = "example.com"
# A lead's updatedAt is its createdAt plus at most this much (until something changes it).
MAX_UPDATE_LAG = 3 * DAY
# A Munchkin cookie is set at most this long before its lead becomes known.
MAX_COOKIE_LEAD = 3600
_COOKIE = re.compile(r"_mch-[^-]+(?:-[^-]+)*?-(\d{10,14})-\d{1,6}")
_EMAIL_ID = re.compile(r"(\d+)@")


def mix(x: int) -> int:
    """SplitMix64's finaliser: 64 well-mixed bits from any integer."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class Timeline:
    """Ids 1..count at whole-second times spread evenly from ``start`` over ``span`` seconds."""

    def __init__(self, count: int, start: int, span: int) -> None:
        self.count, self.start, self.span = count, start, max(1, span)

    def at(self, i: int) -> int:
        return self.start + ((i - 1) * self.span) // self.count

    def count_by(self, moment: float) -> int:
        """How many ids have a time at or before ``moment``."""
        offset = floor(moment) - self.start
        if offset < 0 or not self.count:
            return 0
        return min(self.count, -(-(offset + 1) * self.count // self.span))

    def ids_between(self, start: float, end: float) -> range:
        """Ids whose time t satisfies start <= t <= end."""
        return range(self.count_by(ceil(start) - 1) + 1, self.count_by(end) + 1)


class Companies:
    def __init__(self, count: int, seed: int, timeline: Timeline) -> None:
        self.count, self.timeline = count, timeline
        self.key = mix(seed * 0x2545F491 + 17)

    def domain(self, j: int) -> str:
        h = mix(self.key + j)
        prefix = names.COMPANY_PREFIXES[h % len(names.COMPANY_PREFIXES)]
        core = names.COMPANY_CORES[(h >> 8) % len(names.COMPANY_CORES)]
        tld = names.TLDS[(h >> 16) % len(names.TLDS)]
        return (prefix + core).lower().replace(" ", "") + tld

    def base(self, j: int) -> dict[str, Any]:
        h = mix(self.key + j)
        prefix = names.COMPANY_PREFIXES[h % len(names.COMPANY_PREFIXES)]
        core = names.COMPANY_CORES[(h >> 8) % len(names.COMPANY_CORES)]
        h2 = mix(h ^ 0x5BD1E995)
        industry, sic = names.INDUSTRIES[h2 % len(names.INDUSTRIES)]
        employees = _employees(h2 >> 8)
        revenue = float(employees * (80_000 + (h2 >> 24) % 220_000) // 1000 * 1000)
        street = (
            f"{1 + (h2 >> 40) % 9800} {names.STREETS[(h >> 24) % len(names.STREETS)]} "
            + (names.STREET_KINDS[(h >> 32) % len(names.STREET_KINDS)])
        )
        place = (h >> 40) % 100
        if place < 80:
            state, city, area, zip3, _ = names.US_PLACES[place % len(names.US_PLACES)]
            country, postal = "United States", f"{zip3}{(h2 >> 48) % 100:02d}"
            phone = f"+1 {area}-555-{(h >> 48) % 10000:04d}"
        else:
            country, state_or_none, city, prefix_no, postal_prefix, _ = names.WORLD_PLACES[
                place % len(names.WORLD_PLACES)
            ]
            state, postal = state_or_none or "", f"{postal_prefix}{(h2 >> 48) % 100:02d}"
            phone = f"{prefix_no} {(h >> 48) % 10000:04d} {(h2 >> 52) % 1000:03d}"
        created = self.timeline.at(j)
        return {
            "id": j,
            "externalCompanyId": f"ACCT-{j:06d}",
            "company": prefix + " " + core + names.COMPANY_SUFFIXES[(h >> 20) % 10],
            "website": "https://www." + self.domain(j),
            "industry": industry,
            "sicCode": sic,
            "numberOfEmployees": employees,
            "annualRevenue": revenue,
            "mainPhone": phone,
            "billingStreet": street,
            "billingCity": city,
            "billingState": state or None,
            "billingPostalCode": postal,
            "billingCountry": country,
            "createdAt": iso(created),
            "updatedAt": iso(created + (h2 >> 56) * 3600),
        }


def _employees(h: int) -> int:
    bands = (5, 12, 30, 60, 150, 400, 900, 2500, 7000, 20000, 60000)
    band = h % 1000
    index = 0 if band < 150 else 1 if band < 300 else min(10, 2 + (band - 300) // 90)
    low, high = bands[index], bands[min(index + 1, 10)] * 2
    return low + (h >> 10) % max(1, high - low)


def company_id_from_external(value: str) -> int | None:
    if value.startswith("ACCT-") and value[5:].isdigit():
        return int(value[5:])
    return None


class People:
    """Base leads 1..count, each belonging to one company (when there are companies)."""

    def __init__(self, count: int, seed: int, timeline: Timeline, companies: Companies) -> None:
        self.count, self.timeline, self.companies = count, timeline, companies
        self.key = mix(seed * 0x9E3779B1 + 3)
        self.end = timeline.start + timeline.span
        self.step = 7919 if companies.count % 7919 else 104_729
        self.inverse = pow(self.step, -1, companies.count) if companies.count > 1 else 0

    def company_of(self, i: int) -> int | None:
        if not self.companies.count:
            return None
        return 1 + ((i - 1) * self.step) % self.companies.count

    def ids_of_company(self, j: int) -> range:
        count = self.companies.count
        if not 1 <= j <= count:
            return range(0)
        first = 1 + ((j - 1) * self.inverse) % count if count > 1 else 1
        return range(first, self.count + 1, count)

    def ids_for_email(self, email: str) -> list[int]:
        match = _EMAIL_ID.search(email)
        return [int(match.group(1))] if match else []

    def ids_for_cookie(self, cookie: str) -> range:
        match = _COOKIE.fullmatch(cookie.strip())
        if not match:
            return range(0)
        set_at = int(match.group(1)) / 1000
        return self.timeline.ids_between(set_at, set_at + MAX_COOKIE_LEAD + 1)

    def base_times(self, i: int) -> tuple[int, int]:
        """(createdAt, updatedAt) of generated lead ``i``, cheaper than the whole row."""
        h2 = mix(self.key ^ (i << 20) ^ 0xA5A5)
        created = self.timeline.at(i)
        if h2 % 5 < 2:
            return created, created
        return created, created + min(max(0, self.end - created), h2 % (MAX_UPDATE_LAG + 1))

    def base(self, i: int, created: int | None = None) -> dict[str, Any]:
        """Lead ``i`` with every field; ``created`` places a lead made after the base set."""
        h1, h2 = mix(self.key + i), mix(self.key ^ (i << 20) ^ 0xA5A5)
        h3 = mix(h2 + 0x1234567)
        first = names.FIRST_NAMES[h1 % len(names.FIRST_NAMES)]
        last = names.LAST_NAMES[(h1 >> 8) % len(names.LAST_NAMES)]
        title, department = names.TITLES[(h1 >> 16) % len(names.TITLES)]
        j = self.company_of(i) if i <= self.count else 1 + (h3 % max(1, self.companies.count))
        if created is None:
            created, updated = self.base_times(i)
        else:
            updated = created
        lead: dict[str, Any] = {"id": i}
        if j is not None and self.companies.count:
            company = self.companies.base(j)
            domain = self.companies.domain(j)
            lead_company = {
                "company": company["company"],
                "website": company["website"],
                "industry": company["industry"],
                "numberOfEmployees": company["numberOfEmployees"],
                "annualRevenue": company["annualRevenue"],
                "sicCode": company["sicCode"],
                "mainPhone": company["mainPhone"],
                "billingCity": company["billingCity"],
                "billingState": company["billingState"],
                "billingCountry": company["billingCountry"],
            }
            external = company["externalCompanyId"]
        else:
            domain, external = "example.org", None
            lead_company = dict.fromkeys(_COMPANY_ON_LEAD)
        place = (h1 >> 24) % 100
        state: str | None
        if place < 75:
            state, city, area, zip3, zone = names.US_PLACES[place % len(names.US_PLACES)]
            country, postal = "United States", f"{zip3}{(h3 >> 8) % 100:02d}"
            phone = f"+1 {area}-555-{(h3 >> 16) % 10000:04d}"
            mobile = f"+1 {area}-555-{(h3 >> 30) % 10000:04d}"
        else:
            country, state, city, prefix, postal_prefix, zone = names.WORLD_PLACES[
                place % len(names.WORLD_PLACES)
            ]
            postal = f"{postal_prefix}{(h3 >> 8) % 100:02d}"
            phone = f"{prefix} {(h3 >> 16) % 10000:04d} {(h3 >> 30) % 1000:03d}"
            mobile = f"{prefix} 7{(h3 >> 40) % 1000:03d} {(h3 >> 50) % 1000:03d}"
        flags = h2 >> 20
        cookie = None
        if flags % 10 < 7:
            set_ms = created * 1000 - (h3 >> 12) % (MAX_COOKIE_LEAD * 1000)
            cookie = f"_mch-{COOKIE_DOMAIN}-{set_ms}-{(h3 >> 40) % 100000:05d}"
        unsubscribed = (flags >> 4) % 20 == 0
        do_not_call = (flags >> 9) % 33 == 0
        lead.update(
            email=f"{first.lower()}.{last.lower()}{i}@{domain}",
            firstName=first,
            middleName=None,
            lastName=last,
            salutation=("Dr." if (flags >> 14) % 40 == 0 else None),
            title=title,
            department=department,
            phone=phone,
            mobilePhone=mobile if (flags >> 20) % 10 < 3 else None,
            fax=None,
            **lead_company,
            address=(
                f"{1 + (h3 >> 20) % 9800} {names.STREETS[(h1 >> 32) % len(names.STREETS)]} "
                f"{names.STREET_KINDS[(h1 >> 40) % len(names.STREET_KINDS)]}"
                if (flags >> 24) % 10 < 6
                else None
            ),
            city=city,
            state=state,
            country=country,
            postalCode=postal,
            leadScore=(h1 >> 44) % 101,
            leadStatus=names.LEAD_STATUSES[(h1 >> 52) % len(names.LEAD_STATUSES)],
            leadSource=names.LEAD_SOURCES[(h2 >> 44) % len(names.LEAD_SOURCES)],
            leadRole=(names.LEAD_ROLES[(h2 >> 48) % 5] if (flags >> 28) % 2 else None),
            rating=(names.RATINGS[(h2 >> 52) % 3] if (flags >> 29) % 2 else None),
            doNotCall=do_not_call,
            doNotCallReason=(names.DO_NOT_CALL_REASONS[(h2 >> 56) % 3] if do_not_call else None),
            unsubscribed=unsubscribed,
            unsubscribedReason=(
                names.UNSUBSCRIBE_REASONS[(h3 >> 56) % 4] if unsubscribed else None
            ),
            emailInvalid=(flags >> 30) % 50 == 0,
            marketingSuspended=False,
            isAnonymous=False,
            cookies=cookie,
            externalCompanyId=external,
            acquisitionProgramId=(1001 + (h3 >> 4) % 3 if (flags >> 32) % 10 < 3 else None),
            originalSourceType=names.SOURCE_TYPES[(h3 >> 48) % len(names.SOURCE_TYPES)],
            personTimeZone=zone,
            createdAt=iso(created),
            updatedAt=iso(updated),
            productInterest=(
                names.PRODUCT_INTERESTS[(h3 >> 52) % 6] if (flags >> 34) % 10 < 6 else None
            ),
            customerTier=names.CUSTOMER_TIERS[(h1 >> 58) % 4],
            lastChatTopic=(names.CHAT_TOPICS[(h3 >> 58) % 8] if (flags >> 36) % 10 < 4 else None),
            preferredLanguage=names.LANGUAGES[(h2 >> 58) % len(names.LANGUAGES)],
            trialStartDate=(
                iso_date(created + ((h3 >> 4) % 30) * DAY) if (flags >> 38) % 5 == 0 else None
            ),
            seatsRequested=(5 * (1 + (h1 >> 36) % 40) if (flags >> 40) % 10 < 3 else None),
            npsScore=((h2 >> 36) % 11 if (flags >> 42) % 7 == 0 else None),
            marketingConsent=(flags >> 43) % 4 != 0,
            chatEngaged=(flags >> 44) % 3 == 0,
            lastMeetingBookedAt=(
                iso(created + (updated - created) // 2) if (flags >> 45) % 10 == 0 else None
            ),
        )
        return lead


_COMPANY_ON_LEAD = (
    "company",
    "website",
    "industry",
    "numberOfEmployees",
    "annualRevenue",
    "sicCode",
    "mainPhone",
    "billingCity",
    "billingState",
    "billingCountry",
)
