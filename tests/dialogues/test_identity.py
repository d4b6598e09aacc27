"""Real-time lead resolution when a visitor types an e-mail (reference §2, "Identity" rows)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from dialogues import visitors
from dialogues.identity import identify_by_email
from dialogues.models import Visitor
from dynchat.models import Site
from sync.models import MarketoLead

KEY = "visitor-0123456789abcdef"


def visitor(site: Site, **fields: Any) -> Visitor:
    return Visitor.objects.create(site=site, key=KEY, **fields)


def lead(id: int, email: str, **fields: Any) -> MarketoLead:
    return MarketoLead.objects.create(id=id, email=email, **fields)


def identified(someone: Visitor, email: str) -> Visitor:
    identify_by_email(someone, email)
    return Visitor.objects.get(pk=someone.pk)


def test_an_anonymous_visitor_with_a_new_email_becomes_a_new_person(site: Site) -> None:
    lead(1, "someone.else@example.com")
    found = identified(visitor(site), "new@example.com")
    assert found.lead_id is None
    assert found.email == "new@example.com"


def test_an_anonymous_visitor_with_a_known_email_is_that_lead_whatever_the_case(
    site: Site,
) -> None:
    lead(3, "Ada@Example.com")
    found = identified(visitor(site), "  ada@EXAMPLE.com ")
    assert found.lead_id == 3
    assert found.email == "ada@EXAMPLE.com"


def test_several_leads_with_the_email_resolve_to_the_oldest(site: Site) -> None:
    lead(9, "ada@example.com")
    lead(4, "ADA@example.com")
    lead(6, "ada@example.com")
    assert identified(visitor(site), "ada@example.com").lead_id == 4


def test_a_known_visitor_giving_the_same_email_stays_the_same_person(site: Site) -> None:
    lead(2, "ada@example.com")
    lead(8, "ada@example.com")  # a duplicate Marketo has not merged yet
    found = identified(visitor(site, lead_id=8), "Ada@example.com")
    assert found.lead_id == 8
    assert found.email == "Ada@example.com"


def test_a_known_visitor_giving_another_known_email_moves_to_that_lead(site: Site) -> None:
    lead(2, "ada@example.com")
    lead(5, "grace@example.com")
    found = identified(visitor(site, lead_id=2, email="ada@example.com"), "grace@example.com")
    assert found.lead_id == 5


def test_a_known_visitor_giving_a_new_email_becomes_a_new_person(site: Site) -> None:
    lead(2, "ada@example.com")
    found = identified(visitor(site, lead_id=2), "fresh@example.com")
    assert found.lead_id is None
    assert found.email == "fresh@example.com"


def test_a_new_person_is_resolved_once_their_lead_has_synced(site: Site) -> None:
    someone = visitor(site, email="new@example.com")
    lead(11, "new@example.com")
    assert identified(someone, "new@example.com").lead_id == 11


def test_the_cached_snapshot_is_forgotten(
    site: Site,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
) -> None:
    lead(3, "ada@example.com", first_name="Ada")
    someone = visitor(site)
    assert visitors.snapshot(site.pk, KEY).lead_id is None  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        identify_by_email(someone, "ada@example.com")
    snapshot = visitors.snapshot(site.pk, KEY)
    assert snapshot.lead_id == 3
    assert snapshot.facts["lead.firstName"] == "Ada"


@pytest.mark.parametrize("email", ["ada@example.com", "x@example.com"])
def test_the_visitors_cookie_stays_with_the_visitor(site: Site, email: str) -> None:
    lead(3, "ada@example.com", cookies=["_mch-other"])
    found = identified(visitor(site, munchkin_cookie="_mch-mine"), email)
    assert found.munchkin_cookie == "_mch-mine"
