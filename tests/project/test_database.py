from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgres_has_btree_gist_for_the_no_overlap_constraint() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        assert "btree_gist" in {row[0] for row in cursor.fetchall()}


def test_postgres_is_the_database() -> None:
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
