"""What Marketo is sent of a conversation fits Marketo's fields, so no lead is refused for it."""

from __future__ import annotations

import pytest

from dialogues.writeback import MARKETO_VALUE_LENGTH, fitted_for_marketo, outbox_key
from sync.models import AttributeObject, SyncedAttribute


@pytest.mark.django_db
def test_long_answers_are_cut_to_a_string_fields_length_and_kept_whole_in_text_areas() -> None:
    SyncedAttribute.objects.create(
        object=AttributeObject.PERSON, name="chatNotes", display_name="Notes", data_type="text"
    )
    long = "x" * 4000
    fitted = fitted_for_marketo({"company": long, "chatNotes": long, "firstName": "Ada"})
    assert fitted == {"company": "x" * MARKETO_VALUE_LENGTH, "chatNotes": long, "firstName": "Ada"}


def test_outbox_keys_stay_within_their_column_whatever_the_goals_name() -> None:
    assert outbox_key(7, "goal:Booked") == "conversation:7:goal:Booked"
    long = outbox_key(7, "goal:" + "g" * 500)
    assert len(long) <= 200
    assert long != outbox_key(7, "goal:" + "h" * 500)
