"""A throwaway PostgreSQL server for the tests: started once per run, a fresh database per test.

The cluster lives in a temporary directory, listens on a free loopback port and is
stopped and deleted at the end. It runs with a non-UTC time zone (Asia/Shanghai, where
many of our reps are), so code that stores or reads local instead of UTC times fails here.
As root, the server binaries refuse to run, so they run as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import event
from sqlalchemy.pool import Pool

from storage.db import make_engine

INSTALL_HINT = "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql (Debian: apt-get install -y postgresql)"
SERVER_TIMEZONE = "Asia/Shanghai"
TEMPLATE = "salescoach_template"


class ServerMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    raise ServerMissing(INSTALL_HINT)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A running throwaway cluster; `fresh_database()` hands out a new database URL."""

    def __init__(self, bin_dir: Path, root: Path, port: int, durable: bool = False) -> None:
        self.bin_dir, self.root, self.port, self.durable = bin_dir, root, port, durable
        self.data = root / "data"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        """Create the cluster, start the server and prepare the template every test database is copied from."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self._serve()
        self._admin(f"CREATE DATABASE {TEMPLATE}")
        template = make_engine(self.url(TEMPLATE))
        template.dispose()

    def _serve(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                f"-c timezone={SERVER_TIMEZONE}",
                "-c max_connections=200",
                *([] if self.durable else ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
            ]
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop the server at once (its data is thrown away anyway)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def crash_and_restart(self) -> None:
        """The server dies at once, as in a crash: what it had not written out of its memory (the
        log of commits that did not wait for the disk) is lost. Then it starts again and recovers."""
        self.stop()
        self._serve()

    def configure(self, setting: str, value: str) -> None:
        """Change one server setting from now on (ALTER SYSTEM, then a reload)."""
        self._admin(f"ALTER SYSTEM SET {setting} = '{value}'")
        self._admin("SELECT pg_reload_conf()")

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    @contextmanager
    def fresh_database(self, empty: bool = False) -> Iterator[str]:
        """A new database with every table already created (none if `empty`); dropped (connections and all) afterwards.

        Tests open engines of their own (a restarted bot); every connection opened during
        the test is closed at its end, so none is left for the garbage collector to warn about.
        """
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE}")
        opened: list[psycopg.Connection[object]] = []

        def remember(dbapi_connection: psycopg.Connection[object], _record: object) -> None:
            opened.append(dbapi_connection)

        event.listen(Pool, "connect", remember)
        try:
            yield self.url(name)
        finally:
            event.remove(Pool, "connect", remember)
            for connection in opened:
                connection.close()
            self._admin(f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[PostgresServer]:
    """Start a cluster in a temporary directory (owned by `postgres` when we are root); stop and delete it at the end.

    Tests run it without fsync (their data is thrown away); `durable` keeps PostgreSQL's
    defaults, for benchmarks that must pay for each commit as production does.
    """
    bin_dir = find_bin_dir()
    as_root = os.geteuid() == 0
    if as_root:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ServerMissing(
                "running as root needs a `postgres` user to run the server as: install postgresql (Debian: apt-get install -y postgresql)"
            ) from None
    root = Path(tempfile.mkdtemp(prefix="salescoach-pg-"))
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(bin_dir, root, free_port(), durable)
    try:
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
