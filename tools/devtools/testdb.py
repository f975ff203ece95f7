"""The PostgreSQL server tests run against, and fresh databases on it.

Choice, first that applies: ``TEST_DATABASE_URL``; a PostgreSQL 18 container
from testcontainers when a Docker engine answers; the embedded server.
Every test module that needs a database gets a fresh one and drops it after.

    python -m devtools.testdb COMMAND [ARG ...]

runs COMMAND (`nox -s tests`: pytest) with the server chosen once, before it
starts, and exported as ``TEST_DATABASE_URL``: the plugin's tests read only
that variable (they import nothing from here), and the project's fixtures
find the same server there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools import embedded
from devtools.database import create_database as create_database
from devtools.database import redact

POSTGRES_IMAGE = "postgres:18"


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


# "<url> <why>": why the runner chose the server at <url>.
REASON_VARIABLE = "TEST_DATABASE_REASON"


@dataclass(frozen=True)
class Server:
    """The server of a test run: its admin URL and why it was chosen."""

    url: str
    why: str

    def describe(self) -> str:
        """One line for the test report, the password masked."""
        return f"database server: {redact(self.url)} ({self.why})"


@contextmanager
def server() -> Iterator[Server]:
    """The server for this test run (see the module docstring for the choice)."""
    from_env = os.environ.get("TEST_DATABASE_URL", "").strip()
    if from_env:
        # The runner below passes on why it chose the server, so the test
        # report still says it, once; a URL set by anyone else is just that.
        chosen, _, why = os.environ.get(REASON_VARIABLE, "").partition(" ")
        yield Server(from_env, why if chosen == from_env else "TEST_DATABASE_URL")
        return
    if docker_engine_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver=None) as container:
            yield Server(
                str(container.get_connection_url()),
                f"a {POSTGRES_IMAGE} container: no TEST_DATABASE_URL, "
                "and a Docker engine answers",
            )
        return
    yield Server(
        embedded.start().url(),
        "the embedded server: no TEST_DATABASE_URL and no Docker engine; "
        "it keeps running, stop it with `nox -s db -- stop`",
    )


def load_sql(url: str, path: Path) -> None:
    """Run a SQL file the way psql would, stopping at the first error."""
    subprocess.run(
        [
            str(embedded.bin_dir() / "psql"),
            url,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def main(argv: list[str]) -> int:
    """Run the command `argv` against this run's server, given to it as
    TEST_DATABASE_URL (and why it was chosen, for the report the tests print
    once); its exit status."""
    if not argv:
        print("usage: python -m devtools.testdb COMMAND [ARG ...]", file=sys.stderr)
        return 2
    with server() as chosen:
        env = {**os.environ, "TEST_DATABASE_URL": chosen.url}
        env[REASON_VARIABLE] = f"{chosen.url} {chosen.why}"
        done = subprocess.run(argv, env=env, check=False)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
