"""A marketer adds a site, gets its key and install snippet, and switches chat on and off."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from dynchat.models import Site
from tests.widget.configuration import configuration_form


def test_the_configuration_page_invites_to_add_a_site(marketer_client: Client) -> None:
    html = marketer_client.get(reverse("widget:sites")).content.decode()
    assert "Add your website" in html
    assert reverse("widget:site-create") in html


def test_a_marketer_creates_a_site_and_gets_its_snippet(marketer_client: Client) -> None:
    response = marketer_client.post(
        reverse("widget:site-create"),
        {"name": "Acme", "allowed_origins": "https://WWW.acme.example/\nhttps://acme.example\n\n"},
    )
    site = Site.objects.get()
    assert response["Location"] == reverse("widget:site-detail", args=[site.pk])
    assert site.allowed_origins == ["https://www.acme.example", "https://acme.example"]
    assert site.chat_enabled
    assert len(site.key) >= 20

    html = marketer_client.get(response["Location"]).content.decode()
    snippet = f'<script async src="https://testserver/widget.js" data-site="{site.key}"></script>'
    assert snippet.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") in html
    assert "created. Copy its snippet" in html


def test_sites_get_distinct_unguessable_keys(marketer_client: Client) -> None:
    for name in ("One", "Two", "Three"):
        marketer_client.post(reverse("widget:site-create"), {"name": name, "allowed_origins": ""})
    keys = set(Site.objects.values_list("key", flat=True))
    assert len(keys) == 3


def test_bad_origins_are_explained_and_nothing_is_saved(marketer_client: Client) -> None:
    response = marketer_client.post(
        reverse("widget:site-create"),
        {"name": "Acme", "allowed_origins": "https://acme.example/pricing\nacme.example"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "must be an origin only, without a path" in html
    assert "must start with https:// or http://" in html
    assert not Site.objects.exists()


def test_at_most_twenty_origins(marketer_client: Client) -> None:
    origins = "\n".join(f"https://s{n}.example" for n in range(21))
    response = marketer_client.post(
        reverse("widget:site-create"), {"name": "Big", "allowed_origins": origins}
    )
    assert "At most 20 origins per site." in response.content.decode()


def test_a_site_without_origins_warns_that_the_widget_loads_nowhere(
    marketer_client: Client,
) -> None:
    marketer_client.post(reverse("widget:site-create"), {"name": "Acme", "allowed_origins": ""})
    html = marketer_client.get(reverse("widget:sites")).content.decode()
    assert "none: the widget loads nowhere" in html


def test_editing_a_site_keeps_its_key(marketer_client: Client, site: Site) -> None:
    key = site.key
    marketer_client.post(
        reverse("widget:site-detail", args=[site.pk]),
        configuration_form(site, name="Renamed", allowed_origins="https://b.example"),
    )
    site.refresh_from_db()
    assert (site.name, site.allowed_origins, site.key) == ("Renamed", ["https://b.example"], key)


def test_the_configuration_page_shows_origins_one_per_line(marketer_client: Client) -> None:
    site = Site.objects.create(
        name="Two", allowed_origins=["https://a.example", "https://b.example"]
    )
    html = marketer_client.get(reverse("widget:site-detail", args=[site.pk])).content.decode()
    assert "https://a.example\nhttps://b.example</textarea>" in html


def test_the_old_edit_address_leads_to_the_origins_section(
    marketer_client: Client, site: Site
) -> None:
    response = marketer_client.get(reverse("widget:site-edit", args=[site.pk]))
    assert response["Location"] == reverse("widget:site-detail", args=[site.pk]) + "#origins"


def test_chat_is_switched_off_by_htmx_with_just_the_switch_redrawn(
    marketer_client: Client, site: Site
) -> None:
    response = marketer_client.post(
        reverse("widget:site-chat-enabled", args=[site.pk]), {}, headers={"HX-Request": "true"}
    )
    site.refresh_from_db()
    html = response.content.decode()
    assert not site.chat_enabled
    assert html.lstrip().startswith('<form id="chat-switch"')
    assert "no visitor sees any dialogue" in html


def test_chat_is_switched_on_without_javascript_too(marketer_client: Client) -> None:
    site = Site.objects.create(name="Off", chat_enabled=False)
    response = marketer_client.post(
        reverse("widget:site-chat-enabled", args=[site.pk]), {"chat_enabled": "on"}
    )
    site.refresh_from_db()
    assert site.chat_enabled
    assert response["Location"] == reverse("widget:site-detail", args=[site.pk])


def test_the_switch_only_takes_posts(marketer_client: Client, site: Site) -> None:
    response = marketer_client.get(reverse("widget:site-chat-enabled", args=[site.pk]))
    assert response.status_code == 405


def test_the_sites_list_costs_one_query(
    marketer_client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for n in range(10):
        Site.objects.create(name=f"S{n}", allowed_origins=[f"https://s{n}.example"])
    with django_assert_max_num_queries(3):  # session, user, sites
        response = marketer_client.get(reverse("widget:sites"))
    assert response.content.decode().count("https://s") == 10
