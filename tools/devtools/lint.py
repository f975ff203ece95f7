"""Every linter of `nox -s lint`, each run whatever the others found.

    python -m devtools.lint [--dir DIR] [LINTER ...]

ruff check, ruff format --check, gofmt and go vet over tools/schemaflow,
squawk (devtools.squawk), migrate validate and migrate lint (both on the
migrations of DIR, default migrations/, with dev databases on DATABASE_URL
or the embedded server). Each prints its own findings under a heading; the
run ends with one line naming the linters that failed, and exits 1 if any
did. Naming linters runs only those.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devtools import PROJECT_ROOT, atlas, database, embedded, migrate, squawk


@dataclass(frozen=True)
class Linter:
    name: str
    run: Callable[[Path], int]  # the migrations directory -> exit status


def _command(*args: str, cwd: Path = PROJECT_ROOT) -> int:
    try:
        return subprocess.call(args, cwd=cwd)
    except OSError as exc:
        print(f"error: cannot run {args[0]}: {exc}", file=sys.stderr)
        return 1


def _gofmt(_: Path) -> int:
    try:
        done = subprocess.run(
            ["gofmt", "-l", "."],
            cwd=atlas.ENGINE_SOURCE,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        print(f"error: cannot run gofmt: {exc}", file=sys.stderr)
        return 1
    unformatted = done.stdout.split()
    if unformatted:
        print(f"gofmt would reformat: {', '.join(unformatted)}")
    print(done.stderr, end="", file=sys.stderr)
    return 1 if unformatted or done.returncode else 0


def _has_migrations(directory: Path) -> bool:
    if any(directory.glob("*.sql")):
        return True
    print(f"{directory} holds no migrations: nothing to check")
    return False


def _squawk(directory: Path) -> int:
    return squawk.main([str(directory)]) if _has_migrations(directory) else 0


def _engine(command: Callable[[str, Path], int]) -> Callable[[Path], int]:
    """A migrate command on a dev database of DATABASE_URL's server or the
    embedded one; an unreachable server fails this linter only."""

    def run(directory: Path) -> int:
        if not _has_migrations(directory):
            return 0
        try:
            url = database.resolve_url()
            database.check(url)
            return command(url, directory)
        except (
            database.DatabaseUnreachable,
            embedded.EmbeddedServerError,
            atlas.AtlasUnavailable,
        ) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


LINTERS = [
    Linter("ruff check", lambda _: _command("ruff", "check", ".")),
    Linter("ruff format", lambda _: _command("ruff", "format", "--check", ".")),
    Linter("gofmt", _gofmt),
    Linter("go vet", lambda _: _command("go", "vet", "./...", cwd=atlas.ENGINE_SOURCE)),
    Linter("squawk", _squawk),
    Linter("migrate validate", _engine(migrate.validate)),
    Linter("migrate lint", _engine(migrate.lint)),
]


def run(linters: list[Linter], directory: Path) -> list[str]:
    """Runs each linter, printing a heading before it; returns the names of
    those that failed."""
    failed = []
    for linter in linters:
        print(f"--- {linter.name}", flush=True)
        code = linter.run(directory)
        sys.stdout.flush()
        sys.stderr.flush()
        if code != 0:
            failed.append(linter.name)
    return failed


def main(argv: list[str]) -> int:
    names = [linter.name for linter in LINTERS]
    parser = argparse.ArgumentParser(
        prog="python -m devtools.lint",
        description=f"Runs every linter, or those named: {', '.join(names)}.",
    )
    parser.add_argument(
        "--dir", type=Path, default=migrate.MIGRATIONS_DIR, help="migrations directory"
    )
    parser.add_argument("linter", nargs="*", help="a linter's name (quote spaces)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.linter if name not in names]
    if unknown:
        parser.error(f"unknown linter(s) {unknown}; choose from {names}")
    chosen = [
        linter for linter in LINTERS if not args.linter or linter.name in args.linter
    ]
    failed = run(chosen, args.dir.resolve())
    if failed:
        print(
            f"lint failed: {', '.join(failed)} ({len(failed)} of {len(chosen)} linters)"
        )
        return 1
    print(f"lint passed: {len(chosen)} linters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
