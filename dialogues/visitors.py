"""Who a visitor is and what they did before, as the decision needs it, cached per visitor.

A page view of an anonymous first-time visitor reads nothing (no visitor id, no cookie). A
returning visitor's snapshot (their conversations and their lead's facts) comes from the cache,
or from two indexed queries on a miss; a Munchkin cookie is one indexed lookup on the leads.
Anything that changes a visitor or their conversations calls ``forget`` in its transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction

from dialogues.decision import ANONYMOUS, Ongoing, VisitorState
from dialogues.models import Conversation, ConversationState, Visitor
from sync.fields import COMPANY_CORE, LEAD_CORE
from sync.models import MarketoCompany, MarketoLead

TIMEOUT = 300
_TRACKING_TOKEN = re.compile(r"(?:^|&)token:(_mch-[A-Za-z0-9._-]{1,200})")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A visitor as the decision sees them. ``visitor_id`` is None before their first chat."""

    visitor_id: int | None = None
    lead_id: int | None = None
    state: VisitorState = ANONYMOUS
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.facts.get("lead.email"))


NOBODY = Snapshot()


def munchkin_token(cookie: str) -> str:
    """The tracking token of a ``_mkto_trk`` cookie (``id:…&token:_mch-…``), or ""."""
    match = _TRACKING_TOKEN.search(cookie or "")
    return match.group(1) if match else ""


def _cache_key(site_id: int, visitor_key: str, token: str) -> str:
    digest = hashlib.blake2b(f"{visitor_key}\0{token}".encode(), digest_size=16).hexdigest()
    return f"dialogues:visitor:{site_id}:{digest}"


def snapshot(site_id: int, visitor_key: str = "", cookie: str = "") -> Snapshot:
    """The visitor with this first-party id and/or Munchkin cookie on this site."""
    token = munchkin_token(cookie)
    if not visitor_key and not token:
        return NOBODY
    key = _cache_key(site_id, visitor_key, token)
    cached = cache.get(key)
    if isinstance(cached, Snapshot):
        return cached
    loaded = load(site_id, visitor_key, token)
    cache.set(key, loaded, TIMEOUT)
    return loaded


def load(site_id: int, visitor_key: str, token: str) -> Snapshot:
    visitor = (
        Visitor.objects.filter(site_id=site_id, key=visitor_key).first() if visitor_key else None
    )
    lead_id = visitor.lead_id if visitor else None
    if lead_id is None:
        lead_id = lead_of_cookie(token)
    lead = MarketoLead.objects.filter(pk=lead_id).first() if lead_id is not None else None
    state = visitor_state(visitor) if visitor else ANONYMOUS
    return Snapshot(
        visitor_id=visitor.pk if visitor else None,
        lead_id=lead.pk if lead else None,
        state=state,
        facts=facts(lead, visitor),
    )


def lead_of_cookie(token: str) -> int | None:
    """The synced lead a Munchkin tracking token belongs to (the oldest, if several)."""
    if not token:
        return None
    found = MarketoLead.objects.filter(cookies__contains=[token]).order_by("id")
    return found.values_list("id", flat=True).first()


def facts_of(visitor: Visitor) -> dict[str, Any]:
    """A stored visitor's facts: their lead's, overlaid with what they told the chat."""
    lead = None
    if visitor.lead_id is not None:
        lead = MarketoLead.objects.filter(pk=visitor.lead_id).first()
    return facts(lead, visitor)


def visitor_state(visitor: Visitor) -> VisitorState:
    ongoing: dict[int, Ongoing] = {}
    completed: set[int] = set()
    rows = Conversation.objects.filter(visitor=visitor).values_list(
        "pk", "dialogue_id", "version_id", "dialogue__name", "state"
    )
    for pk, dialogue_id, version_id, name, state in rows:
        if state == ConversationState.COMPLETED:
            completed.add(dialogue_id)
        else:
            engaged = state == ConversationState.ENGAGED
            ongoing[dialogue_id] = Ongoing(pk, dialogue_id, version_id, name, engaged)
    return VisitorState(ongoing=ongoing, completed=frozenset(completed))


def facts(lead: MarketoLead | None, visitor: Visitor | None) -> dict[str, Any]:
    """Attribute values keyed as audiences and branches name them: ``lead.x``, ``company.x``.

    What the visitor told the chat wins over the synced lead (it is newer); the company is the
    lead's, by external company id.
    """
    values: dict[str, Any] = {}
    if lead is not None:
        values.update({f"lead.{name}": value for name, value in lead.attributes.items()})
        for rest_name, column in LEAD_CORE.items():
            value = getattr(lead, column)
            if value not in (None, "", []):
                values[f"lead.{rest_name}"] = value
        if lead.external_company_id:
            company = MarketoCompany.objects.filter(
                external_company_id=lead.external_company_id
            ).first()
            if company is not None:
                values.update(
                    {f"company.{name}": value for name, value in company.attributes.items()}
                )
                for rest_name, column in COMPANY_CORE.items():
                    value = getattr(company, column)
                    if value not in (None, ""):
                        values[f"company.{rest_name}"] = value
    if visitor is not None:
        values.update({f"lead.{name}": value for name, value in visitor.fields.items() if value})
        if visitor.email:
            values["lead.email"] = visitor.email
    return values


def forget(visitor: Visitor, *, cookies: Iterable[str] = ()) -> None:
    """Drop the visitor's cached snapshots now and again once the current transaction commits.

    Snapshots are cached by visitor id with and without the Munchkin cookie they came with;
    ``cookies``: other Munchkin cookies they may have been cached with (their lead's).
    """
    tokens = {"", visitor.munchkin_cookie, *cookies}
    _forget({_cache_key(visitor.site_id, visitor.key, token) for token in tokens})


def forget_cookies(site_ids: Iterable[int], cookies: Iterable[str]) -> None:
    """Drop the snapshots cached by Munchkin cookie alone on these sites (as ``forget`` does)."""
    _forget({_cache_key(site_id, "", token) for site_id in site_ids for token in cookies})


def _forget(keys: set[str]) -> None:
    if not keys:
        return
    ordered = sorted(keys)
    cache.delete_many(ordered)
    transaction.on_commit(lambda: cache.delete_many(ordered))
