"""`nox -s citus`: the persistence, security and reliability suites (the
soak tests aside) against a throwaway Citus cluster.

    python -m devtools.citus [TEST_PATH ...]

With test paths (files, folders or node ids inside the three suites), only
those run, each in the suite it belongs to.

The PostgreSQL installation comes from ``CITUS_PG_BIN`` (its bin directory)
when set, else from the first ``pg_config`` on PATH or in
/usr/lib/postgresql/*/bin whose ``--pkglibdir`` holds citus.so. No registry
ships Citus: without such a build, one line says what is needed and where
docs/scaling.md describes building it, and the exit status is 1.

The cluster: a coordinator and two workers (devtools.cluster, each in a
temporary directory on a free loopback port, as the service user when we
are root), with ``shared_preload_libraries = 'citus'``, prepared
transactions for Citus's two-phase commits, and trust authentication from
127.0.0.1 only. In the `postgres` database of each node ``CREATE EXTENSION
citus``; on the coordinator ``citus_set_coordinator_host`` and
``citus_add_node`` for each worker. Then migrations/ is applied to the
coordinator by the migration engine, and each suite runs in a pytest run of
its own with ``TEST_DATABASE_URL`` on the coordinator and ``CITUS_CLUSTER=1``,
which makes every database a suite creates a Citus database too
(devtools.citusdb) and skips the tests marked ``not_on_citus`` (with their
reason). Last line: ``Citus <version> (<n> nodes): N passed, M failed``. The
cluster is stopped and deleted afterwards, also on a failure, Ctrl-C or
SIGTERM. Exit 0 only when every suite ran and nothing failed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeAlias

import asyncpg

from devtools import (
    PROJECT_ROOT,
    atlas,
    citusdb,
    cluster,
    compat,
    database,
    embedded,
    migrate,
)

SUITES = ("persistence", "security", "reliability")
WORKERS = 2
DOCS = "docs/scaling.md (section 'Run on Citus')"
# Prepared transactions: Citus commits a transaction that wrote on several
# nodes (any write to the reference table users) in two phases. Connections:
# the suites open pools side by side, and every coordinator session opens
# its own connections to the workers. Worker processes: Citus runs a
# maintenance daemon per database that has the extension.
COORDINATOR_SETTINGS = {
    "shared_preload_libraries": "'citus'",
    "max_prepared_transactions": "200",
    "max_connections": "200",
    "max_worker_processes": "32",
}
WORKER_SETTINGS = {**COORDINATOR_SETTINGS, "max_connections": "400"}
# Trust from 127.0.0.1 only; the nodes listen there alone (cluster.BASE_SETTINGS).
HBA = ("host all all 127.0.0.1/32 trust",)
SKIP_PREFIX = "not on Citus: "


class CitusUnavailable(RuntimeError):
    """No PostgreSQL installation with Citus was found; the message is one line."""


@dataclass(frozen=True)
class Installation:
    bins: Path
    pkglibdir: Path
    version: str


def _pg_config(pg_config: Path, flag: str) -> str | None:
    try:
        done = subprocess.run(
            [str(pg_config), flag],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _major(pg_config: Path) -> int:
    """/usr/lib/postgresql/<major>/bin/pg_config's major, for ordering."""
    name = pg_config.parent.parent.name
    return int(name) if name.isdigit() else 0


def candidates() -> list[Path]:
    """The pg_config programs to ask, in order."""
    explicit = os.environ.get("CITUS_PG_BIN", "").strip()
    if explicit:
        return [Path(explicit) / "pg_config"]
    found: list[Path] = []
    if on_path := shutil.which("pg_config"):
        found.append(Path(on_path))
    debian = Path("/usr/lib/postgresql").glob("*/bin/pg_config")
    found += sorted(debian, key=_major, reverse=True)
    return found


def installation(pg_config: Path) -> Installation | None:
    """What `pg_config` describes, if its server has Citus."""
    pkglibdir = _pg_config(pg_config, "--pkglibdir")
    bindir = _pg_config(pg_config, "--bindir")
    version = _pg_config(pg_config, "--version")
    if pkglibdir is None or bindir is None or version is None:
        return None
    bins = Path(bindir)
    if not (Path(pkglibdir) / "citus.so").is_file():
        return None
    if not compat.has_server_programs(bins):
        return None
    return Installation(bins, Path(pkglibdir), version)


def find_installation() -> Installation:
    asked = candidates()
    for pg_config in asked:
        if (found := installation(pg_config)) is not None:
            return found
    where = (
        ", ".join(str(p) for p in asked)
        or "no pg_config on PATH or in /usr/lib/postgresql"
    )
    raise CitusUnavailable(
        "nox -s citus needs a PostgreSQL installation whose `pg_config "
        "--pkglibdir` holds citus.so (set CITUS_PG_BIN to its bin directory; "
        f"asked: {where}); build Citus as {DOCS} describes"
    )


@dataclass(frozen=True)
class CitusCluster:
    coordinator: cluster.ThrowawayCluster
    workers: tuple[cluster.ThrowawayCluster, ...]

    @property
    def nodes(self) -> int:
        return 1 + len(self.workers)

    def url(self, name: str = "postgres") -> str:
        return self.coordinator.url(name)


async def _setup(citus: CitusCluster) -> None:
    """The extension on every node; the coordinator and workers registered."""
    for worker in citus.workers:
        conn = await asyncpg.connect(worker.url(), timeout=database.CONNECT_TIMEOUT_S)
        try:
            await conn.execute("CREATE EXTENSION citus")
        finally:
            await conn.close()
    nodes = citusdb.Nodes(
        citusdb.Node("127.0.0.1", citus.coordinator.port),
        tuple(citusdb.Node("127.0.0.1", w.port) for w in citus.workers),
    )
    await citusdb.register(citus.url(), nodes)


async def _citus_version(url: str) -> str:
    """'13.2.2', from `citus_version()` ('Citus 13.2.2 on x86_64-…')."""
    conn = await asyncpg.connect(url, timeout=database.CONNECT_TIMEOUT_S)
    try:
        text: str = await conn.fetchval("SELECT citus_version()")
    finally:
        await conn.close()
    words = text.split()
    return words[1] if len(words) > 1 else text


Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | None


def _signal_handlers() -> tuple[Handler, Handler]:
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)


def _hold_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _restore_signals(interrupt: Handler, terminate: Handler) -> None:
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, terminate)


@contextmanager
def citus_cluster(bins: Path, workers: int = WORKERS) -> Iterator[CitusCluster]:
    """A started Citus cluster, set up; stopped and deleted afterwards."""
    with ExitStack() as stack:
        stack.callback(_restore_signals, *_signal_handlers())
        coordinator = stack.enter_context(
            cluster.throwaway_cluster(
                bins=bins,
                settings=COORDINATOR_SETTINGS,
                hba=HBA,
                prefix="citus-coordinator-",
            )
        )
        started = tuple(
            stack.enter_context(
                cluster.throwaway_cluster(
                    bins=bins,
                    settings=WORKER_SETTINGS,
                    hba=HBA,
                    prefix=f"citus-worker{n}-",
                )
            )
            for n in range(1, workers + 1)
        )
        # Unwinding stops and deletes the nodes: a second Ctrl-C or a
        # SIGTERM must not cut that short.
        stack.callback(_hold_signals)
        citus = CitusCluster(coordinator, started)
        asyncio.run(_setup(citus))
        yield citus


@dataclass
class SuiteResult:
    run: compat.SuiteRun
    marked: list[str]

    @property
    def unexpected_skips(self) -> list[str]:
        return [t for t in self.run.skipped if t not in self.marked]

    def line(self) -> str:
        run = self.run
        return (
            f"  {run.suite:<12} {len(run.passed):>4} passed, {len(run.failed)} "
            f"failed, {len(run.skipped)} skipped ({len(self.marked)} marked "
            f"not_on_citus) ({run.seconds:.0f} s)"
        )


def marked_skips(report: Path) -> list[str]:
    """The tests the run skipped for their not_on_citus marker."""
    if not report.exists():
        return []
    marked = []
    for case in ET.parse(report).getroot().iter("testcase"):
        for skipped in case.iter("skipped"):
            if SKIP_PREFIX in (skipped.get("message") or ""):
                marked.append(f"{case.get('classname')}::{case.get('name')}")
    return marked


def selection(paths: list[str]) -> list[tuple[str, Path | None]]:
    """The runs to make: every suite whole, or the given test files and
    folders, each in the suite it belongs to. Raises ValueError, naming
    the path, for one that is missing or outside the suites."""
    if not paths:
        return [(suite, None) for suite in SUITES]
    runs: list[tuple[str, Path | None]] = []
    for given in paths:
        path = (PROJECT_ROOT / given.split("::", 1)[0]).resolve()
        suites = [s for s in SUITES if path.is_relative_to(PROJECT_ROOT / "tests" / s)]
        if not path.exists() or not suites:
            raise ValueError(
                f"{given}: not a test file or folder of tests/{{{','.join(SUITES)}}}"
            )
        # A node id (file::test) goes to pytest as given.
        runs.append((suites[0], PROJECT_ROOT / given if "::" in given else path))
    return runs


def run_suites(url: str, runs: list[tuple[str, Path | None]]) -> list[SuiteResult]:
    """Each run against the coordinator at `url`; the pytest runs inherit
    CITUS_CLUSTER=1 (devtools.citusdb, the not_on_citus marker)."""
    os.environ[citusdb.CLUSTER_VARIABLE] = "1"
    results = []
    with tempfile.TemporaryDirectory(prefix="citus-reports-") as reports:
        for suite, tests in runs:
            shown = tests.relative_to(PROJECT_ROOT) if tests else f"tests/{suite}/"
            print(f"-- {shown} on Citus", flush=True)
            run = compat.run_suite(suite, url, Path(reports), tests)
            marked = marked_skips(Path(reports) / f"{suite}.xml")
            results.append(SuiteResult(run, marked))
    return results


def summary(version: str, nodes: int, results: list[SuiteResult]) -> str:
    passed = sum(len(r.run.passed) for r in results)
    failed = sum(len(r.run.failed) for r in results)
    return f"Citus {version} ({nodes} nodes): {passed} passed, {failed} failed"


def report(results: list[SuiteResult]) -> bool:
    """Per-suite lines and what did not pass; whether all is well."""
    ok = True
    print("\ncitus results", flush=True)
    for result in results:
        print(result.line())
        for test_id in (*result.run.failed, *result.unexpected_skips):
            print(f"    not passed: {test_id}")
        if result.run.exit_code not in (0, 1) or not result.run.passed:
            print(f"    pytest exited with {result.run.exit_code}")
        ok = ok and result.run.exit_code == 0 and bool(result.run.passed)
        ok = ok and not result.run.failed and not result.unexpected_skips
    return ok


def run(found: Installation, runs: list[tuple[str, Path | None]]) -> int:
    started = time.monotonic()
    with citus_cluster(found.bins) as citus:
        version = asyncio.run(_citus_version(citus.url()))
        server = citus.coordinator.server_version()
        ports = ", ".join(str(w.port) for w in citus.workers)
        print(
            f"\n== Citus {version} on PostgreSQL {server} ({found.bins}): "
            f"coordinator 127.0.0.1:{citus.coordinator.port}, workers on {ports}",
            flush=True,
        )
        print(citus.coordinator.load_schema().rstrip(), flush=True)
        results = run_suites(citus.url(), runs)
    ok = report(results)
    print(f"({time.monotonic() - started:.0f} s in all)")
    print(summary(version, citus.nodes, results), flush=True)
    return 0 if ok else 1


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    try:
        runs = selection(argv)
    except ValueError as exc:
        print(
            f"usage: python -m devtools.citus [TEST_PATH ...]\nerror: {exc}",
            file=sys.stderr,
        )
        return 2
    try:
        found = find_installation()
    except CitusUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        # The engine first: a missing toolchain fails before a server starts.
        atlas.choose()
        return run(found, runs)
    except (
        atlas.AtlasUnavailable,
        database.DatabaseUnreachable,
        embedded.EmbeddedServerError,
        migrate.MigrationFailed,
        asyncpg.PostgresError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
