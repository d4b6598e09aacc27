"""How a site's widget looks and behaves: colours, font, launcher, bot, poke, typing delay (pure).

Kept as one JSON object on the site (``Site.appearance``) and read through ``Appearance``, which
fills defaults and drops anything it does not know, so an older or hand-edited value never breaks
the widget. ``public`` is what the loader and the chat frame receive.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

HEX_COLOUR: Final = re.compile(r"\A#[0-9a-fA-F]{6}\Z")
MAX_OFFSET: Final = 200
MAX_DELAY_MS: Final = 5000
MAX_BOT_NAME: Final = 40
MAX_URL: Final = 500
AA_NORMAL_TEXT: Final = 4.5

# The colour pairs checked against WCAG AA: (what, foreground field, background field).
CONTRAST_PAIRS: Final = (
    ("Text on the background", "text", "background"),
    ("Text on bot bubbles", "text", "bot_bubble"),
)

Position = Literal["right", "left"]
POSITIONS: Final = get_args(Position)

# Font stacks every visitor's system has (the frame loads no web fonts); "" = the host page's.
FONTS: Final[dict[str, str]] = {
    "": "Inherit from the site",
    "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif": "System sans-serif",
    "Arial, Helvetica, sans-serif": "Arial / Helvetica",
    "Verdana, Geneva, sans-serif": "Verdana",
    "Georgia, 'Times New Roman', serif": "Georgia",
    "'Trebuchet MS', sans-serif": "Trebuchet",
    "ui-monospace, Menlo, Consolas, monospace": "Monospace",
}

# Launcher icons: an SVG path on a 24 by 24 grid each; the loader draws the path it is sent.
ICONS: Final[dict[str, tuple[str, str]]] = {
    "chat": ("Speech bubble", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"),
    "dots": (
        "Bubble with dots",
        "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2zm4 7a1.5 1.5 0 1 0 0 .01z"
        "m4 0a1.5 1.5 0 1 0 0 .01zm4 0a1.5 1.5 0 1 0 0 .01z",
    ),
    "question": (
        "Question mark",
        "M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm0 14a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6z"
        "M12 6a3.5 3.5 0 0 0-3.5 3.5h2A1.5 1.5 0 1 1 12 11c-.6 0-1 .4-1 1v2h2v-1.2"
        "A3.5 3.5 0 0 0 12 6z",
    ),
    "headset": (
        "Headset",
        "M12 2a9 9 0 0 0-9 9v6a3 3 0 0 0 3 3h2v-8H5v-1a7 7 0 0 1 14 0v1h-3v8h3v1h-6v2h6"
        "a2 2 0 0 0 2-2v-9a9 9 0 0 0-9-9z",
    ),
}


@dataclass(frozen=True, slots=True)
class Appearance:
    """A site's widget settings, each with a default that passes WCAG AA."""

    primary: str = "#1f5eff"  # launcher, header, answer buttons
    background: str = "#ffffff"  # the chat panel
    text: str = "#1d2433"  # text on the panel and in bot bubbles
    bot_bubble: str = "#eef1f6"
    visitor_bubble: str = "#1f5eff"
    font: str = ""  # a key of FONTS; "" inherits the host page's font
    position: Position = "right"
    offset_x: int = 20  # px from the side
    offset_y: int = 20  # px from the bottom
    icon: str = "chat"  # a key of ICONS
    bot_name: str = "Chat"
    avatar: str = ""  # the uploaded avatar's digest ("" = none)
    delay_ms: int = 800  # typing indicator before each bot message
    poke: bool = True  # the teaser next to the launcher
    poke_mobile: bool = False
    privacy_url: str = ""

    @classmethod
    def from_json(cls, data: object) -> Appearance:
        """The settings in ``data``; a missing or unusable value takes its default."""
        if not isinstance(data, Mapping):
            return cls()
        default = cls()
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = data.get(field.name)
            if value is not None and _fits(field.name, value):
                values[field.name] = value
            else:
                values[field.name] = getattr(default, field.name)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def public(self, avatar_url: str | None) -> dict[str, Any]:
        """What the loader and the chat frame are sent (the avatar as a URL, the icon as a path)."""
        data = self.to_json()
        del data["avatar"]
        data["avatar_url"] = avatar_url
        data["icon_path"] = ICONS[self.icon][1]
        data["on_primary"] = readable_on(self.primary)
        data["on_visitor_bubble"] = readable_on(self.visitor_bubble)
        return data

    def contrast_warnings(self) -> list[str]:
        """Pairs of colours whose contrast is below WCAG AA for normal text (4.5:1)."""
        warnings = []
        for name, foreground, background in CONTRAST_PAIRS:
            ratio = contrast_ratio(getattr(self, foreground), getattr(self, background))
            if ratio < AA_NORMAL_TEXT:
                shown = math.floor(ratio * 100) / 100  # 4.48, never a rounded-up "4.5"
                warnings.append(f"{name}: contrast {shown:.2f}:1 is below WCAG AA (4.5:1).")
        return warnings


def _fits(name: str, value: object) -> bool:
    """Whether ``value`` is a usable setting for the field ``name``."""
    match name:
        case "primary" | "background" | "text" | "bot_bubble" | "visitor_bubble":
            return isinstance(value, str) and bool(HEX_COLOUR.match(value))
        case "font":
            return value in FONTS
        case "position":
            return value in POSITIONS
        case "icon":
            return value in ICONS
        case "offset_x" | "offset_y":
            return _int_within(value, 0, MAX_OFFSET)
        case "delay_ms":
            return _int_within(value, 0, MAX_DELAY_MS)
        case "poke" | "poke_mobile":
            return isinstance(value, bool)
        case "bot_name":
            return isinstance(value, str) and 0 < len(value) <= MAX_BOT_NAME
        case "avatar":
            return isinstance(value, str) and bool(re.fullmatch(r"[0-9a-f]{0,64}", value))
        case "privacy_url":
            return isinstance(value, str) and (value == "" or _is_web_url(value))
    return False


def _int_within(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_web_url(value: str) -> bool:
    return len(value) <= MAX_URL and bool(re.match(r"^https?://[^\s/]+", value, re.IGNORECASE))


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = []
    for start in (1, 3, 5):
        c = int(colour[start : start + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background``."""
    white, black = "#ffffff", "#111111"
    on_white, on_black = contrast_ratio(white, background), contrast_ratio(black, background)
    return white if on_white >= on_black else black


AVATAR_PATH: Final = "widget/avatars/"  # + digest; served by widget.views.avatars


def public_appearance(stored: object, site_url: str) -> dict[str, Any]:
    """The site's stored appearance as the loader and the frame receive it."""
    appearance = Appearance.from_json(stored)
    avatar = f"{site_url}/{AVATAR_PATH}{appearance.avatar}" if appearance.avatar else None
    return appearance.public(avatar)
