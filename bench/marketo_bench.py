"""What the Marketo sync benchmarks (PF-S1, PF-S2) share: the whole system on this machine.

``SyncStack`` starts what a deploy runs — embedded PostgreSQL and Redis as ``manage.py test``
does (data under var/bench/<name>/, not durable), a fresh ``bench`` database, the Marketo sandbox
as its own process, and one Celery worker (prefork, two pool processes) — and this process plays
the Marketo page and beat: it starts runs through ``sync.services`` and calls
``services.resume_runs()`` every few seconds while it waits. Everything it started stops when the
``with`` block ends, on Ctrl-C and on failure too.

While a run goes on, two samplers watch it: the processes (peak RSS of the worker's main and pool
processes, CPU seconds per component) and PostgreSQL (what the worker's session is doing, sampled
from pg_stat_activity), and the wait loop records every export job's steps. ``Profile`` turns that
into where the time went.

Django is set up only once the servers run, so modules that need it are imported inside functions.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import shutil
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import psycopg
import requests
from psycopg import sql

from dynchat.embedded import free_port, wait_until
from dynchat.launcher import start_backing_services
from dynchat.supervisor import Child, Supervisor

if TYPE_CHECKING:
    from sync.models import SyncRun

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLIENT_ID, CLIENT_SECRET = "dynchat-bench", "bench-sandbox-secret"
DATABASE = "bench"
# About ten attributes, as a marketer would choose them: strings, a number, a boolean, a date.
PERSON_ATTRIBUTES = (
    "title", "state", "country", "leadStatus", "leadSource", "productInterest", "customerTier",
    "npsScore", "doNotCall", "trialStartDate",
)  # fmt: skip
COMPANY_ATTRIBUTES = ("industry", "numberOfEmployees")
# Marketo's limits stay on (100 calls / 20 s, 10 at once); the daily call quota and the daily
# export quota are lifted. The sandbox's command line lifts those two only together with the
# rate limits (--no-limits), so they get values no run can reach instead.
NO_DAILY_QUOTA = 1_000_000_000
NO_EXPORT_QUOTA_MB = 1_000_000_000
OUR_CALLS_PER_WINDOW, WINDOW_SECONDS = 80, 20.0  # Dynchat's own share (settings' defaults)
BEAT_SECONDS = 3.0
POLL_SECONDS = 0.25
SAMPLE_SECONDS = 0.5
SPOT_CHECK = 300  # one REST call's worth of records
MB = 1e6
MIB = 2**20


@dataclass(frozen=True)
class DataSet:
    leads: int
    companies: int
    activities: int
    days: float = 120  # leads and activities are spread over this many days up to now

    def sandbox_args(self) -> list[str]:
        return [
            "--leads", str(self.leads), "--companies", str(self.companies),
            "--activities", str(self.activities), "--lead-days", str(self.days),
            "--activity-days", str(self.days),
        ]  # fmt: skip

    def __str__(self) -> str:
        return (
            f"{self.leads:,} leads, {self.companies:,} companies, {self.activities:,} activities "
            f"over {self.days:g} days"
        )


def say(line: str = "") -> None:
    print(line, flush=True)


def database_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def fresh_database(url: str, database: str) -> str:
    """Drop and create ``database`` on the server of ``url``; its URL."""
    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as connection:
        name = sql.Identifier(database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return database_url(url, database)


class ProcessSampler(threading.Thread):
    """Samples named process trees: peak RSS per process, CPU seconds per tree (incl. exited)."""

    def __init__(self, roots: Mapping[str, int]) -> None:
        super().__init__(name="bench-process-sampler", daemon=True)
        self.roots = dict(roots)
        self.stopped = threading.Event()
        self.peak_rss: dict[str, dict[int, int]] = defaultdict(dict)  # tree -> pid -> bytes
        self.cpu: dict[str, dict[int, float]] = defaultdict(dict)  # tree -> pid -> seconds
        self.roles: dict[int, str] = {}

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        for tree, root_pid in self.roots.items():
            try:
                root = psutil.Process(root_pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for process in processes:
                try:
                    with process.oneshot():
                        rss = process.memory_info().rss
                        times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                seconds = times.user + times.system
                if process.pid == root_pid:  # children it reaped (PostgreSQL backends) count too
                    seconds += times.children_user + times.children_system
                peaks = self.peak_rss[tree]
                peaks[process.pid] = max(peaks.get(process.pid, 0), rss)
                self.cpu[tree][process.pid] = max(self.cpu[tree].get(process.pid, 0.0), seconds)
                self.roles.setdefault(process.pid, "main" if process.pid == root_pid else "child")

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        self.sample()

    def peak(self, tree: str, role: str | None = None) -> int:
        return max(
            (rss for pid, rss in self.peak_rss[tree].items() if role in (None, self.roles[pid])),
            default=0,
        )

    def cpu_seconds(self) -> dict[str, float]:
        return {tree: sum(per_pid.values()) for tree, per_pid in self.cpu.items()}


# What the worker's database session is busy with, by the start of the statement.
STATEMENT_KINDS = (
    ("COPY sync_stage", "COPY into the staging table"),
    ("INSERT INTO sync_marketolead", "upsert leads"),
    ("UPDATE sync_marketolead", "upsert leads"),
    ("INSERT INTO sync_marketoactivity", "insert activities"),
    ("WITH moved AS", "upsert companies"),
)


class QuerySampler(threading.Thread):
    """Samples pg_stat_activity: seconds the sync's sessions spent in each kind of statement."""

    def __init__(self, url: str, ignore_pid: int) -> None:
        super().__init__(name="bench-query-sampler", daemon=True)
        self.url, self.ignore_pid = url, ignore_pid
        self.stopped = threading.Event()
        self.seconds: dict[str, float] = defaultdict(float)
        self.other: dict[str, float] = defaultdict(float)  # "other SQL" by its first words

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            last = time.monotonic()
            while not self.stopped.wait(POLL_SECONDS / 2):
                rows = connection.execute(
                    "SELECT backend_type, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'active' "
                    "AND pid <> pg_backend_pid() AND pid <> %s",
                    [self.ignore_pid],
                ).fetchall()
                now = time.monotonic()
                for backend, query in rows:
                    kind = statement_kind(query or "", backend)
                    self.seconds[kind] += now - last
                    if kind == OTHER:
                        self.other[" ".join((query or "").split())[:90]] += now - last
                last = now

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


OTHER = "other SQL"
AUTOVACUUM = "autovacuum (background)"


def statement_kind(query: str, backend: str = "client backend") -> str:
    if backend != "client backend":
        return AUTOVACUUM if backend == "autovacuum worker" else f"{backend} (background)"
    text = " ".join(query.split())
    for start, kind in STATEMENT_KINDS:
        if text.startswith(start):
            return kind
    return OTHER


@dataclass
class JobTrace:
    """When the wait loop first saw an export job in each state."""

    object: str
    window: str
    seen: dict[str, float] = field(default_factory=dict)
    records: int | None = None
    size: int | None = None

    def span(self, first: str, *then: str) -> float | None:
        """Seconds from ``first`` to the earliest of ``then`` the loop saw (None if unseen)."""
        ends = [self.seen[state] for state in then if state in self.seen]
        if first not in self.seen or not ends:
            return None
        return min(ends) - self.seen[first]


@dataclass
class Trace:
    """The run as the wait loop saw it: phase changes and export jobs, in bench seconds."""

    started: float = field(default_factory=time.monotonic)
    phases: dict[str, float] = field(default_factory=dict)
    jobs: dict[int, JobTrace] = field(default_factory=dict)
    streams: dict[str, float] = field(default_factory=dict)  # incremental: when each caught up

    def at(self) -> float:
        return time.monotonic() - self.started

    def phase_seconds(self) -> list[tuple[str, float]]:
        """Each phase the loop saw and how long it lasted (the first one includes the start)."""
        order = sorted(self.phases.items(), key=lambda item: item[1])
        return [(name, end - start) for (name, start), (_, end) in itertools.pairwise(order)]


class SandboxApi:
    """Marketo's REST API and the sandbox's control calls, from outside Dynchat (checks, setup)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.token = ""

    def control(self, method: str, name: str, body: Any = None) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/_sandbox/{name}", json=body, timeout=120
        )
        response.raise_for_status()
        return response.json()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        if not self.token:
            identity = self.session.get(
                f"{self.base_url}/identity/oauth/token",
                params={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET},
                timeout=30,
            )  # fmt: skip
            identity.raise_for_status()
            self.token = identity.json()["access_token"]
        response = self.session.get(
            self.base_url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
        )
        response.raise_for_status()
        envelope: dict[str, Any] = response.json()
        if not envelope.get("success"):
            raise RuntimeError(f"{path}: {envelope.get('errors')}")
        return envelope


class SyncStack:
    """PostgreSQL, Redis, the sandbox, a Celery worker, and Django in this process."""

    def __init__(
        self, name: str, data: DataSet, *, worker_concurrency: int = 2, keep_exports: bool = True
    ) -> None:
        self.name, self.data = name, data
        self.var = ROOT / "var" / "bench" / name
        self.logs = self.var / "logs"
        self.exports = self.var / "sandbox-exports"  # the sandbox writes its export files here
        self.downloads = self.var / "downloads"  # the sync downloads them here
        self.worker_concurrency = worker_concurrency
        self.keep_exports = keep_exports
        self.env: dict[str, str] = {}
        self.log_file: IO[str] | None = None
        self.supervisor: Supervisor | None = None
        self.worker: Child | None = None
        self.sandbox: Child | None = None
        self.api: SandboxApi | None = None
        self.processes: ProcessSampler | None = None
        self.queries: QuerySampler | None = None

    # Starting and stopping

    def __enter__(self) -> Self:
        for directory in (self.logs, self.exports, self.downloads):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        self.log_file = (self.logs / "bench.log").open("a")
        self.supervisor = Supervisor(out=self.log_file, colour=False).__enter__()
        try:
            self._start()
        except BaseException as error:
            self.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def _start(self) -> None:
        assert self.supervisor is not None
        started = time.monotonic()
        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL"):  # always our own servers
            env.pop(name, None)
        start_backing_services(self.supervisor, self.var, env, durable=False)
        env["DATABASE_URL"] = fresh_database(env["DATABASE_URL"], DATABASE)
        port = free_port()
        self.sandbox = self.supervisor.start(
            "marketo",
            [PYTHON, "-m", "sync.sandbox", "--port", str(port), *self.data.sandbox_args(),
             "--status-interval", "1", "--export-dir", str(self.exports),
             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
             "--daily-quota", str(NO_DAILY_QUOTA), "--export-quota-mb", str(NO_EXPORT_QUOTA_MB)],
            env=env, cwd=ROOT, log=self.logs / "sandbox.log",
        )  # fmt: skip
        sandbox_log = self.logs / "sandbox.log"
        wait_until(
            lambda: "Marketo sandbox on" in sandbox_log.read_text(errors="replace"),
            timeout=60,
            what="the Marketo sandbox",
            alive=self.sandbox.alive,
        )
        base_url = f"http://127.0.0.1:{port}"
        self.api = SandboxApi(base_url)
        env.update(
            DJANGO_SETTINGS_MODULE="dynchat.settings",
            DYNCHAT_VAR_DIR=str(self.var),
            SECRET_KEY=env.get("SECRET_KEY") or "bench-only-" + "k" * 40,
            PYTHONUNBUFFERED="1",
            MARKETO_BASE_URL=base_url,
            MARKETO_CLIENT_ID=CLIENT_ID,
            MARKETO_CLIENT_SECRET=CLIENT_SECRET,
            MARKETO_BULK_POLL_SECONDS="1",
            MARKETO_EXPORT_DIR=str(self.downloads),
        )
        self.env = env
        os.environ.update(env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        self.worker = self.supervisor.start(
            "worker",
            [PYTHON, "-m", "celery", "-A", "dynchat", "worker", "--pool=prefork",
             "--concurrency", str(self.worker_concurrency), "--hostname", f"{self.name}@%h",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            env=env, cwd=ROOT, log=self.logs / "worker.log", grace=15,
        )  # fmt: skip
        worker_log = self.logs / "worker.log"
        wait_until(
            lambda: " ready." in worker_log.read_text(errors="replace"),
            timeout=60,
            what="the Celery worker",
            alive=self.worker.alive,
        )
        postgres = next(child for child in self.supervisor.children if child.name == "postgres")
        self.processes = ProcessSampler(
            {"worker": self.worker.pid, "sandbox": self.sandbox.pid, "postgres": postgres.pid}
        )
        self.processes.start()
        from django.db import connection

        with connection.cursor() as cursor:  # this process's own session is not the sync's
            cursor.execute("SELECT pg_backend_pid()")
            own_pid = int(cursor.fetchone()[0])
        self.queries = QuerySampler(env["DATABASE_URL"], own_pid)
        self.queries.start()
        say(
            f"set up in {time.monotonic() - started:.0f} s: PostgreSQL, Redis, the sandbox "
            f"({self.data}), a worker (prefork, {self.worker_concurrency} pool processes); "
            f"logs in {self.logs.relative_to(ROOT)}"
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        self.stop_sampling()
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        swallowed = False
        if self.supervisor is not None:
            swallowed = self.supervisor.__exit__(kind, error, traceback)
        if not self.keep_exports:
            shutil.rmtree(self.exports, ignore_errors=True)
        shutil.rmtree(self.downloads, ignore_errors=True)
        if self.log_file is not None:
            self.log_file.close()
        if swallowed:
            say("stopped: every process the benchmark started has exited")
        return swallowed

    def stop_sampling(self) -> None:
        """End the samplers (their figures stay), before the benchmark does work of its own."""
        for sampler in (self.processes, self.queries):
            if sampler is not None and sampler.is_alive():
                sampler.stop()

    # Marketo (the sandbox)

    @property
    def sandbox_api(self) -> SandboxApi:
        if self.api is None:
            raise RuntimeError("the stack is not running")
        return self.api

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.sandbox_api.control("GET", "stats")
        return stats

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.sandbox_api.control("GET", "counts")
        return counts

    def reset_stats(self) -> None:
        self.sandbox_api.control("POST", "reset-stats")

    def mutate(self, **changes: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.sandbox_api.control("POST", "mutate", changes)
        return answer

    # Sync runs

    def start_initial(self) -> SyncRun:
        """What a marketer does on the Marketo page: choose attributes, start the initial sync."""
        from django.utils import timezone

        from sync import services
        from sync.models import AttributeObject

        offered = services.describe_attributes()
        wanted = {AttributeObject.PERSON: PERSON_ATTRIBUTES,
                  AttributeObject.COMPANY: COMPANY_ATTRIBUTES}  # fmt: skip
        chosen = [a for a in offered if a.name in wanted[a.object]]
        since = timezone.now() - timedelta(days=self.data.days + 1)
        # The describe calls came from this process; what is measured is the run's traffic.
        self.reset_stats()
        return services.start_initial_sync(
            chosen=chosen, offered=offered, leads_since=since, activities_since=since
        )

    def wait(self, run: SyncRun, *, timeout: float, label: str) -> tuple[SyncRun, Trace]:
        """Play beat until the run completes or fails (or ``timeout``); what the loop saw."""
        from sync import services
        from sync.models import ExportJob, RunState

        trace = Trace()
        deadline = time.monotonic() + timeout
        beat = report = 0.0
        while True:
            run.refresh_from_db()
            now = trace.at()
            trace.phases.setdefault(run.phase, now)
            for stream in run.progress.get("streams_done", []):
                trace.streams.setdefault(stream, now)
            for job in ExportJob.objects.filter(run=run):
                seen = trace.jobs.setdefault(
                    job.id, JobTrace(job.object, f"{job.window_start:%m-%d}…{job.window_end:%m-%d}")
                )
                seen.seen.setdefault(job.status, now)
                if job.rows_loaded and "first batch" not in seen.seen:
                    seen.seen["first batch"] = now
                seen.records, seen.size = job.records, job.file_size
            if run.state in (RunState.COMPLETED, RunState.FAILED):
                return run, trace
            if time.monotonic() > deadline:
                return run, trace
            if time.monotonic() >= beat:
                services.resume_runs()
                beat = time.monotonic() + BEAT_SECONDS
            if now >= report:
                say(f"  {label} {now:5.0f} s  {run.state}/{run.phase}  {progress_line(run)}")
                report = now + 30
            time.sleep(POLL_SECONDS)


def mirror_counts() -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for name, table in (("leads", "sync_marketolead"), ("companies", "sync_marketocompany"),
                            ("activities", "sync_marketoactivity")):  # fmt: skip
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            counts[name] = int(cursor.fetchone()[0])
    return counts


def progress_line(run: SyncRun) -> str:
    """Rows loaded so far, from the run's own bookkeeping (cheaper than counting the tables)."""
    from django.db.models import Sum

    from sync.models import ExportJob

    loaded = dict(
        ExportJob.objects.filter(run=run)
        .values("object")
        .annotate(rows=Sum("rows_loaded"))
        .values_list("object", "rows")
    )
    done = {name: int((run.progress.get(name) or {}).get("done") or 0) for name in
            ("leads", "companies", "activities")}  # fmt: skip
    rows = {name: max(done[name], int(loaded.get(name) or 0)) for name in done}
    return ", ".join(f"{rows[name]:,} {name}" for name in rows)


# Checking the mirror against Marketo


@dataclass
class Check:
    what: str
    checked: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checked > 0 and not self.mismatches

    def compare(self, key: object, name: str, mirrored: object, truth: object) -> None:
        if mirrored != truth:
            self.mismatches.append(f"{self.what} {key} {name}: mirror {mirrored!r} != {truth!r}")

    def __str__(self) -> str:
        if self.ok:
            return f"{self.checked} {self.what} equal field by field"
        return f"{self.checked} {self.what} checked, {len(self.mismatches)} differences"


def check_leads(
    api: SandboxApi, run: SyncRun, ids: Sequence[int], *, skip: Sequence[str] = ()
) -> Check:
    """Every synced field of ``ids`` (≤ 300), but ``skip``, in the mirror against Marketo's."""
    from sync.fields import cookie_tokens, parse_time, typed
    from sync.models import AttributeObject, MarketoLead, SyncedAttribute

    check = Check("leads")
    envelope = api.get(
        "/rest/v1/leads.json",
        filterType="id",
        filterValues=",".join(map(str, ids)),
        fields=",".join(run.lead_fields),
    )
    types = SyncedAttribute.objects.types(AttributeObject.PERSON)
    mirror = MarketoLead.objects.in_bulk(list(ids))
    for truth in envelope.get("result", []):
        lead = mirror.get(int(truth["id"]))
        check.checked += 1
        if lead is None:
            check.mismatches.append(f"lead {truth['id']} is missing")
            continue
        text = {
            "email": lead.email,
            "firstName": lead.first_name,
            "lastName": lead.last_name,
            "company": lead.company_name,
            "externalCompanyId": lead.external_company_id,
        }
        for name, value in text.items():
            check.compare(lead.id, name, value, str(truth.get(name) or ""))
        check.compare(lead.id, "cookies", lead.cookies, cookie_tokens(truth.get("cookies")))
        check.compare(lead.id, "leadScore", lead.lead_score, typed(truth.get("leadScore"), "score"))
        check.compare(lead.id, "createdAt", lead.created_at, parse_time(truth.get("createdAt")))
        if "updatedAt" not in skip:
            updated = parse_time(truth.get("updatedAt"))
            check.compare(lead.id, "updatedAt", lead.updated_at, updated)
        for name, data_type in types.items():
            check.compare(
                lead.id, name, lead.attributes.get(name), typed(truth.get(name), data_type)
            )
    if check.checked != len(ids):
        check.mismatches.append(f"Marketo answered {check.checked} of {len(ids)} leads")
    return check


def check_companies(api: SandboxApi, run: SyncRun, ids: Sequence[int]) -> Check:
    from sync.fields import parse_time, typed
    from sync.models import AttributeObject, MarketoCompany, SyncedAttribute

    check = Check("companies")
    envelope = api.get(
        "/rest/v1/companies.json",
        filterType="id",
        filterValues=",".join(map(str, ids)),
        fields=",".join(run.company_fields),
    )
    types = SyncedAttribute.objects.types(AttributeObject.COMPANY)
    mirror = MarketoCompany.objects.in_bulk(list(ids))
    for truth in envelope.get("result", []):
        company = mirror.get(int(truth["id"]))
        check.checked += 1
        if company is None:
            check.mismatches.append(f"company {truth['id']} is missing")
            continue
        key = company.id
        check.compare(key, "externalCompanyId", company.external_company_id,
                      truth.get("externalCompanyId"))  # fmt: skip
        check.compare(key, "company", company.name, str(truth.get("company") or ""))
        check.compare(key, "industry", company.industry, str(truth.get("industry") or ""))
        check.compare(key, "billingCountry", company.billing_country,
                      str(truth.get("billingCountry") or ""))  # fmt: skip
        check.compare(key, "numberOfEmployees", company.number_of_employees,
                      typed(truth.get("numberOfEmployees"), "integer"))  # fmt: skip
        revenue = truth.get("annualRevenue")
        cents = None if revenue is None else Decimal(str(revenue)).quantize(Decimal("0.01"))
        check.compare(key, "annualRevenue", company.annual_revenue, cents)
        check.compare(key, "updatedAt", company.updated_at, parse_time(truth.get("updatedAt")))
        for name, data_type in types.items():
            value = typed(truth.get(name), data_type)
            check.compare(key, name, company.attributes.get(name), value)
    if check.checked != len(ids):
        check.mismatches.append(f"Marketo answered {check.checked} of {len(ids)} companies")
    return check


def check_activities(api: SandboxApi, since: datetime) -> Check:
    """One REST page of activities from ``since`` (up to 300) against the mirror's rows."""
    from sync.fields import activity_type_groups, parse_time
    from sync.incremental import activity_row
    from sync.models import MarketoActivity

    check = Check("activities")
    moment = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=moment)["nextPageToken"]
    page = api.get(
        "/rest/v1/activities.json",
        nextPageToken=token,
        batchSize=SPOT_CHECK,
        activityTypeIds=",".join(map(str, activity_type_groups()[0])),
    )
    rows = [activity_row(activity) for activity in page.get("result", [])]
    mirror = MarketoActivity.objects.in_bulk([row["marketoGUID"] for row in rows])
    for row in rows:
        check.checked += 1
        activity = mirror.get(row["marketoGUID"])
        if activity is None:
            check.mismatches.append(f"activity {row['marketoGUID']} is missing")
            continue
        key = activity.marketo_guid
        check.compare(key, "leadId", activity.lead_id, row["leadId"])
        check.compare(key, "activityDate", activity.activity_date, parse_time(row["activityDate"]))
        check.compare(key, "activityTypeId", activity.activity_type_id, row["activityTypeId"])
        check.compare(key, "campaignId", activity.campaign_id, row["campaignId"])
        check.compare(key, "primaryAttributeValueId", activity.primary_attribute_value_id,
                      row["primaryAttributeValueId"])  # fmt: skip
        check.compare(key, "primaryAttributeValue", activity.primary_attribute_value,
                      str(row["primaryAttributeValue"] or ""))  # fmt: skip
        check.compare(key, "attributes", activity.attributes, json.loads(row["attributes"]))
    return check


def id_ranges() -> dict[str, tuple[int, int, int]]:
    """(count, min, max) of the mirror's Marketo ids: 1..N each when nothing was lost."""
    from django.db import connection

    ranges = {}
    with connection.cursor() as cursor:
        for name, table, key in (
            ("leads", "sync_marketolead", "id"),
            ("companies", "sync_marketocompany", "id"),
            ("activities", "sync_marketoactivity", "marketo_guid::bigint"),
        ):
            cursor.execute(f"SELECT count(*), min({key}), max({key}) FROM {table}")  # noqa: S608
            count, low, high = cursor.fetchone()
            ranges[name] = (int(count), int(low or 0), int(high or 0))
    return ranges


def random_ids(count: int, n: int, rng: random.Random) -> list[int]:
    return sorted(rng.sample(range(1, count + 1), min(n, count)))


# The database floor


@dataclass(frozen=True)
class Floor:
    files: int
    bytes: int
    rows: int
    seconds: float


def copy_floor(url: str, files: Sequence[Path]) -> Floor:
    """``COPY`` each file into an unlogged table of text columns: no API, no casts, no upsert."""
    rows = size = 0
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        for index, path in enumerate(files):
            with path.open(encoding="utf-8", newline="") as source:
                header = source.readline()
            columns = len(next(csv.reader([header])))
            table = sql.Identifier(f"bench_floor_{index}")
            connection.execute(
                sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(
                    table,
                    sql.SQL(", ").join(sql.SQL(f"c{i} text") for i in range(columns)),
                )
            )
            copy = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true, NULL 'null')")
            with connection.cursor() as cursor:
                with cursor.copy(copy.format(table)) as writer, path.open("rb") as data:
                    while chunk := data.read(MIB):
                        writer.write(chunk)
                rows += cursor.rowcount
            size += path.stat().st_size
        seconds = time.monotonic() - started
        for index in range(len(files)):
            name = sql.Identifier(f"bench_floor_{index}")
            connection.execute(sql.SQL("DROP TABLE {}").format(name))
    return Floor(len(files), size, rows, seconds)


# Reporting


def where_the_time_went(trace: Trace, stats: Mapping[str, Any], stack: SyncStack) -> Iterator[str]:
    """The profile lines: phases, export jobs step by step, database time, CPU per process."""
    yield "where the time went:"
    for phase, seconds in trace.phase_seconds():
        yield f"  phase {phase:<11} {seconds:7.1f} s"
    last = 0.0
    for stream, moment in sorted(trace.streams.items(), key=lambda item: item[1]):
        yield f"  stream {stream:<15} caught up at {moment:5.1f} s ({moment - last:5.1f} s)"
        last = moment
    by_object: dict[str, list[JobTrace]] = defaultdict(list)
    for job in trace.jobs.values():
        by_object[job.object].append(job)
    for object, jobs in sorted(by_object.items()):
        yield (
            f"  {object} export jobs (first seen in each state; sandbox = queued → ready, "
            "download = ready → downloaded, load = downloaded → loaded):"
        )
        for job in sorted(jobs, key=lambda j: j.window):
            sandbox = job.span("queued", "completed", "downloaded", "loaded")
            download = job.span("completed", "downloaded", "loaded")
            load, first = job.span("downloaded", "loaded"), job.span("downloaded", "first batch")
            yield (
                f"    {job.window}  {job.records or 0:>9,} rows {(job.size or 0) / MB:7.1f} MB"
                f"  sandbox {fmt(sandbox)}  download {fmt(download)}  load {fmt(load)}"
                f" (first batch after {fmt(first)})"
            )
    if stack.queries is not None:
        by_kind = stack.queries.seconds
        busy = sum(value for kind, value in by_kind.items() if "background" not in kind)
        yield f"  database, seconds the sync's sessions were active (sampled): {busy:.1f} s"
        for kind, value in sorted(by_kind.items(), key=lambda kv: -kv[1]):
            yield f"    {kind:<30} {value:7.1f} s"
            if kind != OTHER:
                continue
            others = sorted(stack.queries.other.items(), key=lambda kv: -kv[1])[:3]
            yield from (f"      {v:6.1f} s  {query}…" for query, v in others if v >= 1)
    if stack.processes is not None:
        cpu = stack.processes.cpu_seconds()
        yield "  CPU seconds: " + ", ".join(f"{tree} {cpu[tree]:.0f} s" for tree in sorted(cpu))
    calls = stats.get("calls_by_path", {})
    companies = calls.get("/rest/v1/companies.json", 0)
    if companies:
        floor = rate_floor(companies)
        yield f"  companies: {companies} calls, ≥ {floor:.0f} s at {OUR_CALLS_PER_WINDOW} / 20 s"


def fmt(seconds: float | None) -> str:
    return "    -  " if seconds is None else f"{seconds:5.1f} s"


def rate_floor(calls: int) -> float:
    """Seconds ``calls`` need at our rate limit: a window's worth at once, then one per window."""
    if calls <= 0:
        return 0.0
    return -(-calls // OUR_CALLS_PER_WINDOW) * WINDOW_SECONDS - WINDOW_SECONDS


def call_summary(stats: Mapping[str, Any]) -> str:
    errors = stats.get("errors_by_code") or {}
    error_text = ", ".join(f"{code} × {n}" for code, n in sorted(errors.items())) or "none"
    return (
        f"API calls: {stats['calls']:,} counted ({stats['requests']:,} requests, "
        f"{stats['identity_calls']} identity); at most {stats['max_calls_in_window']} in 20 s, "
        f"{stats['max_concurrent']} at once; errors: {error_text}"
    )


def megabytes(size: int) -> str:
    return f"{size / MIB:.0f} MiB"
