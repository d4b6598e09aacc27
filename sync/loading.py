"""Marketo rows into the mirror tables: ``COPY`` into a staging table, then one upsert per batch.

Bulk export files and REST pages take the same path: both become CSV (Marketo's own format, with
the literal ``null`` for empty values) streamed into a session-local staging table of text
columns; SQL casts them to the mirror's types and upserts ``BATCH_ROWS`` rows per transaction, so
the caller can record how far it got in the same commit. Nothing is ever held whole in memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from sync.fields import ACTIVITY_COLUMNS, COMPANY_CORE, LEAD_CORE, NUMERIC_TYPES

BATCH_ROWS = 50_000
CHUNK_BYTES = 1 << 20
STAGE = "sync_stage"
# SQL here is built from fixed fragments, generated column names (c0, c1, …) and attribute names
# that must match SAFE_NAME (Marketo's REST names are identifiers); values only travel by COPY.
SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
NUMBER = r"'^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$'"
INTEGER = r"'^-?[0-9]+$'"
# Lead imports hold this advisory lock (shared) per batch and a privacy erase holds it
# (exclusive): an import either commits before the erase, which then removes what it wrote, or
# runs after it and sees the tombstone.
LEADS_LOCK = 0x5EAD5


class BadFile(Exception):
    """An export file whose columns are not the ones asked for."""


def _column(index: int) -> str:
    return f"c{index}"


def _json(column: str, data_type: str) -> str:
    if data_type in NUMERIC_TYPES:
        return f"CASE WHEN {column} ~ {NUMBER} THEN to_jsonb({column}::numeric) ELSE to_jsonb({column}) END"  # noqa: E501
    if data_type == "boolean":
        return (
            f"CASE lower({column}) WHEN 'true' THEN 'true'::jsonb WHEN '1' THEN 'true'::jsonb "
            f"WHEN 'false' THEN 'false'::jsonb WHEN '0' THEN 'false'::jsonb "
            f"ELSE to_jsonb({column}) END"
        )
    return f"to_jsonb({column})"


def _attributes(header: Sequence[str], types: Mapping[str, str]) -> str:
    unsafe = [name for name in types if not SAFE_NAME.fullmatch(name)]
    if unsafe:
        raise BadFile(f"unexpected attribute names: {', '.join(unsafe)[:200]}")
    pairs = [
        f"'{name}', {_json(_column(i), types[name])}"
        for i, name in enumerate(header)
        if name in types
    ]
    if not pairs:
        return "'{}'::jsonb"
    # jsonb_build_object takes at most 100 arguments: 40 pairs per call.
    parts = [
        f"jsonb_build_object({', '.join(pairs[i : i + 40])})" for i in range(0, len(pairs), 40)
    ]
    return f"jsonb_strip_nulls({' || '.join(parts)})"


def _text(column: str) -> str:
    return f"coalesce({column}, '')"


def _integer(column: str, kind: str = "bigint") -> str:
    return f"CASE WHEN {column} ~ {NUMBER} THEN round({column}::numeric)::{kind} END"


LEAD_CASTS: dict[str, Callable[[str], str]] = {
    "id": lambda c: f"{c}::bigint",
    "email": _text,
    "first_name": _text,
    "last_name": _text,
    "company_name": _text,
    "external_company_id": _text,
    "cookies": lambda c: (
        f"coalesce(regexp_split_to_array(nullif(trim({c}), ''), '\\s*,\\s*'), '{{}}')"
    ),
    "lead_score": lambda c: _integer(c, "integer"),
    "created_at": lambda c: f"{c}::timestamptz",
    "updated_at": lambda c: f"{c}::timestamptz",
}
COMPANY_CASTS: dict[str, Callable[[str], str]] = {
    "id": lambda c: f"{c}::bigint",
    "external_company_id": _text,
    "name": _text,
    "industry": _text,
    "number_of_employees": lambda c: _integer(c, "integer"),
    "annual_revenue": lambda c: f"CASE WHEN {c} ~ {NUMBER} THEN round({c}::numeric, 2) END",
    "billing_country": _text,
    "updated_at": lambda c: f"{c}::timestamptz",
}


class Staging:
    """A session-local table of text columns, filled by COPY, read in numbered batches."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = list(header)
        columns = ", ".join(f"{_column(i)} text" for i in range(len(header)))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(
                f"CREATE TEMP TABLE {STAGE} (n bigint GENERATED ALWAYS AS IDENTITY, {columns})"
            )

    def copy(self, chunks: Iterable[bytes | str]) -> int:
        columns = ", ".join(_column(i) for i in range(len(self.header)))
        sql = f"COPY {STAGE} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, NULL 'null')"
        with connection.cursor() as cursor:
            with cursor.copy(sql) as copy:
                for chunk in chunks:
                    copy.write(chunk)
            cursor.execute(f"SELECT coalesce(max(n), 0) FROM {STAGE}")
            return int(cursor.fetchone()[0])

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")

    def index_of(self, name: str) -> str:
        return _column(self.header.index(name))


def file_chunks(path: Path) -> Iterable[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk


def file_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as source:
        return next(csv.reader(source), [])


def records_csv(records: Iterable[Mapping[str, Any]], header: Sequence[str]) -> str:
    """REST records as Marketo-style CSV (header row; ``null`` for missing values)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([_cell(record.get(name)) for name in header])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _select(staging: Staging, casts: Mapping[str, Callable[[str], str]], core: Mapping[str, str],
            types: Mapping[str, str]) -> tuple[list[str], list[str]]:  # fmt: skip
    columns, expressions = [], []
    for rest_name, column in core.items():
        if rest_name in staging.header:
            columns.append(column)
            expressions.append(casts[column](staging.index_of(rest_name)))
    columns.append("attributes")
    expressions.append(_attributes(staging.header, types))
    return columns, expressions


def _upsert_leads_sql(staging: Staging, types: Mapping[str, str], merge: bool) -> str:
    key = staging.index_of("id")
    if merge:
        # A back-fill: only the new attributes, onto leads the mirror already has.
        return (
            f"UPDATE sync_marketolead AS lead SET attributes = lead.attributes || s.attributes "
            f"FROM (SELECT DISTINCT ON ({key}) {key}::bigint AS id, "
            f"{_attributes(staging.header, types)} AS attributes FROM {STAGE} "
            f"WHERE n > %s AND n <= %s ORDER BY {key}, n DESC) AS s WHERE lead.id = s.id"
        )
    columns, expressions = _select(staging, LEAD_CASTS, LEAD_CORE, types)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
    return (
        f"INSERT INTO sync_marketolead ({', '.join(columns)}, synced_at) "
        f"SELECT DISTINCT ON ({key}) {', '.join(expressions)}, now() FROM {STAGE} "
        f"WHERE n > %s AND n <= %s{_not_erased(staging)} ORDER BY {key}, n DESC "
        f"ON CONFLICT (id) DO UPDATE SET {updates}, synced_at = excluded.synced_at "
        # An older copy of a lead (an overlapping window, a late page) never wins.
        f"WHERE sync_marketolead.updated_at IS NULL OR excluded.updated_at IS NULL "
        f"OR excluded.updated_at >= sync_marketolead.updated_at"
    )


def _not_erased(staging: Staging) -> str:
    """Leave out leads whose e-mail was erased on request (sync.models.ErasedSubject): the hash
    is of the trimmed, lower-cased e-mail, as dialogues.privacy.subject_hash makes it."""
    if "email" not in staging.header:
        return ""
    email = staging.index_of("email")
    trimmed = f"lower(btrim({email}, E' \\t\\n\\r\\f\\v'))"
    digest = f"encode(sha256(convert_to({trimmed}, 'UTF8')), 'hex')"
    return (
        f" AND ({email} IS NULL OR NOT EXISTS "
        f"(SELECT 1 FROM sync_erasedsubject erased WHERE erased.email_hash = {digest}))"
    )


def _not_erased_lead(lead_id: str) -> str:
    """Leave out activities of leads erased on request (their chat answers may be in them)."""
    return (
        f" AND NOT EXISTS (SELECT 1 FROM sync_erasedsubject erased "
        f"WHERE {lead_id}::bigint = ANY(erased.lead_ids))"
    )


def _upsert_companies_sql(staging: Staging, types: Mapping[str, str]) -> str:
    key = staging.index_of("id")
    columns, expressions = _select(staging, COMPANY_CASTS, COMPANY_CORE, types)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
    external = staging.index_of("externalCompanyId")
    return (
        # A company Marketo re-created under a new id takes over its external id.
        f"WITH moved AS (DELETE FROM sync_marketocompany c USING {STAGE} s "
        f"WHERE c.external_company_id = s.{external} AND c.id <> s.{key}::bigint "
        f"AND s.n > %s AND s.n <= %s) "
        f"INSERT INTO sync_marketocompany ({', '.join(columns)}, synced_at) "
        f"SELECT DISTINCT ON ({key}) {', '.join(expressions)}, now() FROM {STAGE} "
        f"WHERE n > %s AND n <= %s AND {external} IS NOT NULL ORDER BY {key}, n DESC "
        f"ON CONFLICT (id) DO UPDATE SET {updates}, synced_at = excluded.synced_at"
    )


def _insert_activities_sql(staging: Staging) -> str:
    c = {name: staging.index_of(name) for name in ACTIVITY_COLUMNS if name in staging.header}
    attributes = f"coalesce({c['attributes']}::jsonb, '{{}}')" if "attributes" in c else "'{}'"
    primary = _text(c["primaryAttributeValue"]) if "primaryAttributeValue" in c else "''"
    campaign = _integer(c["campaignId"]) if "campaignId" in c else "NULL"
    primary_id = (
        _integer(c["primaryAttributeValueId"]) if "primaryAttributeValueId" in c else "NULL"
    )
    return (
        "INSERT INTO sync_marketoactivity (marketo_guid, lead_id, activity_date, activity_type_id, "
        "campaign_id, primary_attribute_value_id, primary_attribute_value, attributes) "
        f"SELECT DISTINCT ON ({c['marketoGUID']}) {c['marketoGUID']}, {c['leadId']}::bigint, "
        f"{c['activityDate']}::timestamptz, {c['activityTypeId']}::integer, {campaign}, "
        f"{primary_id}, {primary}, {attributes} FROM {STAGE} "
        f"WHERE n > %s AND n <= %s{_not_erased_lead(c['leadId'])} ORDER BY {c['marketoGUID']} "
        # Activities are write-once in Marketo: a second copy changes nothing.
        "ON CONFLICT (marketo_guid) DO NOTHING"
    )


def load(
    kind: str,
    chunks: Iterable[bytes | str],
    header: Sequence[str],
    *,
    types: Mapping[str, str],
    start_row: int = 0,
    merge: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Stage ``chunks`` (CSV with ``header``) and upsert them into the ``kind`` mirror.

    Batches of ``BATCH_ROWS`` rows commit one by one; ``on_batch(rows_done)`` runs inside each
    batch's transaction, so progress recorded there commits with the rows. Rows up to
    ``start_row`` are skipped (already loaded before a restart). Returns the rows in the file.
    """
    required = {"leads": "id", "companies": "id", "activities": "marketoGUID"}[kind]
    if required not in header or len(set(header)) != len(header):
        raise BadFile(f"unexpected columns in the {kind} file: {', '.join(header)[:200]}")
    staging = Staging(header)
    try:
        total = staging.copy(chunks)
        if kind == "leads":
            sql = _upsert_leads_sql(staging, types, merge)
        elif kind == "companies":
            sql = _upsert_companies_sql(staging, types)
        else:
            sql = _insert_activities_sql(staging)
        for low in range(start_row, total, BATCH_ROWS):
            high = min(low + BATCH_ROWS, total)
            params = [low, high, low, high] if kind == "companies" else [low, high]
            with transaction.atomic(), connection.cursor() as cursor:
                if kind == "leads":
                    cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [LEADS_LOCK])
                cursor.execute(sql, params)
                if on_batch:
                    on_batch(high)
        return total
    finally:
        staging.drop()


def load_records(
    kind: str, records: Sequence[Mapping[str, Any]], fields: Sequence[str], *,
    types: Mapping[str, str],
) -> int:  # fmt: skip
    """REST records (one page) into the ``kind`` mirror, in the caller's transaction."""
    if not records:
        return 0
    return load(kind, [records_csv(records, fields)], fields, types=types)
