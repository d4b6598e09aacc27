"""A site's Configuration page (SPEC §2.4): appearance, behaviour and privacy, origins, avatar.

Saving goes through widget.services and shows in what the widget is sent (``decide``); bad input
is refused field by field with nothing saved; avatars are checked, re-encoded and served from the
database (W-1/W-2: an SVG is never accepted).
"""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image, PngImagePlugin

from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from tests.widget.configuration import configuration_form
from widget.appearance import AVATAR_PATH, ICONS, Appearance
from widget.models import Avatar

GREY_ON_WHITE = "Text on the background: contrast"


def page(client: Client, site: Site) -> str:
    response = client.get(reverse("widget:site-detail", args=[site.pk]))
    assert response.status_code == 200
    return str(response.content.decode())


def save(client: Client, site: Site, **changes: object) -> Any:
    url = reverse("widget:site-detail", args=[site.pk])
    return client.post(url, configuration_form(site, **changes), follow=True)


def decided_appearance(client: Client, site: Site) -> dict[str, Any]:
    response = client.get(
        reverse("widget:decide"),
        {"site": site.key, "url": f"{ALLOWED_ORIGIN}/pricing"},
        headers={"Origin": ALLOWED_ORIGIN},
    )
    assert response.status_code == 200
    return dict(response.json()["appearance"])


def image_file(
    size: tuple[int, int] = (300, 300),
    fmt: str = "PNG",
    *,
    noise: bool = False,
    name: str = "avatar.png",
    **save_options: Any,
) -> SimpleUploadedFile:
    """An image upload: a two-colour picture, or random noise (which does not compress)."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, "#0b6e4f")
        image.paste("#ffd400", (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, format=fmt, **save_options)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


def upload(client: Client, site: Site, file: SimpleUploadedFile) -> Any:
    url = reverse("widget:site-avatar", args=[site.pk])
    return client.post(url, {"image": file}, follow=True)


def stored_avatar(site: Site) -> str:
    site.refresh_from_db()
    return Appearance.from_json(site.appearance).avatar


# ---- The page ------------------------------------------------------------------------------------


def test_the_page_has_install_appearance_behaviour_and_origins(
    marketer_client: Client, site: Site
) -> None:
    html = page(marketer_client, site)
    for section in ("Install", "Appearance", "Behaviour &amp; privacy", "Origins"):
        assert f">{section}</h2>" in html
    assert "Copy snippet" in html
    assert f'data-src="/widget/frame?site={site.key}&amp;preview=1"' in html
    assert 'id="cfg-preview-data" type="application/json"' in html
    assert site.identity_secret in html
    assert "HMAC-SHA256" in html
    assert "Save configuration" in html


def test_the_page_loads_its_script_with_the_csp_nonce_and_no_inline_code(
    marketer_client: Client, site: Site
) -> None:
    response = marketer_client.get(reverse("widget:site-detail", args=[site.pk]))
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script src="/static/js/configuration.js" nonce="{nonce}" defer></script>' in html
    assert " style=" not in html
    assert " onclick=" not in html
    assert " onchange=" not in html


def test_each_launcher_icon_is_offered_with_its_drawing(
    marketer_client: Client, site: Site
) -> None:
    html = page(marketer_client, site)
    for key, (label, path) in ICONS.items():
        assert f'value="{key}"' in html
        assert label in html
        assert f'<path d="{path}"/>' in html


def test_agents_are_refused_every_configuration_action(agent_client: Client, site: Site) -> None:
    detail = reverse("widget:site-detail", args=[site.pk])
    assert agent_client.get(detail).status_code == 403
    assert agent_client.post(detail, configuration_form(site)).status_code == 403
    avatar = reverse("widget:site-avatar", args=[site.pk])
    assert agent_client.post(avatar, {"image": image_file()}).status_code == 403
    remove = reverse("widget:site-avatar-remove", args=[site.pk])
    assert agent_client.post(remove).status_code == 403
    assert not Avatar.objects.exists()


def test_the_page_costs_the_same_queries_however_many_sites_there_are(
    marketer_client: Client, site: Site
) -> None:
    url = reverse("widget:site-detail", args=[site.pk])
    marketer_client.get(url)
    with CaptureQueriesContext(connection) as alone:
        marketer_client.get(url)
    for number in range(20):
        Site.objects.create(name=f"Other {number}", allowed_origins=[f"https://{number}.example"])
    with CaptureQueriesContext(connection) as among_many:
        marketer_client.get(url)
    assert len(among_many) == len(alone) <= 4  # session, user, site (+ savepoint-free reads)


# ---- Saving --------------------------------------------------------------------------------------


def test_saving_changes_what_the_widget_is_sent(marketer_client: Client, site: Site) -> None:
    assert decided_appearance(marketer_client, site)["bot_name"] == "Chat"
    response = save(
        marketer_client,
        site,
        primary="#AA0000",
        font="Georgia, 'Times New Roman', serif",
        position="left",
        offset_x=0,
        offset_y=200,
        icon="headset",
        bot_name="Ada",
        delay="1.5",
        poke=False,
        poke_mobile=True,
        privacy_url="https://a.example/privacy",
        require_consent=True,
    )
    assert "Configuration saved." in response.content.decode()
    decided = decided_appearance(marketer_client, site)
    assert {key: decided[key] for key in ("primary", "position", "offset_x", "offset_y")} == {
        "primary": "#aa0000",
        "position": "left",
        "offset_x": 0,
        "offset_y": 200,
    }
    assert decided["font"] == "Georgia, 'Times New Roman', serif"
    assert (decided["icon"], decided["bot_name"], decided["delay_ms"]) == ("headset", "Ada", 1500)
    assert (decided["poke"], decided["poke_mobile"]) == (False, True)
    assert decided["privacy_url"] == "https://a.example/privacy"
    assert decided["on_primary"] == "#ffffff"
    site.refresh_from_db()
    assert site.require_consent
    assert not site.verify_identity


def test_the_form_shows_what_is_stored(marketer_client: Client, site: Site) -> None:
    save(marketer_client, site, bot_name="Ada", delay="0.3", offset_x=37, verify_identity=True)
    html = page(marketer_client, site)
    assert 'value="Ada"' in html
    assert 'name="delay" value="0.3"' in html
    assert 'name="offset_x" value="37"' in html
    assert 'id="id_verify_identity" checked' in html
    assert 'id="id_require_consent" checked' not in html


def test_a_privacy_link_without_a_scheme_is_taken_as_https(
    marketer_client: Client, site: Site
) -> None:
    save(marketer_client, site, privacy_url="a.example/privacy")
    assert decided_appearance(marketer_client, site)["privacy_url"] == "https://a.example/privacy"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("primary", "red", "six hex digits"),
        ("primary", "#12345", "six hex digits"),
        ("background", "#12345g", "six hex digits"),
        ("text", "#1234567", "six hex digits"),
        ("bot_bubble", "", "This field is required."),
        ("offset_x", "-1", "greater than or equal to 0"),
        ("offset_y", "201", "less than or equal to 200"),
        ("offset_x", "1.5", "Enter a whole number."),
        ("privacy_url", "javascript:alert(1)", "Enter an http:// or https:// address."),
        ("privacy_url", "JaVaScRiPt:alert(1)", "Enter an http:// or https:// address."),
        ("privacy_url", "ftp://a.example/privacy", "Enter an http:// or https:// address."),
        ("privacy_url", "data:text/html,<script>alert(1)</script>", "http:// or https://"),
        ("delay", "5.1", "less than or equal to 5"),
        ("delay", "0.25", "multiple of step size 0.1"),
        ("delay", "-0.1", "greater than or equal to 0"),
        ("bot_name", "", "This field is required."),
        ("bot_name", "x" * 41, "at most 40 characters"),
        ("font", "Comic Sans MS", "Select a valid choice."),
        ("position", "top", "Select a valid choice."),
        ("icon", "rocket", "Select a valid choice."),
        ("allowed_origins", "https://a.example/pricing", "without a path"),
    ],
)
def test_bad_values_are_explained_and_nothing_is_saved(
    marketer_client: Client, site: Site, field: str, value: str, error: str
) -> None:
    before = (site.appearance, site.allowed_origins, site.name)
    response = save(marketer_client, site, **{"bot_name": "Ada", "name": "Ada", field: value})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in html
    assert error in html
    assert 'aria-invalid="true"' in html
    site.refresh_from_db()
    assert (site.appearance, site.allowed_origins, site.name) == before


def test_the_avatar_cannot_be_set_through_the_form(marketer_client: Client, site: Site) -> None:
    save(marketer_client, site, avatar="d" * 64)
    assert stored_avatar(site) == ""


# ---- Contrast ------------------------------------------------------------------------------------


def test_grey_text_on_white_is_warned_about_when_saved_and_shown(
    marketer_client: Client, site: Site
) -> None:
    response = save(marketer_client, site, text="#777777", background="#ffffff")
    html = response.content.decode()
    assert "Some text is hard to read" in html
    assert GREY_ON_WHITE in html
    assert "below WCAG AA (4.5:1)" in html
    assert GREY_ON_WHITE in page(marketer_client, site)


def test_the_default_colours_get_no_warning(marketer_client: Client, site: Site) -> None:
    assert "WCAG AA" not in page(marketer_client, site)
    response = save(marketer_client, site)
    assert "WCAG AA" not in response.content.decode()
    assert "hard to read" not in response.content.decode()


def test_a_refused_form_warns_about_the_colours_it_was_sent(
    marketer_client: Client, site: Site
) -> None:
    response = save(marketer_client, site, text="#777777", offset_x="999")
    assert GREY_ON_WHITE in response.content.decode()


# ---- Avatar --------------------------------------------------------------------------------------


def png_chunks(content: bytes) -> list[bytes]:
    """The chunk types of a PNG file, in order."""
    chunks, position = [], 8
    while position < len(content):
        length = int.from_bytes(content[position : position + 4], "big")
        chunks.append(content[position + 4 : position + 8])
        position += 12 + length
    return chunks


def test_a_good_avatar_is_stored_re_encoded_without_metadata_and_served(
    marketer_client: Client, client: Client, site: Site
) -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Maya's phone, 52.52N 13.40E")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    response = upload(
        marketer_client, site, image_file((300, 300), pnginfo=text, exif=exif.tobytes())
    )
    assert "Avatar saved." in response.content.decode()

    digest = stored_avatar(site)
    avatar = Avatar.objects.get()
    assert avatar.digest == digest
    assert avatar.content_type == "image/png"
    content = bytes(avatar.content)
    assert set(png_chunks(content)) <= {b"IHDR", b"IDAT", b"IEND"}
    assert b"PhoneMaker" not in content
    assert b"Maya" not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert (stored.format, stored.size, stored.mode) == ("PNG", (128, 128), "RGBA")

    served = client.get(f"/{AVATAR_PATH}{digest}")
    assert served.status_code == 200
    assert served.content == content
    assert served["Content-Type"] == "image/png"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in served
    avatar_url = f"{settings.SITE_URL}/{AVATAR_PATH}{digest}"
    assert decided_appearance(client, site)["avatar_url"] == avatar_url


@pytest.mark.parametrize(
    ("fmt", "name", "options"),
    [
        ("JPEG", "me.jpg", {"quality": 90}),
        ("WEBP", "me.webp", {}),
        ("GIF", "me.gif", {}),
        ("PNG", "me.png", {}),
    ],
)
def test_png_jpeg_webp_and_gif_are_accepted(
    marketer_client: Client, site: Site, fmt: str, name: str, options: dict[str, Any]
) -> None:
    upload(marketer_client, site, image_file((64, 64), fmt, name=name, **options))
    with Image.open(io.BytesIO(bytes(Avatar.objects.get().content))) as stored:
        assert (stored.format, stored.size) == ("PNG", (64, 64))


def test_a_photo_is_stored_upright_without_its_exif(marketer_client: Client, site: Site) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    picture = Image.new("RGB", (100, 100), "#ffffff")
    picture.paste("#000000", (0, 0, 50, 100))  # left half black, as stored
    out = io.BytesIO()
    picture.save(out, format="JPEG", exif=exif.tobytes(), quality=95)
    upload(marketer_client, site, SimpleUploadedFile("me.jpg", out.getvalue()))
    content = bytes(Avatar.objects.get().content)
    assert b"PhoneMaker" not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert not stored.getexif()
        grey = stored.convert("L")
        assert grey.getpixel((50, 10)) == pytest.approx(0, abs=8)  # the black half is now on top
        assert grey.getpixel((50, 90)) == pytest.approx(255, abs=8)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def truncated_png() -> SimpleUploadedFile:
    whole = image_file((300, 300), noise=True).read()
    return SimpleUploadedFile("cut.png", whole[: len(whole) // 2], content_type="image/png")


def bmp() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, format="BMP")
    return SimpleUploadedFile("a.bmp", out.getvalue(), content_type="image/bmp")


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: image_file((300, 300), noise=True), "larger than 256 KB"),
        (lambda: image_file((64, 48)), "must be square; it is 64 × 48"),
        (lambda: image_file((16, 16)), "32 to 2048 px wide; it is 16"),
        (lambda: image_file((4096, 4096)), "32 to 2048 px wide; it is 4096"),
        (lambda: SimpleUploadedFile("a.svg", SVG, content_type="image/svg+xml"), "not a PNG"),
        (lambda: SimpleUploadedFile("a.png", SVG, content_type="image/png"), "not a PNG"),
        (truncated_png, "not a PNG"),
        (lambda: SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "not a PNG"),
        (bmp, "not a PNG"),
        (lambda: SimpleUploadedFile("empty.png", b""), "The submitted file is empty."),
    ],
    ids=[
        "oversize",
        "not square",
        "too small",
        "too many pixels",
        "svg",
        "svg named png",
        "truncated",
        "corrupt",
        "bmp",
        "empty",
    ],
)
def test_unfit_avatars_are_refused_with_a_reason(
    marketer_client: Client, site: Site, make: Any, error: str
) -> None:
    response = upload(marketer_client, site, make())
    html = response.content.decode()
    assert response.status_code == 200
    assert error in html
    assert stored_avatar(site) == ""
    assert not Avatar.objects.exists()


def test_a_large_upload_is_dropped_while_it_arrives(marketer_client: Client, site: Site) -> None:
    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + os.urandom(2 * 1024 * 1024))
    response = marketer_client.post(reverse("widget:site-avatar", args=[site.pk]), {"image": big})
    assert "larger than 256 KB" in response.content.decode()
    assert "image" not in response.wsgi_request.FILES
    assert stored_avatar(site) == ""


def test_an_upload_without_a_file_asks_for_one(marketer_client: Client, site: Site) -> None:
    response = marketer_client.post(reverse("widget:site-avatar", args=[site.pk]))
    assert "Choose an image to upload." in response.content.decode()


def test_the_upload_needs_the_csrf_token(marketer: Any, site: Site) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    url = reverse("widget:site-avatar", args=[site.pk])
    assert client.post(url, {"image": image_file((64, 64))}).status_code == 403
    client.get(reverse("widget:site-detail", args=[site.pk]))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(url, {"image": image_file((64, 64)), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert stored_avatar(site)


def test_saving_the_configuration_keeps_the_avatar(marketer_client: Client, site: Site) -> None:
    upload(marketer_client, site, image_file((64, 64)))
    digest = stored_avatar(site)
    save(marketer_client, site, bot_name="Ada")
    assert stored_avatar(site) == digest


def test_removing_the_avatar_deletes_the_image_no_site_uses(
    marketer_client: Client, site: Site
) -> None:
    upload(marketer_client, site, image_file((64, 64)))
    digest = stored_avatar(site)
    response = marketer_client.post(
        reverse("widget:site-avatar-remove", args=[site.pk]), follow=True
    )
    assert "Avatar removed." in response.content.decode()
    assert stored_avatar(site) == ""
    assert not Avatar.objects.exists()
    assert marketer_client.get(f"/{AVATAR_PATH}{digest}").status_code == 404
    assert decided_appearance(marketer_client, site)["avatar_url"] is None


def test_an_image_two_sites_share_stays_until_neither_uses_it(
    marketer_client: Client, site: Site
) -> None:
    other = Site.objects.create(name="Site B", allowed_origins=["https://b.example"])
    upload(marketer_client, site, image_file((64, 64)))
    upload(marketer_client, other, image_file((64, 64)))
    assert stored_avatar(site) == stored_avatar(other)
    upload(marketer_client, site, image_file((80, 80)))
    assert Avatar.objects.count() == 2
    marketer_client.post(reverse("widget:site-avatar-remove", args=[other.pk]))
    assert list(Avatar.objects.values_list("digest", flat=True)) == [stored_avatar(site)]


@pytest.mark.parametrize("digest", ["f" * 64, "F" * 64, "f" * 63, "abc", "../x"])
def test_unknown_avatars_are_404(client: Client, db: None, digest: str) -> None:
    assert client.get(f"/{AVATAR_PATH}{digest}").status_code == 404


def test_avatars_only_answer_reads(client: Client) -> None:
    assert client.post(f"/{AVATAR_PATH}{'f' * 64}").status_code == 405
