"""D-5: ten failed sign-ins lock one account for 15 minutes, from every address, and no longer."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessFailureLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dynchat.models import User

PASSWORD = "correct horse battery"


def sign_in(client: Client, email: str, password: str, ip: str) -> int:
    response = client.post(
        reverse("dynchat:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )
    return int(response.status_code)


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=False)


def test_ten_failures_lock_the_account_from_every_address(
    client: Client, marketer: User, caplog: pytest.LogCaptureFixture
) -> None:
    """D-5: 20 failures from one address, then from 10: locked after 10; every attempt logged."""
    caplog.set_level("INFO", logger="axes")
    first = [sign_in(client, marketer.email, "wrong", "198.51.100.1") for _ in range(20)]
    assert first[:9] == [200] * 9  # the form again, with an error
    assert first[9:] == [429] * 11

    others = [sign_in(client, marketer.email, "wrong", f"198.51.100.{n}") for n in range(2, 12)]
    assert others == [429] * 10
    assert sign_in(client, marketer.email, PASSWORD, "198.51.100.50") == 429

    attempts = [
        r for r in caplog.records if r.name.startswith("axes") and "failed" in r.getMessage()
    ]
    assert len(attempts) == 31, "every attempt is logged, the locked-out ones too"
    # Failures during the lockout are logged but not counted, so they cannot extend it.
    assert AccessFailureLog.objects.count() == 10


def test_the_lockout_message_says_how_long_it_lasts(client: Client, marketer: User) -> None:
    for _ in range(10):
        sign_in(client, marketer.email, "wrong", "198.51.100.1")
    response = client.post(
        reverse("dynchat:login"),
        {"username": marketer.email, "password": "wrong"},
        REMOTE_ADDR="198.51.100.1",
    )
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.content.decode()


def test_case_and_spaces_in_the_email_do_not_buy_more_attempts(
    client: Client, marketer: User
) -> None:
    variants = [marketer.email.upper(), f" {marketer.email}", marketer.email.title()]
    results = [sign_in(client, variants[n % 3], "wrong", "198.51.100.1") for n in range(10)]
    assert results[-1] == 429


def test_the_real_user_gets_back_in_after_the_cool_off_even_if_attacks_continue(
    client: Client, marketer: User
) -> None:
    """D-5: no permanent lockout of the real user."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(10):
            sign_in(client, marketer.email, "wrong", "198.51.100.1")
        clock.shift(timedelta(minutes=10))
        assert sign_in(client, marketer.email, "wrong", "198.51.100.7") == 429
        clock.shift(timedelta(minutes=5, seconds=1))
        assert sign_in(client, marketer.email, PASSWORD, "198.51.100.50") == 302


def test_other_accounts_are_not_affected(client: Client, marketer: User, agent: User) -> None:
    for _ in range(10):
        sign_in(client, marketer.email, "wrong", "198.51.100.1")
    assert sign_in(client, agent.email, PASSWORD, "198.51.100.1") == 302


def test_a_correct_password_clears_earlier_failures(client: Client, marketer: User) -> None:
    for _ in range(9):
        sign_in(client, marketer.email, "wrong", "198.51.100.1")
    assert sign_in(client, marketer.email, PASSWORD, "198.51.100.1") == 302
    Client().logout()
    fresh = Client()
    for _ in range(9):
        assert sign_in(fresh, marketer.email, "wrong", "198.51.100.1") == 200
