"""PgBouncer in front of a database, for tests: transaction pooling on loopback.

``with pgbouncer.running(database_url) as url:`` starts a ``pgbouncer``
process (Debian package ``pgbouncer``; ``apt-get install -y pgbouncer``)
with its configuration in a fresh temporary directory, listening on
127.0.0.1 on a free port, pooling in ``transaction`` mode onto the database
of ``database_url``, and yields the URL clients use instead. Clients
authenticate with ``auth_type = trust`` (the user only has to be listed in
the generated auth file); PgBouncer logs in to the server as the URL's user,
with its password if the URL has one. The process is stopped and the
directory removed on exit.

PgBouncer refuses to run as root; as root it runs as the same service user
as the embedded PostgreSQL server (devtools.embedded).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from devtools import embedded
from repositories._database import PINNED_SETTINGS

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
SEARCH_PATH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


class PgBouncerError(RuntimeError):
    """PgBouncer is not installed, or could not be started; the message says why."""


def executable() -> str | None:
    """Path of the pgbouncer binary, or None when it is not installed."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    for directory in SEARCH_PATH:
        candidate = Path(directory) / "pgbouncer"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int
    user: str
    password: str | None
    database: str

    @classmethod
    def parse(cls, database_url: str) -> Upstream:
        parts = urlsplit(database_url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise PgBouncerError(f"not a PostgreSQL URL: {parts.scheme}://…")
        database = unquote(parts.path.lstrip("/")) or "postgres"
        user = unquote(parts.username) if parts.username else "postgres"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=user,
            password=unquote(parts.password) if parts.password else None,
            database=database,
        )


def _quoted(value: str) -> str:
    """A value in a pgbouncer [databases] connection string."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(
    directory: Path,
    upstream: Upstream,
    *,
    port: int,
    pool_mode: str,
    default_pool_size: int,
    max_client_conn: int,
) -> Path:
    """pgbouncer.ini (and its auth file) in `directory`; returns the ini path."""
    server = [
        f"host={_quoted(upstream.host)}",
        f"port={upstream.port}",
        f"dbname={_quoted(upstream.database)}",
        f"user={_quoted(upstream.user)}",
    ]
    if upstream.password is not None:
        server.append(f"password={_quoted(upstream.password)}")
    auth_file = directory / "userlist.txt"
    auth_file.write_text(f'"{upstream.user}" ""\n')
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        "\n".join(
            [
                "[databases]",
                f"{upstream.database} = {' '.join(server)}",
                "",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {auth_file}",
                f"pool_mode = {pool_mode}",
                f"default_pool_size = {default_pool_size}",
                "min_pool_size = 0",
                "reserve_pool_size = 0",
                f"max_client_conn = {max_client_conn}",
                f"max_db_connections = {default_pool_size}",
                # asyncpg sends none of the first two, other drivers do.
                # PgBouncer 1.18 cannot forward the Store's pinned settings;
                # behind it the unit of work's BEGIN pins them per transaction.
                "ignore_startup_parameters = extra_float_digits,options,"
                + ",".join(PINNED_SETTINGS),
                "server_tls_sslmode = disable",
                "client_tls_sslmode = disable",
                f"logfile = {directory / 'pgbouncer.log'}",
                "log_connections = 0",
                "log_disconnections = 0",
                "",
            ]
        )
    )
    return ini


@dataclass(frozen=True)
class Running:
    """A started PgBouncer: `url` is what clients connect to."""

    url: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, size: int = 2000) -> str:
        log = self.directory / "pgbouncer.log"
        return log.read_text(errors="replace")[-size:] if log.exists() else ""


def client_url(database_url: str, port: int) -> str:
    """`database_url` pointed at PgBouncer on 127.0.0.1:`port` (no password:
    clients are trusted)."""
    parts = urlsplit(database_url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # "safe shutdown": after transactions
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def running(
    database_url: str,
    *,
    pool_mode: str = "transaction",
    default_pool_size: int = 4,
    max_client_conn: int = 200,
) -> Iterator[Running]:
    """Start PgBouncer in front of `database_url`; stop it on exit."""
    binary = executable()
    if binary is None:
        raise PgBouncerError(
            "pgbouncer is not installed (Debian: apt-get install -y pgbouncer)"
        )
    upstream = Upstream.parse(database_url)
    user = embedded._run_as()
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    try:
        port = _free_port()
        ini = write_config(
            directory,
            upstream,
            port=port,
            pool_mode=pool_mode,
            default_pool_size=default_pool_size,
            max_client_conn=max_client_conn,
        )
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (directory, *directory.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        process = subprocess.Popen(
            [binary, str(ini)],
            user=user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = Running(client_url(database_url, port), port, directory, process)
        try:
            if not _wait_until_listening(process, port):
                raise PgBouncerError(
                    f"pgbouncer did not start (exit code {process.poll()}):\n"
                    f"{started.log_tail()}"
                )
            yield started
        finally:
            _stop(process)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
