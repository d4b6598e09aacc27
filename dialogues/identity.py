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

from django.db.models.functions import Lower

from dialogues import visitors
from dialogues.models import Visitor
from sync.models import MarketoLead


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
