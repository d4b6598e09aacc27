"""Who a visitor is once they type an e-mail in chat: real-time lead resolution.

The rules are Dynamic Chat's (reference/dynamic-chat.md §2, "Identity"), on our Visitor, whose
Munchkin cookie stays with it: "moving the cookie" to a person is pointing ``lead_id`` at them.

- Anonymous visitor, e-mail unknown → a new person (``lead_id`` None until the pushed lead syncs).
- Anonymous visitor, e-mail of a known lead → that lead. Several leads with the e-mail → the
  oldest (lowest id), which is the one Marketo keeps when it merges them.
- Known visitor, same e-mail → the same person, updated.
- Known visitor, another e-mail → the lead with that e-mail if there is one, else a new person.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from dialogues import visitors
from dialogues.models import Visitor
from sync.models import MarketoLead

security = logging.getLogger("dynchat.security")

# A signed identity is good for a day (TESTPLAN W-12), and a clock a little ahead is forgiven.
IDENTITY_MAX_AGE = timedelta(hours=24)
IDENTITY_CLOCK_SKEW = timedelta(minutes=5)


def lead_with_email(email: str) -> int | None:
    """The id of the lead with this e-mail (any case); the oldest when several have it."""
    return (
        MarketoLead.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=email.strip().lower())
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def current_email(visitor: Visitor) -> str:
    """The e-mail the visitor is known by: the one they typed, else their lead's."""
    if visitor.email:
        return visitor.email
    if visitor.lead_id is None:
        return ""
    found = MarketoLead.objects.filter(pk=visitor.lead_id).values_list("email", flat=True).first()
    return found or ""


def identify_by_email(visitor: Visitor, email: str) -> None:
    """Resolve ``visitor`` to the person with ``email`` and remember the e-mail on them."""
    email = email.strip()
    same_person = current_email(visitor).lower() == email.lower()
    if not (same_person and visitor.lead_id is not None):
        visitor.lead_id = lead_with_email(email)
    visitor.email = email
    visitor.save(update_fields=["lead_id", "email"])
    visitors.forget(visitor)


def identity_hash(secret: str, email: str, ts: int) -> str:
    """What the customer's server sends with Dynchat('identify'): HMAC-SHA256 of "email:ts"
    (ts in Unix seconds) with the site's identity secret, in hex."""
    message = f"{email}:{ts}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def identity_is_genuine(secret: str, email: str, ts: int, digest: str, now: datetime) -> bool:
    """Whether ``digest`` signs ``email`` at ``ts`` with ``secret``, and ``ts`` is recent."""
    signed_at = datetime.fromtimestamp(ts, tz=now.tzinfo)
    if not now - IDENTITY_MAX_AGE <= signed_at <= now + IDENTITY_CLOCK_SKEW:
        return False
    return hmac.compare_digest(identity_hash(secret, email, ts), digest.lower())


@transaction.atomic
def identify_signed(
    *, site_id: int, secret: str, visitor_key: str, email: str, ts: int, digest: str
) -> bool:
    """The host page says who the visitor is, signed by its server: resolve them to that person.

    Anything not signed, signed wrongly or signed over a day ago is ignored (the visitor stays who
    they were: never merged into the lead the e-mail names), logged, and answered False.
    """
    if not identity_is_genuine(secret, email, ts, digest, timezone.now()):
        security.warning("unsigned or stale identity refused: site=%s", site_id)
        return False
    visitor, _ = Visitor.objects.get_or_create(site_id=site_id, key=visitor_key)
    identify_by_email(Visitor.objects.select_for_update().get(pk=visitor.pk), email)
    return True


@transaction.atomic
def withdraw_visitor(*, site_id: int, visitor_key: str) -> None:
    """The visitor withdrew consent (the host's consent banner or Dynchat('consent.revoke')):
    their conversation tokens stop working and their browser id no longer finds them.
    What they said is kept until erased (privacy requests) or purged (retention)."""
    visitor = Visitor.objects.select_for_update().filter(site_id=site_id, key=visitor_key).first()
    if visitor is not None:
        visitors.forget(visitor)
        visitor.withdraw()
        security.info("visitor withdrew consent: visitor=%s site=%s", visitor.pk, site_id)
