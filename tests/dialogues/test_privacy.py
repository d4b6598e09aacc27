"""Privacy requests: erase (P-5, P-6) and export (P-7) of one person, admin page and commands."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dialogues import privacy, visitors
from dialogues.models import Conversation, ConversationEvent, EventKind, PrivacyRequest, Visitor
from dialogues.privacy_export import validate
from dynchat.models import Site, User
from meetings.models import Meeting, MeetingStatus
from sync.models import (
    AttributeObject,
    ErasedSubject,
    MarketoActivity,
    MarketoLead,
    OutboxMessage,
    OutboxState,
    SyncedAttribute,
)
from sync.outbox import DrainReport, drain_outbox
from tests.meetings import together
from tests.widget.api import published, send, start

EMAIL = "zephyrine.q@example.com"
FIRST, LAST = "Zephyrine", "Quillfeather"
ANSWER = "plum-orchard-secret"
TOKEN = "_mch-example.com-1700000000000-55555"
COOKIE = f"id:123-ABC-456&token:{TOKEN}"
FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hi there.", "next": "email"},
        "email": {"type": "capture", "input": "email", "prompt": "E-mail?", "field": "email",
                  "next": "name"},
        "name": {"type": "capture", "input": "text", "prompt": "Name?", "field": "firstName",
                 "next": "about"},
        "about": {"type": "capture", "input": "text", "prompt": "Anything else?",
                  "field": "comments", "next": "bye"},
        "bye": {"type": "end"},
    },
}  # fmt: skip
NEEDLES = [EMAIL, FIRST, LAST, ANSWER]


def answered(client: Client, site: Site, key: str) -> Any:
    """A visitor who gave their e-mail, first name and a free-text answer through the widget."""
    SyncedAttribute.objects.get_or_create(
        object=AttributeObject.PERSON, name="comments",
        defaults={"display_name": "Comments", "data_type": "text"},
    )  # fmt: skip
    started = start(client, published(site, FLOW), key)
    # A person takes a moment before typing (sooner is a bot's capture, dropped).
    Conversation.objects.filter(pk=started.json()["conversation"]["id"]).update(
        started_at=timezone.now() - timedelta(minutes=1)
    )
    events = [
        {"seq": 1, "type": "capture", "card": "email", "value": EMAIL.upper()},
        {"seq": 2, "type": "capture", "card": "name", "value": FIRST},
        {"seq": 3, "type": "capture", "card": "about", "value": f"{ANSWER} 0"},
    ]
    assert send(client, started, events).status_code == 202
    return started


def seed_everything(client: Client, site: Site, agent: User) -> tuple[Visitor, Any]:
    """Data in every table that can hold the person: visitor, conversation with 1,000 answers,
    the lead mirror row and its activity, a meeting, queued Marketo updates, cached snapshots."""
    started = answered(client, site, "visitor-privacy-1")
    visitor = Visitor.objects.get(key="visitor-privacy-1")
    conversation = Conversation.objects.get(visitor=visitor)
    ConversationEvent.objects.bulk_create(
        ConversationEvent(
            conversation=conversation, kind=EventKind.ANSWER, card="about", value=f"{ANSWER} {n}"
        )
        for n in range(1, 1001)
    )
    MarketoLead.objects.create(
        id=4242, email=EMAIL.title(), first_name=FIRST, last_name=LAST, cookies=[TOKEN]
    )
    MarketoActivity.objects.create(
        marketo_guid="guid-1", lead_id=4242, activity_date=timezone.now(), activity_type_id=1,
        primary_attribute_value=f"{FIRST} {LAST}", attributes={"fieldValue": ANSWER},
    )  # fmt: skip
    Visitor.objects.filter(pk=visitor.pk).update(lead_id=4242, munchkin_cookie=TOKEN)
    starts = timezone.now() + timedelta(days=2)
    Meeting.objects.create(
        site=site, agent=agent, conversation_id=conversation.pk, lead_email=EMAIL,
        lead_name=f"{FIRST} {LAST}", visitor_time_zone="Europe/Paris", starts_at=starts,
        ends_at=starts + timedelta(minutes=30), routing_detail={"visitor": visitor.key},
    )  # fmt: skip
    visitor.refresh_from_db()
    assert visitors.snapshot(site.pk, visitor.key, COOKIE).known
    assert visitors.snapshot(site.pk, "", COOKIE).facts["lead.email"] == EMAIL.title()
    assert OutboxMessage.objects.filter(state=OutboxState.PENDING).exists()
    return visitor, started


def database_hits(needle: str) -> list[str]:
    """Every text, JSON and array column of every table in the public schema holding ``needle``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
        )
        columns = cursor.fetchall()
        hits = []
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def redis_hits(needle: str) -> list[str]:
    """Every Redis key whose name or value holds ``needle`` (any case)."""
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    wanted = needle.lower().encode()
    # Earlier tests' keys (each test has its own cache key prefix) are not this test's data.
    prefix = settings.CACHES["default"]["KEY_PREFIX"].encode()
    hits = []
    for key in client.scan_iter(count=1000):
        if key.startswith(b"t-") and not key.startswith(prefix + b":"):
            continue
        kind = client.type(key).decode()
        if kind == "string":
            values = [client.get(key) or b""]
        elif kind == "hash":
            values = [*client.hkeys(key), *client.hvals(key)]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = client.zrange(key, 0, -1)
        else:
            values = []
        if any(wanted in blob.lower() for blob in [key, *values]):
            hits.append(key.decode(errors="replace"))
    return hits


def pii_left() -> dict[str, list[str]]:
    found = {needle: database_hits(needle) + redis_hits(needle) for needle in NEEDLES}
    return {needle: hits for needle, hits in found.items() if hits}


@pytest.mark.django_db
def test_erase_leaves_no_trace_of_the_person_in_the_database_or_redis(
    client: Client, site: Site, agent: User, marketo_on: None, caplog: Any
) -> None:
    """P-5: a visitor with data everywhere (1,000 answers) erased by e-mail in another case: a
    scan of every text/JSON column and every Redis key and value finds none of their e-mail,
    name or answers; the meeting keeps its slot; the queued push is a no-op; idempotent."""
    seed_everything(client, site, agent)
    assert pii_left()  # the scan does find the person before
    caplog.set_level(logging.INFO, logger="dialogues.privacy")

    summary = privacy.erase(email=f"  {EMAIL.upper()} ", via="command")

    assert pii_left() == {}
    assert summary["events"] >= 1001
    assert summary["outbox_cancelled"] >= 1
    assert (summary["visitors"], summary["conversations"], summary["leads"]) == (1, 1, 1)
    meeting = Meeting.objects.get()
    assert (meeting.lead_email, meeting.lead_name, meeting.routing_detail) == ("", "", {})
    assert meeting.status == MeetingStatus.UPCOMING
    assert meeting.visitor_time_zone == "Europe/Paris"
    assert drain_outbox() == DrainReport()
    tombstone = ErasedSubject.objects.get(email_hash=privacy.subject_hash(EMAIL))
    assert tombstone.lead_ids == [4242]
    logged = PrivacyRequest.objects.get()
    assert (logged.kind, logged.subject) == ("erase", privacy.subject_hash(EMAIL))
    assert caplog.messages
    assert all(
        needle.lower() not in message.lower() for message in caplog.messages for needle in NEEDLES
    )

    again = privacy.erase(email=EMAIL)

    assert {name: n for name, n in again.items() if name != "tombstones"} == dict.fromkeys(
        [name for name in again if name != "tombstones"], 0
    )
    assert PrivacyRequest.objects.count() == 2
    assert Meeting.objects.count() == 1


@pytest.mark.django_db
def test_a_conversation_post_after_the_erase_finds_no_conversation(
    client: Client, site: Site
) -> None:
    """P-5: the widget of an erased visitor sends an answer with its old token: 404, no data."""
    started = answered(client, site, "visitor-privacy-2")
    privacy.erase(visitor_key="visitor-privacy-2")

    late = send(client, started, [{"seq": 4, "type": "opened"}])

    assert late.status_code == 404
    assert late.json()["error"]["code"] == "conversation_not_found"
    assert not Visitor.objects.exists()
    assert not ConversationEvent.objects.exists()


@pytest.mark.django_db
def test_erasing_by_visitor_id_reaches_the_e_mail_they_gave(client: Client, site: Site) -> None:
    """P-5: erase by visitor id also erases what is held under the e-mail they typed."""
    answered(client, site, "visitor-privacy-3")

    privacy.erase(visitor_key="visitor-privacy-3")

    assert pii_left() == {}
    assert ErasedSubject.objects.filter(email_hash=privacy.subject_hash(EMAIL)).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_erase_racing_an_answer_and_a_lead_import_leaves_no_pii(client: Client, site: Site) -> None:
    """P-6: erase while the same visitor posts an answer and the sync imports the same lead:
    after all three, no row holds the person; the answer is 202 or 404, never a 500."""
    from sync.fields import LEAD_CORE
    from sync.loading import load_records

    started = answered(client, site, "visitor-privacy-4")
    lead = dict.fromkeys(LEAD_CORE, "") | {
        "id": 5151, "email": EMAIL, "firstName": FIRST, "lastName": LAST, "cookies": None,
        "leadScore": None, "createdAt": None, "updatedAt": "2026-01-05T10:00:00Z",
    }  # fmt: skip
    late_answer = [{"seq": 4, "type": "opened"}]

    def work(index: int) -> Any:
        if index == 0:
            return privacy.erase(email=EMAIL)
        if index == 1:
            return send(Client(), started, late_answer).status_code
        return load_records("leads", [lead], list(LEAD_CORE), types={})

    outcomes = together(3, work)
    connections.close_all()

    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert outcomes[1] in (202, 404)
    assert pii_left() == {}
    # The import ran before or after the erase; either way the lead is not there now, and a
    # later import does not bring it back.
    load_records("leads", [lead], list(LEAD_CORE), types={})
    assert not MarketoLead.objects.exists()


@pytest.mark.django_db
def test_export_holds_every_stored_field_of_the_person_and_nobody_else(
    client: Client, site: Site, agent: User
) -> None:
    """P-7: e-mails match whatever their case (A@X.COM is a@x.com), never by prefix
    (a@x.com.au is someone else); the export follows its JSON Schema and is JSON."""
    for key, email in [("v-lower", "a@x.com"), ("v-upper", "A@X.COM"), ("v-au", "a@x.com.au")]:
        visitor = Visitor.objects.create(site=site, key=key, email=email, fields={"city": key})
        version = published(site) if key == "v-lower" else None
        if version is not None:
            conversation = Conversation.objects.create(
                visitor=visitor, dialogue=version.dialogue, version=version
            )
            ConversationEvent.objects.create(
                conversation=conversation, kind=EventKind.ANSWER, value="yes"
            )
    MarketoLead.objects.create(id=1, email="A@x.com", first_name="Ann")
    MarketoLead.objects.create(id=2, email="a@x.com.au", first_name="Aussie")
    OutboxMessage.objects.create(kind="push_lead", email="a@x.com", payload={"fields": {}})
    OutboxMessage.objects.create(kind="push_lead", email="a@x.com.au", payload={"fields": {}})
    starts = timezone.now() + timedelta(days=1)
    Meeting.objects.create(
        site=site, agent=agent, lead_email="A@X.COM", starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
    )  # fmt: skip

    data = privacy.export(email="a@x.com")

    validate(data)
    validate(json.loads(json.dumps(data)))
    assert sorted(v["key"] for v in data["visitors"]) == ["v-lower", "v-upper"]
    assert [lead["id"] for lead in data["leads"]] == [1]
    assert [m["email"] for m in data["outbox"]] == ["a@x.com"]
    assert [m["lead_email"] for m in data["meetings"]] == ["A@X.COM"]
    lower = next(v for v in data["visitors"] if v["key"] == "v-lower")
    assert [e["value"] for e in lower["conversations"][0]["events"]] == ["yes"]
    assert "x.com.au" not in json.dumps(data)
    assert "Aussie" not in json.dumps(data)
    logged = PrivacyRequest.objects.get()
    assert (logged.kind, logged.subject) == ("export", privacy.subject_hash("a@x.com"))


def test_the_export_schema_refuses_a_missing_field() -> None:
    """P-7: the schema names every field: an export missing one is not valid."""
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        validate({"format": "dynchat.privacy-export/1", "generated_at": "2026-01-01T00:00:00Z"})


@pytest.mark.django_db
def test_marketers_export_and_erase_from_the_privacy_page(
    client: Client, site: Site, marketer_client: Client, marketer: User
) -> None:
    """The Privacy requests page: export downloads JSON, erase needs the box ticked, both logged."""
    answered(client, site, "visitor-privacy-5")
    url = reverse("dialogues:privacy")

    page = marketer_client.get(url)
    assert page.status_code == 200
    assert b"No privacy requests yet" in page.content

    download = marketer_client.post(url, {"email": EMAIL, "action": "export"})
    assert download["Content-Type"].startswith("application/json")
    assert "attachment" in download["Content-Disposition"]
    validate(json.loads(download.content))

    unconfirmed = marketer_client.post(url, {"email": EMAIL, "action": "erase"})
    assert unconfirmed.status_code == 200
    assert Visitor.objects.exists()

    erased = marketer_client.post(url, {"email": EMAIL, "action": "erase", "confirm": "on"})
    assert erased.status_code == 302
    assert not Visitor.objects.exists()

    log = marketer_client.get(url)
    assert log.content.count(privacy.subject_hash(EMAIL).encode()) == 2  # one per request
    assert EMAIL.encode() not in log.content
    assert [r.requested_by for r in PrivacyRequest.objects.all()] == [marketer, marketer]


@pytest.mark.django_db
def test_agents_cannot_open_the_privacy_page(agent_client: Client) -> None:
    assert agent_client.get(reverse("dialogues:privacy")).status_code == 403


@pytest.mark.django_db
def test_the_commands_export_and_erase_by_e_mail_or_visitor_id(client: Client, site: Site) -> None:
    """export_visitor_data prints the JSON export; erase_visitor_data erases and says what."""
    answered(client, site, "visitor-privacy-6")
    out = io.StringIO()

    call_command("export_visitor_data", "--visitor", "visitor-privacy-6", stdout=out)
    exported = json.loads(out.getvalue())
    validate(exported)
    assert exported["visitors"][0]["email"] == EMAIL.upper()

    out = io.StringIO()
    call_command("erase_visitor_data", "--email", EMAIL, stdout=out)
    assert "visitors: 1" in out.getvalue()
    assert not Visitor.objects.exists()
    assert [r.via for r in PrivacyRequest.objects.all()] == ["command", "command"]
