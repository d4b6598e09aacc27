"""Demo data of the Marketo sync: the initial sync from the bundled sandbox, with useful fields.

`manage.py run` starts the Marketo sandbox (about 10,000 leads) and points Dynchat at it; this
starts the initial sync once, so the Marketo page fills while the user looks at it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from sync import services
from sync.errors import MarketoError
from sync.models import AttributeObject, SyncRun

logger = logging.getLogger("sync")

DEMO_ATTRIBUTES = {
    AttributeObject.PERSON: (
        "title", "phone", "city", "state", "country", "industry", "leadStatus", "leadSource",
        "productInterest", "customerTier",
    ),
    AttributeObject.COMPANY: ("industry", "numberOfEmployees", "annualRevenue", "billingCountry"),
}  # fmt: skip


def load_demo() -> dict[str, str]:
    """Start the initial sync if Marketo is configured and it never ran; say what happened."""
    if not settings.MARKETO_ENABLED:
        return {"marketo": "off"}
    if SyncRun.objects.exists():
        return {"marketo": "synced before"}
    try:
        offered = services.describe_attributes()
    except MarketoError as error:
        logger.warning("demo: Marketo is not reachable, no initial sync: %s", error)
        return {"marketo": f"unreachable: {error}"}
    chosen = [a for a in offered if a.name in DEMO_ATTRIBUTES[a.object]]
    now = timezone.now()
    services.start_initial_sync(
        chosen=chosen,
        offered=offered,
        leads_since=now - timedelta(days=400),
        activities_since=now - timedelta(days=121),
    )
    return {"marketo": "initial sync started"}
