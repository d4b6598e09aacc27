from __future__ import annotations

import pytest

from dynchat.origins import normalize_origin, origin_of


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://example.com", "https://example.com"),
        ("  https://example.com/  ", "https://example.com"),
        ("HTTPS://Shop.Example.COM", "https://shop.example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_origins_are_written_as_browsers_send_them(typed: str, origin: str) -> None:
    assert normalize_origin(typed) == origin


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("example.com", "must start with https://"),
        ("ftp://example.com", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://", "has no host name"),
        ("https://user:pw@example.com", "user name or password"),
        ("https://example.com/pricing", "without a path"),
        ("https://example.com/?q=1", "without a path"),
        ("https://example.com#top", "without a path"),
        ("https://example.com:99999", "not a valid origin"),
        ("https://exa mple.com", "invalid host name"),
    ],
)
def test_anything_else_is_refused_with_the_reason(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_origin(typed)


def test_the_origin_of_a_page_url() -> None:
    assert origin_of("https://Example.com/pricing?plan=pro#faq") == "https://example.com"
    assert origin_of("not a url") is None
