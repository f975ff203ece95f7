"""Our `migrate diff` against the official Atlas CLI, on Atlas's own test schemas.

    python -m devtools.atlas_parity --official PATH --atlas-src PATH
        [--ours PATH] [--url ADMIN_URL] [--only TEST] [--from-empty]

Run by hand, never in CI (CI has neither the official CLI nor Atlas's
sources). The states come from the PostgreSQL integration tests of an
ariga/atlas source tree (``devtools.atlas_corpus``); HCL states are rendered
to SQL by the official CLI (``schema inspect --format '{{ sql . }}'``). For
each pair of consecutive states A, B of a test, in both directions:

1. a migration directory reaching A: our ``migrate diff`` from empty to A
   (made once per state);
2. each command's ``migrate diff`` from that directory to B, each with a
   fresh dev database;
3. each resulting directory applied, by the command that wrote it, to a
   fresh database;
4. both databases and one built by running B's SQL read from the catalog
   and compared.

The server is ``--url``, else ``DATABASE_URL``, else the embedded server;
every database the run makes is dropped at the end, leftovers of a killed
command included (they share the run's name prefix).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from devtools import atlas, atlas_corpus, database
from devtools.atlas_catalog import Picture, Server, picture_differences, with_query
from devtools.atlas_corpus import State

COMMAND_TIMEOUT_S = 180.0
CASE_TIMEOUT_S = 600.0
SETUP_NAME = "state_a"
EMPTY = "(empty)"

# Classes of a case's outcome, in the order the summary prints them.
SAME = "same end schema, reaching B"
BOTH_SHORT = "same end schema, both short of B"
OURS_DIFFERS = "ours differs from the official"
OURS_REFUSES = "ours refuses, the official falls short of B"
OURS_ERRORS = "ours errors otherwise, the official does not"
OFFICIAL_ERRORS = "the official errors, ours does not"
BOTH_ERROR = "both error"
NO_SETUP = "no directory at A could be made"
HARNESS_ERROR = "not run to the end (the harness failed)"
CLASSES = (
    SAME,
    BOTH_SHORT,
    OURS_DIFFERS,
    OURS_REFUSES,
    OURS_ERRORS,
    OFFICIAL_ERRORS,
    BOTH_ERROR,
    NO_SETUP,
    HARNESS_ERROR,
)


@dataclass(frozen=True)
class Ran:
    """A finished (or killed) command: exit status, its output (both streams)
    and its standard output alone."""

    code: int
    output: str
    stdout: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 0

    def first_error(self) -> str:
        """The error line and the lines after it, on one line."""
        lines = [ln.strip() for ln in self.output.splitlines() if ln.strip()]
        at = next(
            (i for i, ln in enumerate(lines) if ln.lower().startswith("error")), 0
        )
        return " ".join(lines[at : at + 4])[:300] or "(no output)"


def run(binary: Path, *args: str, cwd: Path, timeout: float = COMMAND_TIMEOUT_S) -> Ran:
    try:
        done = subprocess.run(
            [str(binary), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **atlas.QUIET_ENV},
        )
    except subprocess.TimeoutExpired:
        return Ran(
            124,
            f"error: timed out after {timeout:.0f} s: {binary.name} {' '.join(args[:2])}",
        )
    return Ran(done.returncode, done.stdout + done.stderr, done.stdout)


@dataclass(frozen=True)
class Rendered:
    """A state as SQL (or why it could not be had)."""

    state: State
    sql: str | None
    problem: str = ""


def render(state: State, official: Path, server: Server, work: Path) -> Rendered:
    """The state's SQL: SQL parts as they are, HCL parts rendered by the
    official CLI on a dev database holding the parts before them."""
    if not state.has_hcl():
        return Rendered(state, "".join(p.text for p in state.parts))
    pieces: list[str] = []
    with server.fresh("render") as dev:
        for part in state.parts:
            if part.kind == "sql":
                pieces.append(part.text)
                continue
            if pieces:
                try:
                    server.execute(dev, "".join(pieces))
                except (asyncpg.PostgresError, OSError) as exc:
                    return Rendered(state, None, f"the SQL before the HCL fails: {exc}")
            hcl = work / "state.hcl"
            hcl.write_text(part.text)
            done = run(
                official,
                "schema",
                "inspect",
                "-u",
                "file://state.hcl",
                "--dev-url",
                with_query(dev, search_path=atlas_corpus.SCHEMA),
                "--format",
                "{{ sql . }}",
                cwd=work,
            )
            if not done.ok:
                return Rendered(state, None, f"HCL not rendered: {done.first_error()}")
            pieces.append(done.stdout.rstrip("\n") + "\n")
    return Rendered(state, "".join(pieces))


@dataclass(frozen=True)
class Setup:
    """A migration directory reaching a state (None: none could be made), and
    how it was made when not by our diff from empty."""

    directory: Path | None
    note: str = ""


@dataclass
class Side:
    """One command's run of a case."""

    diff: Ran | None = None
    apply: Ran | None = None
    picture: Picture | None = None
    statements: list[str] = field(default_factory=list)

    def error(self) -> str:
        """The first failed step and its error, or ''."""
        for step, ran in (("diff", self.diff), ("apply", self.apply)):
            if ran is not None and not ran.ok:
                return f"{step}: {ran.first_error()}"
        return ""


@dataclass
class Case:
    """One pair of states, A to B, and what came of it."""

    test: str
    a: Rendered
    b: Rendered
    verdict: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.test}: {self.a.state.label} -> {self.b.state.label}"

    @property
    def from_empty(self) -> bool:
        return EMPTY in (self.a.state.label, self.b.state.label)


class Harness:
    """Runs cases: the directories at each A (made once per state), both
    commands' diffs and applies, and the databases built from each B."""

    def __init__(self, official: Path, ours: Path, server: Server, work: Path) -> None:
        self.official = official
        self.ours = ours
        self.server = server
        self.work = work
        self._setups: dict[str, tuple[Rendered, Setup]] = {}
        self._deadline = time.monotonic() + CASE_TIMEOUT_S
        self._targets: dict[str, Picture | str] = {}

    def target(self, rendered: Rendered) -> Picture | str:
        """The catalog of a database built by running the state's SQL, or why not."""
        sql = rendered.sql or ""
        if sql not in self._targets:
            with self.server.fresh("target") as url:
                try:
                    self.server.execute(url, sql)
                    self._targets[sql] = self.server.snapshot(url)
                except (asyncpg.PostgresError, OSError) as exc:
                    self._targets[sql] = f"the state's SQL fails: {exc}"
        return self._targets[sql]

    def setups_not_by_our_diff(self) -> list[tuple[Rendered, Setup]]:
        """The states our diff from empty does not reach, with why."""
        return [(r, s) for r, s in self._setups.values() if s.note]

    def _run(self, binary: Path, *args: str, cwd: Path) -> Ran:
        """A command of the current case, within what is left of its time."""
        left = min(COMMAND_TIMEOUT_S, self._deadline - time.monotonic())
        if left <= 0:
            return Ran(124, f"error: the case ran out of its {CASE_TIMEOUT_S:.0f} s")
        return run(binary, *args, cwd=cwd, timeout=left)

    def setup(self, rendered: Rendered) -> Setup:
        sql = rendered.sql or ""
        if sql not in self._setups:
            made = self._make_setup(rendered, len(self._setups))
            self._setups[sql] = (rendered, made)
        return self._setups[sql][1]

    def _make_setup(self, rendered: Rendered, index: int) -> Setup:
        """Our diff from empty to A, checked by applying it; where that does
        not reach A (a domain, a function a default calls), A's SQL as the
        directory's one file, so both commands still start from A."""
        folder = self.work / f"state{index}"
        folder.mkdir()
        (folder / "a.sql").write_text(rendered.sql or "")
        directory = folder / "migrations"
        directory.mkdir()
        with self.server.fresh("dev") as dev:
            done = self._run(
                self.ours,
                "migrate",
                "diff",
                "state_a",
                "--to",
                "file://a.sql",
                "--dev-url",
                dev,
                "--dir",
                "file://migrations",
                cwd=folder,
            )
        why = "" if done.ok else f"our diff from empty fails: {done.first_error()}"
        # Fixed, early versions: the next diff's files (named by the clock)
        # must sort after them even within the same second.
        for i, written in enumerate(sorted(directory.glob("*.sql")), 1):
            written.rename(directory / f"{i}_{SETUP_NAME}.sql")
        why = why or self._reaches(folder, rendered)
        if not why:
            return Setup(directory)
        shutil.rmtree(directory)
        directory.mkdir()
        (directory / f"1_{SETUP_NAME}.sql").write_text(rendered.sql or "")
        still = self._reaches(folder, rendered)
        if still:
            return Setup(None, f"{why}; A's SQL as the migration: {still}")
        return Setup(directory, f"A's directory is A's SQL as written: {why}")

    def _reaches(self, folder: Path, rendered: Rendered) -> str:
        """Why the folder's migrations/ does not reach the state, or ''."""
        hashed = self._run(
            self.ours, "migrate", "hash", "--dir", "file://migrations", cwd=folder
        )
        if not hashed.ok:
            return f"migrate hash fails: {hashed.first_error()}"
        target = self.target(rendered)
        if isinstance(target, str):
            return target
        with self.server.fresh("setup") as url:
            applied = self._run(
                self.ours,
                "migrate",
                "apply",
                "--url",
                url,
                "--dir",
                "file://migrations",
                cwd=folder,
            )
            if not applied.ok:
                return f"it does not apply: {applied.first_error()}"
            missed = picture_differences(
                self.server.snapshot(url), target, "the directory", "A"
            )
        return f"our diff from empty misses {missed[0]}" if missed else ""

    def side(self, label: str, binary: Path, case_dir: Path, setup_dir: Path) -> Side:
        directory = case_dir / label
        shutil.copytree(setup_dir, directory)
        side = Side()
        before = set(directory.glob("*.sql"))
        with self.server.fresh("dev") as dev:
            side.diff = self._run(
                binary,
                "migrate",
                "diff",
                "to_b",
                "--to",
                "file://b.sql",
                "--dev-url",
                dev,
                "--dir",
                f"file://{directory.name}",
                cwd=case_dir,
            )
        if not side.diff.ok:
            return side
        side.statements = _statements(set(directory.glob("*.sql")) - before)
        with self.server.fresh("applied") as url:
            side.apply = self._run(
                binary,
                "migrate",
                "apply",
                "--url",
                url,
                "--dir",
                f"file://{directory.name}",
                cwd=case_dir,
            )
            if side.apply.ok:
                side.picture = self.server.snapshot(url)
        return side

    def run_case(self, case: Case, index: int) -> None:
        self._deadline = time.monotonic() + CASE_TIMEOUT_S
        setup = self.setup(case.a)
        if setup.note:
            case.notes.append(setup.note)
        if setup.directory is None:
            case.verdict = NO_SETUP
            return
        case_dir = self.work / f"case{index}"
        case_dir.mkdir()
        (case_dir / "b.sql").write_text(case.b.sql or "")
        ours = self.side("ours", self.ours, case_dir, setup.directory)
        official = self.side("official", self.official, case_dir, setup.directory)
        target = self.target(case.b)
        classify(case, ours, official, target)
        shutil.rmtree(case_dir, ignore_errors=True)


def _statements(files: set[Path]) -> list[str]:
    """A new migration file's statements, its comment lines left out."""
    lines: list[str] = []
    for path in sorted(files):
        lines += [
            ln
            for ln in path.read_text().splitlines()
            if ln.strip() and not ln.startswith("--")
        ]
    return lines


def _plan(side: Side) -> str:
    if not side.statements:
        return "writes no file"
    shown = "; ".join(s.rstrip(";") for s in side.statements[:3])
    more = f" (+{len(side.statements) - 3} more)" if len(side.statements) > 3 else ""
    return f"writes {shown}{more}"


def classify(case: Case, ours: Side, official: Side, target: Picture | str) -> None:
    """The case's verdict and what to say about it."""
    ours_error, official_error = ours.error(), official.error()
    if ours_error and official_error:
        case.verdict = BOTH_ERROR
        case.notes += [f"ours: {ours_error}", f"official: {official_error}"]
        return
    if isinstance(target, str):
        case.notes.append(target)
    reaches = {
        name: not isinstance(target, str) and side.picture == target
        for name, side in (("ours", ours), ("official", official))
    }
    if ours_error or official_error:
        case.verdict = OFFICIAL_ERRORS
        if ours_error:
            # Refusing to write a file that would not reach B is the better
            # outcome when the official writes one that does not.
            refused = ours.apply is None and not reaches["official"]
            case.verdict = OURS_REFUSES if refused else OURS_ERRORS
        failed, other = ("ours", "official") if ours_error else ("official", "ours")
        case.notes.append(f"{failed}: {ours_error or official_error}")
        reached = "reaching B" if reaches[other] else "short of B"
        case.notes.append(
            f"{other} {_plan(ours if other == 'ours' else official)}, {reached}"
        )
        return
    assert ours.picture is not None
    assert official.picture is not None
    if ours.picture == official.picture:
        case.verdict = SAME if reaches["ours"] else BOTH_SHORT
        if not reaches["ours"] and not isinstance(target, str):
            case.notes += picture_differences(
                ours.picture, target, "both results", "B"
            )[:4]
        return
    case.verdict = OURS_DIFFERS
    who = [n for n, ok in reaches.items() if ok]
    case.notes.append(f"reaching B: {', '.join(who) if who else 'neither'}")
    case.notes += [f"ours {_plan(ours)}", f"official {_plan(official)}"]
    case.notes += picture_differences(
        ours.picture, official.picture, "ours", "official"
    )[:4]


def pairs(
    rendered: Sequence[Rendered], from_empty: bool
) -> list[tuple[Rendered, Rendered]]:
    """Consecutive states of one test, both directions (from empty to the
    first state too, with `from_empty`)."""
    chain = list(rendered)
    if from_empty and chain:
        empty = State(chain[0].state.test, EMPTY, (atlas_corpus.Part("sql", ""),))
        chain.insert(0, Rendered(empty, ""))
    found: list[tuple[Rendered, Rendered]] = []
    for a, b in itertools.pairwise(chain):
        found += [(a, b), (b, a)]
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.atlas_parity", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--official", type=Path, required=True, help="the official Atlas CLI binary"
    )
    parser.add_argument(
        "--atlas-src", type=Path, required=True, help="an ariga/atlas source tree"
    )
    parser.add_argument(
        "--ours", type=Path, help="our binary (default: the project's build)"
    )
    parser.add_argument(
        "--url",
        help="an admin URL of a PostgreSQL 18 server (default: DATABASE_URL or the embedded server)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only the tests whose name contains this (repeatable)",
    )
    parser.add_argument(
        "--from-empty",
        action="store_true",
        help="also diff from the empty schema to each test's first state and back",
    )
    options = parser.parse_args(argv)
    ours = (options.ours or atlas.project_build()).resolve()
    official = options.official.resolve()
    server = Server(options.url or database.resolve_url())
    print(
        f"server: PostgreSQL {server.version()} at {database.redact(server.admin_url)}"
    )
    for name, binary in (("official", official), ("ours", ours)):
        print(
            f"{name}: {binary} ({run(binary, 'version', cwd=Path.cwd()).output.splitlines()[0]})"
        )
    with tempfile.TemporaryDirectory(prefix="atlas-parity-") as scratch:
        try:
            return _run(options, Harness(official, ours, server, Path(scratch)))
        finally:
            left = server.sweep()
            if left:
                print(f"dropped {left} database(s) a command left behind")


def _run(options: argparse.Namespace, harness: Harness) -> int:
    started = time.monotonic()
    tests = atlas_corpus.extract_tree(options.atlas_src)
    if options.only:
        tests = [t for t in tests if any(o in t.test for o in options.only)]
    cases: list[Case] = []
    seen: set[tuple[str, str]] = set()
    counts: Counter[str] = Counter()
    for test in tests:
        counts["states"] += len(test.states)
        counts["skipped states"] += len(test.skipped)
        rendered = [
            render(s, harness.official, harness.server, harness.work)
            for s in test.states
        ]
        for r in rendered:
            if r.sql is None:
                counts["states not rendered"] += 1
                print(f"  {test.test} {r.state.label}: {r.problem}")
        usable = [r for r in rendered if r.sql is not None]
        for a, b in pairs(usable, options.from_empty):
            key = (a.sql or "", b.sql or "")
            if a.sql == b.sql:
                counts["pairs with the same SQL"] += 1
            elif key in seen:
                counts["repeated pairs"] += 1
            else:
                seen.add(key)
                cases.append(Case(test.test, a, b))
    print(
        f"{len(tests)} tests, {counts['states']} states ({counts['states not rendered']} not rendered, "
        f"{counts['skipped states']} never reached by their test), {len(cases)} cases "
        f"({counts['pairs with the same SQL']} pairs of equal SQL and {counts['repeated pairs']} repeats left out)"
    )
    for i, case in enumerate(cases, 1):
        try:
            harness.run_case(case, i)
        except Exception as exc:
            # One broken case (a server hiccup, a full disk, a driver fault)
            # is reported and the run goes on; the sweep drops its databases.
            case.verdict = HARNESS_ERROR
            case.notes.append(f"{type(exc).__name__}: {exc}")
        print(f"[{i}/{len(cases)}] {case.name}: {case.verdict}", flush=True)
        if case.verdict != SAME:
            for note in case.notes:
                print(f"      {note}")
    _summary(cases, time.monotonic() - started)
    not_reached = harness.setups_not_by_our_diff()
    if not_reached:
        print(f"\nstates our diff from empty does not reach ({len(not_reached)}):")
        for aimed, setup in not_reached:
            print(f"  {aimed.state.test}: {aimed.state.label}\n      {setup.note}")
    return 0


def _summary(cases: Sequence[Case], seconds: float) -> None:
    """Counts per class (split into pairs of states and pairs with the
    empty schema when the run has both), then every case not alike."""
    groups = {"cases": cases}
    if any(c.from_empty for c in cases):
        groups = {
            "between states": [c for c in cases if not c.from_empty],
            "with empty": [c for c in cases if c.from_empty],
            "all": cases,
        }
    tallies = {
        name: Counter(c.verdict for c in group) for name, group in groups.items()
    }
    width = max(len(c) for c in CLASSES)
    print(f"\n{len(cases)} cases in {seconds:.0f} s")
    print(f"  {'':<{width}}" + "".join(f"  {name:>14}" for name in groups))
    for verdict in (*CLASSES, "total"):
        counts = [
            len(groups[name]) if verdict == "total" else tallies[name][verdict]
            for name in groups
        ]
        print(f"  {verdict:<{width}}" + "".join(f"  {n:>14}" for n in counts))
    for verdict in CLASSES[1:]:
        listed = [c for c in cases if c.verdict == verdict]
        if listed:
            print(f"\n{verdict}:")
            for case in listed:
                print(f"  {case.name}")
                for note in case.notes[:6]:
                    print(f"      {note}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
