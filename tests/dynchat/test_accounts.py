"""Sign in, sign out, change password; users and their roles."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from dynchat.models import Role, User

PASSWORD = "correct horse battery"


def test_signing_in_takes_you_where_you_were_going(client: Client, marketer: User) -> None:
    response = client.post(
        reverse("dynchat:login") + "?next=/meetings/",
        {"username": "MAYA@example.com ", "password": PASSWORD, "next": "/meetings/"},
    )
    assert response["Location"] == "/meetings/"


def test_signing_in_never_redirects_to_another_site(client: Client, marketer: User) -> None:
    response = client.post(
        reverse("dynchat:login"),
        {"username": marketer.email, "password": PASSWORD, "next": "https://evil.test/"},
    )
    assert response["Location"] == reverse("dynchat:home")


def test_signed_in_users_skip_the_login_page(marketer_client: Client) -> None:
    assert marketer_client.get(reverse("dynchat:login")).status_code == 302


def test_signing_out_takes_a_post_and_ends_the_session(marketer_client: Client) -> None:
    assert marketer_client.get(reverse("dynchat:logout")).status_code == 405
    response = marketer_client.post(reverse("dynchat:logout"))
    assert response["Location"] == reverse("dynchat:login")
    assert marketer_client.get(reverse("dialogues:list")).status_code == 302


def test_changing_the_password(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    response = client.post(
        reverse("dynchat:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much better passphrase",
            "new_password2": "a much better passphrase",
        },
    )
    assert response["Location"] == reverse("dynchat:password-change-done")
    agent.refresh_from_db()
    assert agent.check_password("a much better passphrase")
    assert client.get(reverse("meetings:list")).status_code == 200, "still signed in"


def test_a_short_or_common_password_is_refused(agent_client: Client, agent: User) -> None:
    response = agent_client.post(
        reverse("dynchat:password-change"),
        {"old_password": PASSWORD, "new_password1": "password123", "new_password2": "password123"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "at least 12 characters" in html
    assert "too common" in html


def test_emails_are_unique_whatever_their_case(db: None) -> None:
    User.objects.create_user("Maya@Example.com", PASSWORD)
    with pytest.raises(IntegrityError):
        User.objects.create(email="maya@example.COM")


def test_createsuperuser_makes_a_marketer(db: None) -> None:
    user = User.objects.create_superuser("root@example.com", PASSWORD)
    assert user.role == Role.MARKETER
    assert user.email == "root@example.com"


def test_new_users_are_agents_in_utc_by_default(db: None) -> None:
    user = User.objects.create_user("new@example.com", PASSWORD)
    assert (user.role, user.time_zone, user.is_marketer) == (Role.AGENT, "UTC", False)
