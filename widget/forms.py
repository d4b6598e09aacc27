from __future__ import annotations

import io
import warnings
from decimal import Decimal
from typing import Any, Final

from django import forms
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.validators import URLValidator
from django.forms.boundfield import BoundWidget
from PIL import Image

from dynchat.models import Site
from dynchat.origins import normalize_origin
from widget.appearance import (
    FONTS,
    HEX_COLOUR,
    ICONS,
    MAX_BOT_NAME,
    MAX_DELAY_MS,
    MAX_OFFSET,
    MAX_URL,
    Appearance,
)
from widget.payloads import VISITOR_ID_CHARS

MAX_ORIGINS = 20


class OriginsField(forms.CharField):
    """Origins typed one per line, cleaned to the exact form browsers send."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off"})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        origins: list[str] = []
        errors: list[str] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                origin = normalize_origin(line)
            except ValueError as error:
                errors.append(str(error))
                continue
            if origin not in origins:
                origins.append(origin)
        if errors:
            raise forms.ValidationError(errors)
        if len(origins) > MAX_ORIGINS:
            raise forms.ValidationError(f"At most {MAX_ORIGINS} origins per site.")
        return origins

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(value)
        return value


class SiteForm(forms.ModelForm[Site]):
    allowed_origins = OriginsField(
        required=False,
        label="Allowed origins",
        help_text="Where the widget may load, one per line, e.g. https://www.example.com. "
        "Pages on any other origin get no chat.",
    )

    class Meta:
        model = Site
        fields = ["name", "allowed_origins", "require_consent", "verify_identity"]
        labels = {
            "name": "Site name",
            "require_consent": "Require consent before storing anything",
            "verify_identity": "Verify identified visitors",
        }
        help_texts = {"name": "For you and your team, e.g. the site's domain."}


# Python's "$" would also accept a final newline, which the documented pattern refuses.
VISITOR_ID = rf"^{VISITOR_ID_CHARS}\Z"


class DecideForm(forms.Form):
    site = forms.CharField(max_length=64, strip=False)
    url = forms.URLField(max_length=2048, assume_scheme="https")
    visitor = forms.RegexField(
        VISITOR_ID, required=False, strip=False, help_text="First-party visitor id."
    )
    mkto = forms.CharField(
        max_length=500, required=False, strip=False, help_text="The _mkto_trk cookie."
    )

    def clean_url(self) -> str:
        """The page URL exactly as sent: whitespace around it is an error, not trimmed."""
        raw = str(self.data.get("url", ""))
        if raw != raw.strip():
            raise forms.ValidationError("The URL has spaces around it.")
        return str(self.cleaned_data["url"])


class VersionForm(forms.Form):
    site = forms.CharField(max_length=64, strip=False)


class ColourField(forms.RegexField):
    """A #rrggbb colour, typed; the page pairs the box with a colour picker."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = {"data-colour": "", "spellcheck": "false", "autocomplete": "off", "size": "8"}
        super().__init__(
            HEX_COLOUR,
            max_length=7,
            error_messages={"invalid": "Enter a colour as # and six hex digits, e.g. #1f5eff."},
            widget=forms.TextInput(attrs=attrs),
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        return str(super().clean(value)).lower()


class WebURLField(forms.URLField):
    """An http(s) address; javascript:, data: and the like are refused."""

    default_error_messages = {"invalid": "Enter an http:// or https:// address."}
    default_validators = [URLValidator(schemes=["http", "https"])]


POSITION_CHOICES = [("right", "Bottom right"), ("left", "Bottom left")]


class AppearanceForm(forms.Form):
    """How the widget looks and behaves (``widget.appearance.Appearance``), except the avatar."""

    primary = ColourField(label="Primary colour", help_text="Launcher, header, answer buttons.")
    background = ColourField(label="Background colour", help_text="The chat panel.")
    text = ColourField(label="Text colour", help_text="On the panel and in bot messages.")
    bot_bubble = ColourField(label="Bot message colour")
    visitor_bubble = ColourField(label="Visitor message colour")
    font = forms.ChoiceField(label="Font", choices=list(FONTS.items()), required=False)
    position = forms.ChoiceField(
        label="Launcher position", choices=POSITION_CHOICES, widget=forms.RadioSelect
    )
    offset_x = forms.IntegerField(
        label="Distance from the side", min_value=0, max_value=MAX_OFFSET, help_text="Pixels."
    )
    offset_y = forms.IntegerField(
        label="Distance from the bottom", min_value=0, max_value=MAX_OFFSET, help_text="Pixels."
    )
    icon = forms.ChoiceField(
        label="Launcher icon",
        choices=[(key, label) for key, (label, _) in ICONS.items()],
        widget=forms.RadioSelect,
    )
    bot_name = forms.CharField(
        label="Bot name", max_length=MAX_BOT_NAME, help_text="Shown above the bot's messages."
    )
    delay = forms.DecimalField(
        label="Response delay",
        min_value=Decimal(0),
        max_value=Decimal(MAX_DELAY_MS) / 1000,
        step_size=Decimal("0.1"),
        help_text="Seconds of typing indicator before each bot message, 0 to 5.",
    )
    poke = forms.BooleanField(
        label="Show the poke",
        required=False,
        help_text="A short teaser next to the launcher when a dialogue is triggered.",
    )
    poke_mobile = forms.BooleanField(label="Show the poke on phones too", required=False)
    privacy_url = WebURLField(
        label="Privacy policy link",
        required=False,
        max_length=MAX_URL,
        assume_scheme="https",
        help_text="Linked from the chat panel, e.g. https://www.example.com/privacy.",
    )

    @staticmethod
    def initial_for(appearance: Appearance) -> dict[str, Any]:
        initial = appearance.to_json()
        initial["delay"] = (Decimal(appearance.delay_ms) / 1000).quantize(Decimal("0.1"))
        return initial

    def appearance(self) -> Appearance:
        """The cleaned settings; the avatar is left empty (it changes only by upload)."""
        data = self.cleaned_data
        values = {name: data[name] for name in self.fields if name != "delay"}
        return Appearance(**values, delay_ms=int(data["delay"] * 1000))

    def icon_options(self) -> list[tuple[BoundWidget, str]]:
        """Each icon's radio button with the SVG path to draw beside it."""
        return [(radio, ICONS[radio.data["value"]][1]) for radio in self["icon"]]


MAX_AVATAR_BYTES: Final = 256 * 1024
MIN_AVATAR_PX: Final = 32
# Larger images are refused from their header, before any pixel is decoded (memory).
MAX_AVATAR_PX: Final = 2048
AVATAR_FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF")
TOO_LARGE = "The image is larger than 256 KB."
UNREADABLE = "This is not a PNG, JPEG, WebP or GIF image that can be read."


class AvatarSizeLimit(FileUploadHandler):
    """Stops keeping an uploaded file once it passes MAX_AVATAR_BYTES; ``exceeded`` says so.

    The rest of that file is read and dropped, so the page can still answer with a form error.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > MAX_AVATAR_BYTES:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class AvatarForm(forms.Form):
    """An avatar upload: a square PNG, JPEG, WebP or GIF that decodes, at most 256 KB."""

    image = forms.FileField(
        label="Avatar image",
        required=False,
        help_text="Square PNG, JPEG, WebP or GIF, at least 32 × 32 px, up to 256 KB.",
        widget=forms.FileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp,image/gif", "form": "avatar-form"}
        ),
    )

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large

    def clean_image(self) -> Image.Image:
        upload = self.cleaned_data["image"]
        if self.too_large or (upload is not None and upload.size > MAX_AVATAR_BYTES):
            raise forms.ValidationError(TOO_LARGE)
        if upload is None:
            raise forms.ValidationError("Choose an image to upload.")
        return decoded_avatar(upload.read(MAX_AVATAR_BYTES + 1))


def decoded_avatar(data: bytes) -> Image.Image:
    """The image in ``data``, decoded, once it proved a square, readable, small enough image."""
    if len(data) > MAX_AVATAR_BYTES:
        raise forms.ValidationError(TOO_LARGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=AVATAR_FORMATS) as image:
                width, height = image.size
                if width == height and MIN_AVATAR_PX <= width <= MAX_AVATAR_PX:
                    image.verify()
            if width != height:
                raise forms.ValidationError(f"The image must be square; it is {width} × {height}.")
            if not MIN_AVATAR_PX <= width <= MAX_AVATAR_PX:
                raise forms.ValidationError(
                    f"The image must be {MIN_AVATAR_PX} to {MAX_AVATAR_PX} px wide; it is {width}."
                )
            # verify() leaves the image unusable: decode a fresh one, which finds truncated data.
            image = Image.open(io.BytesIO(data), formats=AVATAR_FORMATS)
            image.load()
    except forms.ValidationError:
        raise
    # Decoders raise many kinds of errors on hostile bytes; every one means "unreadable".
    except Exception as error:
        raise forms.ValidationError(UNREADABLE) from error
    return image
