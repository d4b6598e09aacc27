"""Privacy requests: export everything held about a person, or erase it.

A subject is named by e-mail (matched case-insensitively, after trimming) or by a visitor id.
A visitor id brings in the e-mail that visitor gave, so both ways reach the same person: their
visitors (on every site, or on one), conversations and events, the meetings they booked, what is
queued for Marketo about them, and the synced Marketo lead rows with their e-mail (and those
leads' activities).

Erasing runs in one transaction that first locks the subject's visitor rows, so a conversation
request of the same visitor either finished before (and its writes are erased too) or finds no
visitor after. Meetings stay, without the person's name and e-mail, so calendars and the rotation
keep adding up. A tombstone (the e-mail's SHA-256) stops the sync from bringing the lead back;
nothing is deleted in Marketo itself. Both kinds of request are logged with the subject's hash
only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from dialogues import visitors as snapshots
from dialogues.models import Conversation, ConversationEvent, PrivacyRequest, Visitor
from dialogues.privacy_export import document
from dynchat.models import Site, User
from meetings.models import Meeting
from sync.loading import LEADS_LOCK
from sync.models import ErasedSubject, MarketoActivity, MarketoLead, OutboxMessage
from sync.outbox import cancel_for

logger = logging.getLogger("dialogues.privacy")


def normalised(value: str) -> str:
    return value.strip().lower()


def subject_hash(email_or_visitor_key: str) -> str:
    """SHA-256 (hex) of the lower-cased, trimmed e-mail or visitor id: what logs may keep."""
    return hashlib.sha256(normalised(email_or_visitor_key).encode()).hexdigest()


class NoSubject(ValueError):
    """Neither an e-mail nor a visitor id was given."""


@dataclass
class Subject:
    """Who a request is about: the e-mails (lower-cased) and visitors found, and their leads."""

    emails: set[str] = field(default_factory=set)
    visitor_ids: list[int] = field(default_factory=list)
    lead_ids: set[int] = field(default_factory=set)

    def visitors(self) -> Any:
        return Visitor.objects.filter(pk__in=self.visitor_ids).order_by("pk")

    def conversations(self) -> Any:
        return Conversation.objects.filter(visitor_id__in=self.visitor_ids)

    def meetings(self, visitor_keys: list[str], site: Site | None) -> Any:
        conversation_ids = list(self.conversations().values_list("pk", flat=True))
        who = Q(lead_email_lower__in=self.emails) | Q(conversation_id__in=conversation_ids)
        if visitor_keys:
            who |= Q(routing_detail__visitor__in=visitor_keys)
        found = Meeting.objects.alias(lead_email_lower=Lower("lead_email")).filter(who)
        return found.filter(site=site) if site is not None else found

    def outbox(self) -> Any:
        return OutboxMessage.objects.alias(email_lower=Lower("email")).filter(
            email_lower__in=self.emails
        )

    def leads(self) -> Any:
        return MarketoLead.objects.alias(email_lower=Lower("email")).filter(
            Q(email_lower__in=self.emails) | Q(pk__in=self.lead_ids)
        )


def _subject(
    email: str | None, visitor_key: str | None, site: Site | None, *, lock: bool
) -> Subject:
    """Find the subject; with ``lock``, their visitor rows stay locked until the transaction
    ends (visitors first, in id order: the order conversation requests lock them in)."""
    email, visitor_key = (email or "").strip(), (visitor_key or "").strip()
    if not email and not visitor_key:
        raise NoSubject("Give an e-mail address or a visitor id.")
    subject = Subject()
    scope = Visitor.objects.filter(site=site) if site is not None else Visitor.objects.all()
    if email:
        subject.emails.add(normalised(email))
    if visitor_key:
        for found_email, lead_id in scope.filter(key=visitor_key).values_list("email", "lead_id"):
            if found_email:
                subject.emails.add(normalised(found_email))
            if lead_id is not None:
                subject.lead_ids.add(lead_id)
    lead_rows = MarketoLead.objects.alias(email_lower=Lower("email")).filter(
        Q(email_lower__in=subject.emails) | Q(pk__in=subject.lead_ids)
    )
    for lead_id, lead_email in lead_rows.values_list("pk", "email"):
        subject.lead_ids.add(lead_id)
        if lead_email:
            subject.emails.add(normalised(lead_email))
    who = Q(email_lower__in=subject.emails) | Q(lead_id__in=subject.lead_ids)
    if visitor_key:
        who |= Q(key=visitor_key)
    found = scope.alias(email_lower=Lower("email")).filter(who).order_by("pk")
    if lock:
        found = found.select_for_update()
    subject.visitor_ids = list(found.values_list("pk", flat=True))
    return subject


def export(
    *,
    email: str | None = None,
    visitor_key: str | None = None,
    site: Site | None = None,
    by: User | None = None,
    via: str = "admin",
) -> dict[str, Any]:
    """Everything held about the subject, as JSON-serialisable data (see privacy_export.SCHEMA)."""
    subject = _subject(email, visitor_key, site, lock=False)
    visitor_rows = list(subject.visitors())
    keys = [visitor.key for visitor in visitor_rows]
    data = document(
        visitors=visitor_rows,
        conversations=list(subject.conversations().select_related("dialogue", "version")),
        events=list(
            ConversationEvent.objects.filter(conversation__visitor_id__in=subject.visitor_ids)
        ),
        meetings=list(subject.meetings(keys, site)),
        outbox=list(subject.outbox()),
        leads=list(subject.leads()),
        activities=list(MarketoActivity.objects.filter(lead_id__in=subject.lead_ids)),
    )
    summary = {name: len(data[name]) for name in ("visitors", "meetings", "outbox", "leads")}
    _log(PrivacyRequest.Kind.EXPORT, email, visitor_key, by, via, summary)
    return data


def erase(
    *,
    email: str | None = None,
    visitor_key: str | None = None,
    site: Site | None = None,
    by: User | None = None,
    via: str = "admin",
) -> dict[str, int]:
    """Erase the subject (see the module's docstring); returns what was erased, by kind.

    Idempotent: erasing again finds nothing and erases nothing (and is logged again).
    """
    with transaction.atomic():
        # Lead imports hold this lock (shared) per batch: they finish before, or run after and
        # see the tombstone.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEADS_LOCK])
        subject = _subject(email, visitor_key, site, lock=True)
        visitor_rows = list(subject.visitors().only("site_id", "key", "munchkin_cookie"))
        keys = [visitor.key for visitor in visitor_rows]
        lead_cookies = [
            cookie
            for cookies in subject.leads().values_list("cookies", flat=True)
            for cookie in cookies
        ]
        summary = {
            "meetings_anonymised": _anonymise_meetings(subject.meetings(keys, site)),
            "events": ConversationEvent.objects.filter(
                conversation__visitor_id__in=subject.visitor_ids
            ).delete()[0],
            "conversations": subject.conversations().delete()[0],
            "visitors": subject.visitors().delete()[0],
            "outbox_cancelled": sum(cancel_for(one) for one in sorted(subject.emails)),
        }
        summary["outbox_deleted"] = subject.outbox().delete()[0]
        summary["activities"] = MarketoActivity.objects.filter(
            lead_id__in=subject.lead_ids
        ).delete()[0]
        summary["leads"] = subject.leads().delete()[0]
        summary["tombstones"] = _tombstone(subject.emails, subject.lead_ids)
        for visitor in visitor_rows:
            snapshots.forget(visitor, cookies=lead_cookies)
        if lead_cookies:  # snapshots cached by the lead's cookie alone, on any site
            snapshots.forget_cookies(Site.objects.values_list("pk", flat=True), lead_cookies)
        _log(PrivacyRequest.Kind.ERASE, email, visitor_key, by, via, summary)
    return summary


def _tombstone(emails: set[str], lead_ids: set[int]) -> int:
    """Record the erased e-mails (hashed) and lead ids, adding to what an earlier erase kept."""
    for email in emails:
        tombstone, created = ErasedSubject.objects.select_for_update().get_or_create(
            email_hash=subject_hash(email), defaults={"lead_ids": sorted(lead_ids)}
        )
        if not created and not lead_ids <= set(tombstone.lead_ids):
            tombstone.lead_ids = sorted(lead_ids | set(tombstone.lead_ids))
            tombstone.save(update_fields=["lead_ids"])
    return len(emails)


def _anonymise_meetings(meetings: Any) -> int:
    """Meetings keep their slot, agent, status and the visitor's time zone; not the person."""
    changed = 0
    for meeting in meetings.select_for_update(of=("self",)).order_by("pk"):
        detail = {k: v for k, v in meeting.routing_detail.items() if k != "visitor"}
        if meeting.lead_email or meeting.lead_name or detail != meeting.routing_detail:
            meeting.lead_email, meeting.lead_name, meeting.routing_detail = "", "", detail
            meeting.save(update_fields=["lead_email", "lead_name", "routing_detail", "updated_at"])
            changed += 1
    return changed


def _log(
    kind: PrivacyRequest.Kind,
    email: str | None,
    visitor_key: str | None,
    by: User | None,
    via: str,
    summary: dict[str, int],
) -> None:
    digest = subject_hash(email or visitor_key or "")
    PrivacyRequest.objects.create(
        kind=kind, subject=digest, requested_by=by, via=via[:16], summary=summary
    )
    logger.info(
        "privacy %s: subject=%s via=%s by=%s %s",
        kind, digest[:16], via, by.pk if by else None,
        " ".join(f"{name}={count}" for name, count in sorted(summary.items())),
    )  # fmt: skip
