"""F-1: schemathesis fuzzes the running widget API from its own OpenAPI document (fixed seed).

The document is what Dynchat serves at /api/widget/v1/openapi.json; the server is the test's
live server with a published dialogue and a started conversation, so generated requests reach
past the site and token checks. Every check must pass: no 5xx, every status code and body as
documented, negative data refused, auth not ignored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from dialogues import services
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from widget.openapi import document

SEED = 20261124
CHECKS = (
    "not_a_server_error,response_schema_conformance,status_code_conformance,"
    "content_type_conformance,negative_data_rejection,ignored_auth,use_after_free"
)
FLOW = {
    "version": 1,
    "start": "q",
    "cards": {
        "q": {
            "type": "question",
            "text": "Again?",
            "answers": [
                {"id": "again", "label": "Again", "value": "again", "next": "q"},
                {"id": "done", "label": "Done", "value": "done", "next": "email"},
            ],
        },
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": "Your e-mail?",
            "field": "email",
            "next": "end",
        },
        "end": {"type": "end"},
    },
}


def test_the_document_is_served_and_names_every_widget_route(client: Client) -> None:
    response = client.get(reverse("widget:openapi"))
    assert response.status_code == 200
    served = response.json()
    assert served == document()
    assert served["openapi"] == "3.1.0"
    assert set(served["paths"]) == {
        "/api/widget/v1/decide",
        "/api/widget/v1/versions/{version_id}",
        "/api/widget/v1/conversations",
        "/api/widget/v1/conversations/{conversation_id}",
        "/api/widget/v1/conversations/{conversation_id}/events",
        "/api/widget/v1/conversations/{conversation_id}/slots",
        "/api/widget/v1/conversations/{conversation_id}/holds",
        "/api/widget/v1/conversations/{conversation_id}/bookings",
        "/api/widget/v1/visitors/withdraw",
        "/api/widget/v1/visitors/identify",
    }


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
@override_settings(RATELIMIT_ENABLED=False)
def test_schemathesis_finds_no_failure_in_the_widget_api(
    live_server: Any, tmp_path: Path, client: Client
) -> None:
    """F-1: `--checks all`-equivalent list, -n 100, fixed seed."""
    site = Site.objects.create(name="Fuzzed", allowed_origins=[ALLOWED_ORIGIN])
    dialogue = services.create_dialogue(
        site=site,
        name="Fuzzed",
        flow=FLOW,
        targeting={
            "include": [f"{ALLOWED_ORIGIN}/*"],
            "exclude": [],
            "audience": [],
            "trigger": {"kind": "immediately", "amount": 0},
        },
    )
    version = services.publish(dialogue)
    started = client.post(
        reverse("widget:conversations"),
        {
            "site": site.key,
            "visitor": "fuzzing-visitor-000000",
            "version": version.pk,
            "url": f"{ALLOWED_ORIGIN}/",
        },
        content_type="application/json",
        headers={"Origin": ALLOWED_ORIGIN},
    ).json()
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        f'"query.site" = "{site.key}"\n'
        f'"path.version_id" = {version.pk}\n'
        f'"path.conversation_id" = {started["conversation"]["id"]}\n'
        # 413: a negative body over 16 KiB is refused for its size before its content.
        "[checks.negative_data_rejection]\n"
        "expected-statuses = [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]\n"
    )
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/widget/v1/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        "100",
        "--max-time",
        "300",
        "--seed",
        str(SEED),
        "--phases",
        "examples,coverage,fuzzing",
        "--header",
        f"Origin: {ALLOWED_ORIGIN}",
        "--header",
        f"Authorization: Bearer {started['token']}",
        "--workers",
        "1",
        "--no-color",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=560, check=False, cwd=tmp_path
    )
    failures = result.stdout[result.stdout.find("FAILURES") :]
    assert result.returncode == 0, failures[:12000] + result.stderr[-2000:]
