"""Query-count guards on the decide endpoint, the hottest path: a page view on a warm cache costs
no query at all, anonymous or known; a cold one a fixed handful, however many dialogues exist."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from dialogues import services
from dialogues.models import Conversation, Visitor
from dynchat.models import Site
from sync.models import MarketoCompany, MarketoLead
from tests.conftest import ALLOWED_ORIGIN

COOKIE = "id:123-ABC-456&token:_mch-a.example-1700000000000-12345"


def publish_many(site: Site, count: int) -> None:
    for number in range(count):
        dialogue = services.create_dialogue(
            site=site,
            name=f"D{number}",
            priority=number + 1,
            flow={
                "version": 1,
                "start": "hi",
                "cards": {
                    "hi": {"type": "message", "text": 'Hi {{lead.firstName:"there"}}', "next": "e"},
                    "e": {"type": "end"},
                },
            },
            targeting={
                "include": [f"{ALLOWED_ORIGIN}/*"],
                "exclude": [],
                "audience": [
                    {
                        "match": "all",
                        "conditions": [
                            {"attribute": "company.industry", "operator": "is", "value": "Retail"}
                        ],
                    }
                ]
                if number % 2
                else [],
                "trigger": {"kind": "immediately", "amount": 0},
            },
        )
        services.publish(dialogue)


def view(client: Client, site: Site, **params: str) -> Any:
    response = client.get(
        reverse("widget:decide"),
        {"site": site.key, "url": f"{ALLOWED_ORIGIN}/pricing", **params},
        headers={"Origin": ALLOWED_ORIGIN},
    )
    assert response.status_code == 200
    return response.json()


def test_an_anonymous_page_view_costs_two_queries_cold_and_none_warm(
    client: Client, site: Site, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    publish_many(site, 10)
    with django_assert_num_queries(2):  # the site; its published dialogues with their versions
        assert view(client, site)["outcome"] == "show"
    with django_assert_num_queries(0):
        view(client, site)


def test_a_returning_visitor_costs_their_snapshot_once_then_nothing(
    client: Client, site: Site, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    publish_many(site, 3)
    view(client, site)  # warm the site
    with django_assert_num_queries(1):  # unknown visitor id: one indexed lookup, nothing found
        view(client, site, visitor="returning-visitor-00001")
    with django_assert_num_queries(0):
        view(client, site, visitor="returning-visitor-00001")


def test_a_munchkin_cookie_finds_the_synced_lead_and_their_company_for_targeting(
    client: Client, site: Site, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    publish_many(site, 2)  # D0 for everyone (P1), D1 for retail companies (P2)
    MarketoCompany.objects.create(id=7, external_company_id="ACME", industry="Retail")
    MarketoLead.objects.create(
        id=42,
        email="ann@example.com",
        first_name="Ann",
        external_company_id="ACME",
        cookies=["_mch-a.example-1700000000000-12345"],
    )
    view(client, site)
    with django_assert_num_queries(3):  # lead by cookie, the lead, its company
        decision = view(client, site, mkto=COOKIE)
    assert decision["dialogue"]["poke"] == "Hi Ann"
    with django_assert_num_queries(0):
        view(client, site, mkto=COOKIE)


def test_a_visitor_with_conversations_costs_a_bounded_number_of_queries(
    client: Client, site: Site, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    publish_many(site, 5)
    visitor = Visitor.objects.create(site=site, key="busy-visitor-0000000001")
    for dialogue in site.dialogues.all():
        Conversation.objects.create(
            visitor=visitor, dialogue=dialogue, version=dialogue.versions.get(), state="completed"
        )
    view(client, site)
    with django_assert_num_queries(2):  # the visitor; their conversations
        assert view(client, site, visitor=visitor.key)["dialogue"] is None
    with django_assert_num_queries(0):
        view(client, site, visitor=visitor.key)
