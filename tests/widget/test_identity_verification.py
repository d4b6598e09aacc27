"""W-12: a site verifying identity trusts Dynchat('identify') only with its server's signature."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dialogues.identity import identity_hash
from dialogues.models import Visitor
from dynchat.models import Site
from sync.models import MarketoLead
from tests.conftest import ALLOWED_ORIGIN
from tests.widget.api import capture, published, send, start, visitor_key

IDENTIFY = reverse("widget:identify")
EMAIL = "ada@example.com"
DAY = 24 * 3600


@pytest.fixture
def lead(db: None) -> MarketoLead:
    return MarketoLead.objects.create(id=42, email=EMAIL, first_name="Ada")


@pytest.fixture
def verifying(site: Site) -> Site:
    site.verify_identity = True
    site.save()
    return site


def identify(client: Client, site: Site, visitor: str, **fields: Any) -> Any:
    body = {"site": site.key, "visitor": visitor, "email": EMAIL, **fields}
    return client.post(
        IDENTIFY, body, content_type="application/json", headers={"Origin": ALLOWED_ORIGIN}
    )


def signed(site: Site, *, age: int = 0, secret: str | None = None) -> dict[str, Any]:
    ts = int(time.time()) - age
    return {"ts": ts, "hash": identity_hash(secret or site.identity_secret, EMAIL, ts)}


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda site: {"ts": int(time.time())}, id="no hash"),
        pytest.param(lambda site: signed(site, secret="not the site's secret"), id="wrong hash"),
        pytest.param(lambda site: signed(site, age=DAY + 60), id="older than a day"),
    ],
)
def test_an_unsigned_wrong_or_stale_identity_leaves_the_visitor_anonymous(
    client: Client, verifying: Site, lead: MarketoLead, signature: Any
) -> None:
    visitor = visitor_key(1)
    response = identify(client, verifying, visitor, **signature(verifying))
    assert response.status_code == 200
    assert response.json() == {"identified": False}
    # Never merged into the lead the e-mail names.
    assert not Visitor.objects.filter(lead_id=lead.pk).exists()


def test_a_valid_signature_makes_the_visitor_that_person(
    client: Client, verifying: Site, lead: MarketoLead
) -> None:
    visitor = visitor_key(1)
    response = identify(client, verifying, visitor, **signed(verifying, age=DAY - 60))
    assert response.json() == {"identified": True}
    assert Visitor.objects.get(key=visitor).lead_id == lead.pk


def test_a_site_that_does_not_verify_identity_ignores_identify(
    client: Client, site: Site, lead: MarketoLead
) -> None:
    response = identify(client, site, visitor_key(1), **signed(site))
    assert response.json() == {"identified": False}
    assert not Visitor.objects.filter(lead_id=lead.pk).exists()


def test_a_verified_identity_never_shows_another_browsers_transcript(
    client: Client, verifying: Site, lead: MarketoLead
) -> None:
    """The same person on a second browser starts their own conversation: no transcript leaks
    from the first browser's, whoever the two turn out to be."""
    version = published(verifying)
    first = start(client, version, visitor_key(1))
    send(client, first, [capture(EMAIL)])
    identify(client, verifying, visitor_key(2), **signed(verifying))
    second = start(client, version, visitor_key(2))
    assert second.status_code == 201
    assert second.json()["conversation"]["transcript"] == []
