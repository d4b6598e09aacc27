"""Idempotency keys, delivery counts and the failed-tasks page; tasks run eagerly here.

The behaviour under real workers that crash is in test_celery_reliability.py (C-1…C-5).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dynchat.celery import app
from dynchat.models import DeadLetter, ProcessedTask, Site
from dynchat.reliable import claim, count_delivery, forget_deliveries, prune_claims
from tests.celery_tasks import fail_then_record, record

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def new_key() -> str:
    return f"test:{uuid.uuid4().hex}"


def bury(task_name: str = "tests.record", **fields: Any) -> DeadLetter:
    defaults: dict[str, Any] = {
        "task_id": str(uuid.uuid4()),
        "args": ["run", new_key()],
        "reason": "Failed after 6 attempts: TransientError: the provider is down",
        "deliveries": 6,
    }
    return DeadLetter.objects.create(task_name=task_name, **{**defaults, **fields})


@pytest.mark.django_db(transaction=True)
def test_a_key_is_claimed_by_the_first_transaction_only() -> None:
    key = new_key()
    with transaction.atomic():
        assert claim(key) is True
    with transaction.atomic():
        assert claim(key) is False
    assert ProcessedTask.objects.filter(key=key).count() == 1


def claim_then_fail(key: str) -> None:
    with transaction.atomic():
        claim(key)
        raise RuntimeError("the effect failed")


@pytest.mark.django_db(transaction=True)
def test_a_claim_rolled_back_with_its_effect_can_be_made_again() -> None:
    key = new_key()
    with pytest.raises(RuntimeError):
        claim_then_fail(key)
    with transaction.atomic():
        assert claim(key) is True


@pytest.mark.django_db(transaction=True)
def test_a_claim_outside_the_effects_transaction_is_refused() -> None:
    with pytest.raises(TransactionManagementError):
        claim(new_key())
    assert not ProcessedTask.objects.exists()


@pytest.mark.django_db
def test_a_claim_names_the_task_that_made_it() -> None:
    key = new_key()
    record.delay("run", key)
    assert ProcessedTask.objects.get(key=key).task_name == "tests.record"
    assert Site.objects.filter(name=key).count() == 1


@pytest.mark.django_db
def test_running_a_task_twice_has_its_effect_once() -> None:
    key = new_key()
    record.delay("run", key)
    record.delay("run", key)
    assert Site.objects.filter(name=key).count() == 1


@pytest.mark.django_db
def test_old_claims_are_pruned_and_recent_ones_kept() -> None:
    old = ProcessedTask.objects.create(key=new_key(), created_at=timezone.now() - timedelta(days=8))
    recent = ProcessedTask.objects.create(key=new_key())
    assert prune_claims(older_than=timedelta(days=7)) == 1
    assert list(ProcessedTask.objects.filter(key__in=[old.key, recent.key])) == [recent]


def test_deliveries_are_counted_per_attempt() -> None:
    task_id = str(uuid.uuid4())
    assert [count_delivery(task_id, 0) for _ in range(3)] == [1, 2, 3]
    assert count_delivery(task_id, 1) == 1
    forget_deliveries(task_id, 0)
    assert count_delivery(task_id, 0) == 1


@pytest.fixture
def eager_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eager tasks retry at once, instead of raising Retry to the caller."""
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_a_task_whose_retries_run_out_is_dead_lettered() -> None:
    key = new_key()
    assert fail_then_record.delay("run", key, 99).failed()
    letter = DeadLetter.objects.get(task_name="tests.fail_then_record")
    assert (letter.args, letter.kwargs) == (["run", key, 99], {})
    assert letter.reason == f"Failed after 6 attempts: TransientError: attempt 6 of {key} fails"
    assert letter.deliveries == 6
    assert letter.resolved_at is None


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_a_task_that_succeeds_on_a_retry_leaves_no_dead_letter() -> None:
    key = new_key()
    assert fail_then_record.delay("run", key, 2).successful()
    assert Site.objects.filter(name=key).exists()
    assert not DeadLetter.objects.exists()


def status(client: Client) -> str:
    response = client.get(reverse("dynchat:worker-status"), headers={"HX-Request": "true"})
    return response.content.decode()


def test_the_worker_status_tells_marketers_of_failed_tasks(marketer_client: Client) -> None:
    bury()
    bury()
    bury(resolved_at=timezone.now(), resolution=DeadLetter.Resolution.DISCARDED)
    html = status(marketer_client)
    assert "2 failed background tasks" in html
    assert f'href="{reverse("dynchat:failed-tasks")}"' in html


def test_the_worker_status_says_nothing_failed_when_nothing_did(marketer_client: Client) -> None:
    bury(resolved_at=timezone.now(), resolution=DeadLetter.Resolution.RETRIED)
    assert "failed background task" not in status(marketer_client)


def test_agents_are_not_told_of_failed_tasks(agent_client: Client) -> None:
    bury()
    assert "failed background task" not in status(agent_client)


def test_the_failed_tasks_page_explains_that_nothing_failed(marketer_client: Client) -> None:
    html = marketer_client.get(reverse("dynchat:failed-tasks")).content.decode()
    assert "No failed background tasks" in html


def test_the_failed_tasks_page_lists_the_newest_first_by_pages(
    marketer_client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    letters = [bury(created_at=timezone.now() - timedelta(minutes=n)) for n in range(30)]
    bury(resolved_at=timezone.now(), resolution=DeadLetter.Resolution.DISCARDED)
    url = reverse("dynchat:failed-tasks")
    with django_assert_num_queries(4):  # session, user, count, page
        first = marketer_client.get(url).content.decode()
    second = marketer_client.get(f"{url}?page=2").content.decode()
    assert first.count('id="failed-task-') == 25
    assert second.count('id="failed-task-') == 5
    assert first.index(f'id="failed-task-{letters[0].pk}"') < first.index(
        f'id="failed-task-{letters[1].pk}"'
    )
    assert f'id="failed-task-{letters[29].pk}"' in second
    assert "Page 1 of 2" in first
    assert "TransientError: the provider is down" in first
    assert "tests.record" in first


def test_retrying_sends_the_task_again_with_its_arguments(
    marketer_client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    key = new_key()
    letter = bury(args=["run", key])
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            reverse("dynchat:failed-task-retry", args=[letter.pk]), headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    assert "Sent again" in response.content.decode()
    assert "<html" not in response.content.decode()
    assert Site.objects.filter(name=key).count() == 1
    letter.refresh_from_db()
    assert letter.resolution == DeadLetter.Resolution.RETRIED
    assert letter.resolved_at is not None


def test_a_failed_task_is_retried_once_however_often_one_clicks(
    marketer_client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    letter = bury()
    url = reverse("dynchat:failed-task-retry", args=[letter.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        marketer_client.post(url)
        assert marketer_client.post(url).status_code == 404
    assert len(callbacks) == 1


def test_retrying_without_htmx_goes_back_to_the_list(marketer_client: Client) -> None:
    letter = bury()
    response = marketer_client.post(
        reverse("dynchat:failed-task-retry", args=[letter.pk]), follow=True
    )
    assert response.redirect_chain == [(reverse("dynchat:failed-tasks"), 302)]
    assert "tests.record was sent to the workers again." in response.content.decode()


def test_discarding_gives_up_on_the_task(
    marketer_client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    letter = bury()
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(
            reverse("dynchat:failed-task-discard", args=[letter.pk]),
            headers={"HX-Request": "true"},
        )
    assert "Discarded" in response.content.decode()
    assert callbacks == []
    letter.refresh_from_db()
    assert letter.resolution == DeadLetter.Resolution.DISCARDED
    assert "No failed background tasks" in (
        marketer_client.get(reverse("dynchat:failed-tasks")).content.decode()
    )


@pytest.mark.parametrize("action", ["dynchat:failed-task-retry", "dynchat:failed-task-discard"])
def test_agents_cannot_retry_or_discard_failed_tasks(agent_client: Client, action: str) -> None:
    letter = bury()
    assert agent_client.post(reverse(action, args=[letter.pk])).status_code == 403
    letter.refresh_from_db()
    assert letter.resolved_at is None
