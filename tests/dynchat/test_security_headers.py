"""D-2 header snapshot and D-4 cookies, with the production security settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.http import HttpResponse, HttpResponseBase
from django.test import Client, override_settings
from django.urls import include, path, reverse

from dynchat.access import public
from dynchat.models import Site, User
from tests.conftest import https_client


@public
def explode(request: object) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("", include("dynchat.urls")),
    path("broken/", explode, name="broken"),
    path("api/broken/", explode, name="api-broken"),
]
handler500 = "dynchat.views.errors.server_error"

HTML_POLICY = [
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


def csp(response: HttpResponseBase) -> dict[str, str]:
    directives = (part.strip() for part in response["Content-Security-Policy"].split(";"))
    return {d.split(" ", 1)[0]: d for d in directives if d}


def assert_common_headers(response: HttpResponseBase) -> None:
    """D-2 "all": HSTS, nosniff, a strict referrer policy. (What gunicorn itself sends, such as
    Server, is checked on the real server in test_run_command.py.)"""
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def assert_html_headers(response: HttpResponseBase) -> None:
    assert_common_headers(response)
    policy = csp(response)
    for directive in HTML_POLICY:
        assert directive in policy.values()
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.fixture
def secure_client() -> Client:
    return https_client()


@pytest.fixture
def secure_marketer_client(marketer: User) -> Client:
    client = https_client()
    client.force_login(marketer)
    return client


@pytest.mark.django_db
def test_the_login_page_is_private_and_locked_down(secure_client: Client) -> None:
    """D-2: admin login."""
    response = secure_client.get(reverse("dynchat:login"))
    assert response.status_code == 200
    assert_html_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_admin_pages_carry_a_fresh_script_nonce_per_response(
    secure_marketer_client: Client,
) -> None:
    """D-2: admin list; the nonce differs per response."""
    first = secure_marketer_client.get(reverse("widget:sites"))
    second = secure_marketer_client.get(reverse("widget:sites"))
    for response in (first, second):
        assert_html_headers(response)
        assert "no-store" in response["Cache-Control"]
        assert csp(response)["script-src"].startswith("script-src 'self' 'nonce-")
    assert csp(first)["script-src"] != csp(second)["script-src"]


def test_a_site_page_with_its_key_is_not_cached(secure_marketer_client: Client, site: Site) -> None:
    """D-2: detail page."""
    response = secure_marketer_client.get(reverse("widget:site-detail", args=[site.pk]))
    assert_html_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_widget_api_json_is_labelled_utf8_json(secure_client: Client, site: Site) -> None:
    """D-2: widget API JSON."""
    response = secure_client.get(
        reverse("widget:decide"),
        {"site": site.key, "url": "https://a.example/pricing"},
        headers={"Origin": "https://a.example"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert_common_headers(response)


@pytest.mark.django_db
def test_the_404_page(secure_client: Client) -> None:
    """D-2: 404 page."""
    response = secure_client.get("/no/such/page/")
    assert response.status_code == 404
    assert_html_headers(response)
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_api_404s_are_json(secure_client: Client) -> None:
    response = secure_client.get("/api/widget/v1/nothing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["error"]["code"] == "not_found"


@pytest.fixture
def broken_urls() -> Iterator[Client]:
    with override_settings(ROOT_URLCONF=__name__):
        client = https_client()
        client.raise_request_exception = False
        yield client


@pytest.mark.django_db
def test_the_500_page_keeps_the_headers_and_leaks_nothing(broken_urls: Client) -> None:
    """D-2: 500 page."""
    response = broken_urls.get("/broken/")
    assert response.status_code == 500
    assert_html_headers(response)
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "boom" not in body
    assert "Traceback" not in body


@pytest.mark.django_db
def test_api_500s_are_json_without_a_stack_trace(broken_urls: Client) -> None:
    response = broken_urls.get("/api/broken/")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side; it was logged.",
        }
    }


@pytest.mark.django_db
def test_signing_in_sets_host_only_secure_cookies(secure_client: Client, marketer: User) -> None:
    """D-4: __Host- names, Secure, Path=/, no Domain; the session cookie is HttpOnly and Lax."""
    secure_client.get(reverse("dynchat:login"))
    csrf = secure_client.cookies["__Host-csrftoken"]
    response = secure_client.post(
        reverse("dynchat:login"),
        {
            "username": marketer.email,
            "password": "correct horse battery",
            "csrfmiddlewaretoken": csrf.value,
        },
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    session = response.cookies["__Host-sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert session["path"] == "/"
    assert session["domain"] == ""
    assert csrf["secure"] is True
    assert csrf["path"] == "/"
    assert csrf["domain"] == ""
    assert csrf["samesite"] == "Lax"


def test_the_widget_api_sets_no_cookies_even_for_a_signed_in_browser(
    secure_marketer_client: Client, site: Site
) -> None:
    """D-4: no cookies on widget API responses."""
    response = secure_marketer_client.get(
        reverse("widget:decide"), {"site": site.key, "url": "https://a.example/"}
    )
    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.django_db
def test_widget_api_bodies_over_16_kib_are_refused_before_parsing(client: Client) -> None:
    response = client.generic(
        "POST", reverse("widget:decide"), b"x" * (16 * 1024 + 1), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.django_db
def test_widget_api_bodies_up_to_16_kib_reach_the_view(client: Client) -> None:
    response = client.generic(
        "POST", reverse("widget:decide"), b"x" * (16 * 1024), content_type="application/json"
    )
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"
