"""The widget's appearance settings as a pure module (SPEC §2.4): defaults, garbage, contrast."""

from __future__ import annotations

import dataclasses

import pytest

from widget.appearance import (
    AVATAR_PATH,
    FONTS,
    ICONS,
    Appearance,
    contrast_ratio,
    public_appearance,
    readable_on,
)


@pytest.mark.parametrize("stored", [None, {}, [], "primary", 42, {"unknown": "x"}])
def test_anything_but_a_stored_object_gives_the_defaults(stored: object) -> None:
    assert Appearance.from_json(stored) == Appearance()


@pytest.mark.parametrize(
    ("name", "garbage"),
    [
        ("primary", "red"),
        ("primary", "#12345"),
        ("primary", "#1234567"),
        ("primary", "#12345g"),
        ("text", 0xFFFFFF),
        ("font", "Comic Sans MS"),
        ("position", "top"),
        ("offset_x", -1),
        ("offset_x", 201),
        ("offset_y", 20.5),
        ("offset_y", True),
        ("offset_y", "20"),
        ("icon", "rocket"),
        ("bot_name", ""),
        ("bot_name", "x" * 41),
        ("bot_name", ["Ada"]),
        ("avatar", "../../etc/passwd"),
        ("avatar", "A" * 64),
        ("delay_ms", 5001),
        ("delay_ms", -1),
        ("poke", "yes"),
        ("poke_mobile", 1),
        ("privacy_url", "javascript:alert(1)"),
        ("privacy_url", "ftp://example.com/privacy"),
        ("privacy_url", "https://example.com/" + "x" * 500),
    ],
)
def test_an_unusable_value_takes_its_default_and_leaves_the_others(
    name: str, garbage: object
) -> None:
    stored = {"bot_name": "Ada", "primary": "#0b6e4f", name: garbage}
    appearance = Appearance.from_json(stored)
    assert getattr(appearance, name) == getattr(Appearance(), name)
    if name != "bot_name":
        assert appearance.bot_name == "Ada"
    if name != "primary":
        assert appearance.primary == "#0b6e4f"


def test_every_setting_survives_a_round_trip_through_json() -> None:
    appearance = Appearance(
        primary="#0b6e4f",
        background="#fafafa",
        text="#111111",
        bot_bubble="#e8f3ee",
        visitor_bubble="#0b6e4f",
        font=next(key for key in FONTS if key),
        position="left",
        offset_x=0,
        offset_y=200,
        icon="headset",
        bot_name="Ada",
        avatar="a" * 64,
        delay_ms=0,
        poke=False,
        poke_mobile=True,
        privacy_url="http://example.com/privacy",
    )
    assert Appearance.from_json(appearance.to_json()) == appearance


def test_the_defaults_pass_wcag_aa() -> None:
    assert Appearance().contrast_warnings() == []


def test_grey_text_on_white_is_warned_about() -> None:
    warnings = Appearance(text="#777777", background="#ffffff").contrast_warnings()
    # 4.478:1, shown rounded down: never as a "4.5" that would pass.
    assert warnings[0] == "Text on the background: contrast 4.47:1 is below WCAG AA (4.5:1)."


def test_a_colour_with_a_trailing_newline_is_not_a_colour() -> None:
    assert Appearance.from_json({"primary": "#000000\n"}).primary == Appearance().primary


def test_text_on_bot_bubbles_is_checked_too() -> None:
    warnings = Appearance(text="#999999", bot_bubble="#aaaaaa").contrast_warnings()
    assert [warning.split(":")[0] for warning in warnings] == [
        "Text on the background",
        "Text on bot bubbles",
    ]


@pytest.mark.parametrize(
    ("first", "second", "ratio"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#000000", 21.0),
        ("#1f5eff", "#1f5eff", 1.0),
        ("#777777", "#ffffff", 4.48),
        ("#767676", "#ffffff", 4.54),
        ("#ff0000", "#ffffff", 4.0),
        ("#0000ff", "#ffffff", 8.59),
    ],
)
def test_contrast_ratios_match_the_wcag_formula(first: str, second: str, ratio: float) -> None:
    assert contrast_ratio(first, second) == pytest.approx(ratio, abs=0.005)


@pytest.mark.parametrize(
    ("background", "text"),
    [
        ("#000000", "#ffffff"),
        ("#ffffff", "#111111"),
        ("#1f5eff", "#ffffff"),
        ("#ffd400", "#111111"),
    ],
)
def test_readable_on_picks_the_text_colour_with_more_contrast(background: str, text: str) -> None:
    assert readable_on(background) == text


def test_public_names_the_avatar_by_url_and_the_icon_by_its_path() -> None:
    appearance = Appearance(icon="question", primary="#ffd400", avatar="b" * 64)
    public = appearance.public("https://chat.example/a.png")
    assert "avatar" not in public
    assert public["avatar_url"] == "https://chat.example/a.png"
    assert public["icon_path"] == ICONS["question"][1]
    assert public["on_primary"] == "#111111"
    assert public["on_visitor_bubble"] == readable_on(appearance.visitor_bubble)
    fields = {field.name for field in dataclasses.fields(Appearance)} - {"avatar"}
    assert fields <= set(public)


def test_public_appearance_serves_the_avatar_from_this_dynchat() -> None:
    with_avatar = public_appearance({"avatar": "c" * 64}, "https://chat.example")
    assert with_avatar["avatar_url"] == f"https://chat.example/{AVATAR_PATH}{'c' * 64}"
    assert public_appearance({}, "https://chat.example")["avatar_url"] is None
