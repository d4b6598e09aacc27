"""Widget POST bodies are bounded: over 16 KiB is refused with 413 before it is read (W-5)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from tests.widget.api import published, start, visitor_key

KIB = 1024
MIB = 1024 * KIB
LIMIT = 16 * KIB
ROUTES = ["widget:conversations", "widget:events"]


class Tripwire(io.RawIOBase):
    """A request body of ``size`` bytes that fails the test if more than ``allowed`` are read."""

    def __init__(self, size: int, allowed: int) -> None:
        self.size, self.allowed, self.consumed = size, allowed, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.consumed)
        if self.consumed + count > self.allowed:
            raise AssertionError(f"the body was read past {self.allowed} bytes")
        buffer[:count] = b" " * count
        self.consumed += count
        return count


@pytest.fixture
def targets(client: Client, site: Site) -> dict[str, tuple[str, dict[str, Any], dict[str, str]]]:
    """Per route: its URL, a valid body and the headers the widget sends."""
    version = published(site)
    started = start(client, version, visitor_key(1))
    assert started.status_code == 201
    conversation = started.json()["conversation"]["id"]
    origin = {"Origin": ALLOWED_ORIGIN}
    return {
        "widget:conversations": (
            reverse("widget:conversations"),
            {"site": site.key, "visitor": visitor_key(2), "version": version.pk,
             "url": f"{ALLOWED_ORIGIN}/pricing"},
            origin,
        ),
        "widget:events": (
            reverse("widget:events", kwargs={"conversation_id": conversation}),
            {"events": [{"seq": 1, "type": "opened"}]},
            {**origin, "Authorization": f"Bearer {started.json()['token']}"},
        ),
    }  # fmt: skip


def padded(body: dict[str, Any], size: int) -> bytes:
    """The JSON of ``body`` followed by whitespace up to ``size`` bytes: still valid JSON."""
    encoded = json.dumps(body).encode()
    assert len(encoded) <= size
    return encoded + b" " * (size - len(encoded))


def post(client: Client, url: str, data: bytes, headers: dict[str, str], **extra: Any) -> Any:
    return client.generic(
        "POST", url, data, content_type="application/json", headers=headers, **extra
    )


def test_django_bounds_every_other_body_too() -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 262144
    assert settings.WIDGET_MAX_BODY_BYTES == LIMIT


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_of_exactly_16_kib_is_read_and_answered(
    client: Client, targets: dict[str, Any], route: str
) -> None:
    url, body, headers = targets[route]
    response = post(client, url, padded(body, LIMIT), headers)
    assert response.status_code in {200, 201, 202}, response.content


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("size", [LIMIT + 1, MIB, 10 * MIB])
def test_a_larger_body_is_refused_with_413(
    client: Client, targets: dict[str, Any], route: str, size: int
) -> None:
    url, body, headers = targets[route]
    response = post(client, url, padded(body, size), headers)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["limit"] == LIMIT


@pytest.mark.parametrize("route", ROUTES)
def test_a_10_mib_body_is_never_read(client: Client, targets: dict[str, Any], route: str) -> None:
    url, _, headers = targets[route]
    stream = Tripwire(10 * MIB, allowed=LIMIT + 1)
    response = post(
        client, url, b"", headers, CONTENT_LENGTH=str(10 * MIB), **{"wsgi.input": stream}
    )
    assert response.status_code == 413
    assert stream.consumed == 0


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("share", [0, 0.1, 0.5, 0.99])
def test_a_content_length_cutting_the_json_short_is_a_client_error(
    client: Client, targets: dict[str, Any], route: str, share: float
) -> None:
    url, body, headers = targets[route]
    declared = int(len(json.dumps(body)) * share)
    response = post(client, url, padded(body, 4 * KIB), headers, CONTENT_LENGTH=str(declared))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("route", ROUTES)
def test_a_content_length_shorter_than_the_padded_body_reads_the_json_only(
    client: Client, targets: dict[str, Any], route: str
) -> None:
    url, body, headers = targets[route]
    declared = len(json.dumps(body)) + 10
    response = post(client, url, padded(body, 4 * KIB), headers, CONTENT_LENGTH=str(declared))
    assert response.status_code in {200, 201, 202}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("declared", ["-1", "lots", "1e6"])
def test_an_unreadable_content_length_is_a_client_error(
    client: Client, targets: dict[str, Any], route: str, declared: str
) -> None:
    url, body, headers = targets[route]
    response = post(client, url, padded(body, KIB), headers, CONTENT_LENGTH=declared)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_longer_than_declared_is_read_only_as_far_as_declared(
    client: Client, targets: dict[str, Any], route: str
) -> None:
    """A 10 MiB stream declared as 16 KiB: Django reads no further than the declared length."""
    url, _, headers = targets[route]
    stream = Tripwire(10 * MIB, allowed=LIMIT)
    response = post(client, url, b"", headers, CONTENT_LENGTH=str(LIMIT), **{"wsgi.input": stream})
    assert 400 <= response.status_code < 500  # 16 KiB of spaces is no JSON document
    assert stream.consumed <= LIMIT
