"""P-2: the purge of 500,000 expired events in keyset batches, while widgets keep posting events."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from dialogues import retention
from dialogues.models import Conversation, ConversationEvent, DialogueVersion, Visitor
from dialogues.report_models import PurgeRun
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from tests.widget.api import published, start, visitor_key

CONVERSATIONS = 5_000
EXPIRED_EACH = 100  # 500,000 expired events in all
RECENT_EACH = 101  # and a few more recent ones, so that no override is needed
WIDGET_POSTS_PER_SECOND = 20
LOOPING_FLOW: dict[str, Any] = {
    "version": 1,
    "start": "ask",
    "cards": {
        "ask": {"type": "question", "text": "Once more?", "field": None,
                "answers": [{"id": "again", "label": "Again", "value": "again", "next": "ask"},
                            {"id": "done", "label": "Done", "value": "done", "next": "bye"}]},
        "bye": {"type": "end"},
    },
}  # fmt: skip
EVENTS = ConversationEvent._meta.label


def seed(site: Site, version: DialogueVersion, now: datetime) -> None:
    """5,000 visitors with a conversation each, and their events: 100 expired, 101 recent each,
    all inserted by the database itself (table names are the models', the rest parameters)."""
    visitors = Visitor._meta.db_table
    conversations = Conversation._meta.db_table
    events = ConversationEvent._meta.db_table
    long_ago = now - timedelta(days=120)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {visitors} (site_id, key, munchkin_cookie, email, fields, quarantined,
                                        created_at, last_seen_at)
                SELECT %s, 'purged-' || n, '', '', '{{}}'::jsonb, false, %s, %s
                FROM generate_series(1, %s) AS n""",  # noqa: S608
            [site.pk, long_ago, long_ago, CONVERSATIONS],
        )
        cursor.execute(
            f"""INSERT INTO {conversations} (visitor_id, dialogue_id, version_id, state, card,
                                             last_seq, page_url, started_at, updated_at)
                SELECT id, %s, %s, 'completed', '', 0, '', %s, %s FROM {visitors}
                WHERE site_id = %s AND key LIKE 'purged-%%'""",  # noqa: S608
            [version.dialogue_id, version.pk, long_ago, long_ago, site.pk],
        )
        for first, count, newest in ((0, EXPIRED_EACH, long_ago), (1, RECENT_EACH, now)):
            cursor.execute(
                f"""INSERT INTO {events} (conversation_id, kind, card, value, page_url, occurred_at)
                    SELECT c.id, 'answer', 'ask', 'again', '', %s - n * interval '1 minute'
                    FROM {conversations} AS c CROSS JOIN generate_series(%s, %s) AS n
                    WHERE c.dialogue_id = %s ORDER BY n, c.id""",  # noqa: S608
                [newest, first, first + count - 1, version.dialogue_id],
            )
        cursor.execute(f"ANALYZE {events}")


class Widget(threading.Thread):
    """A widget answering its question at a steady rate, counting every answer that failed."""

    def __init__(self, started: Any) -> None:
        super().__init__(daemon=True)
        body = started.json()
        self.conversation = int(body["conversation"]["id"])
        self.url = reverse("widget:events", args=[self.conversation])
        self.headers = {"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {body['token']}"}
        self.posted = self.accepted = 0
        self.errors: list[str] = []
        self.first_answer = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        client = Client()
        try:
            while not self.stop.is_set():
                self.posted += 1
                event = {"seq": self.posted, "type": "answer", "card": "ask", "answer": "again"}
                try:
                    response = client.post(
                        self.url, {"events": [event]}, content_type="application/json",
                        headers=self.headers, secure=True,
                    )  # fmt: skip
                    if response.status_code == 202:
                        self.accepted += int(response.json()["accepted"])
                    else:
                        self.errors.append(f"{response.status_code}: {response.content[:200]!r}")
                except Exception as error:  # every failure is counted
                    self.errors.append(repr(error))
                self.first_answer.set()
                time.sleep(1 / WIDGET_POSTS_PER_SECOND)
        finally:
            connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(240)
def test_p2_half_a_million_expired_events_go_in_batches_while_widgets_post(site: Site) -> None:
    """P-2: 100 batches of 5,000; widget answers meanwhile all accepted; a second run deletes 0."""
    now = timezone.now()
    version = published(site, LOOPING_FLOW)
    seed(site, version, now)
    expired = ConversationEvent.objects.filter(occurred_at__lt=now - retention.RETENTION)
    assert expired.count() == CONVERSATIONS * EXPIRED_EACH == 500_000

    with override_settings(RATELIMIT_ENABLED=False):
        widget = Widget(start(Client(), version, visitor_key(1)))
        widget.start()
        try:
            assert widget.first_answer.wait(timeout=30)
            run = retention.purge(batch=5_000)
        finally:
            widget.stop.set()
            widget.join(timeout=30)

    assert run.outcome == PurgeRun.Outcome.DONE, run.reason
    assert run.deleted == {EVENTS: 500_000}
    assert run.batches == 100
    assert not expired.exists()
    seeded = ConversationEvent.objects.filter(conversation__visitor__key__startswith="purged-")
    assert seeded.count() == CONVERSATIONS * RECENT_EACH
    answers = ConversationEvent.objects.filter(conversation_id=widget.conversation, kind="answer")
    assert answers.count() == widget.accepted
    assert widget.errors == []
    assert widget.posted > 0
    assert widget.accepted == widget.posted

    again = retention.purge(batch=5_000)
    assert again.outcome == PurgeRun.Outcome.DONE
    assert again.deleted == {EVENTS: 0}
    assert again.batches == 0
