"""The daily schema loop as a new user walks it, on a fresh clone with its
own embedded server: add a column, generate, lint, migrate; an index and a
CHECK on existing tables come out online-safe and apply; undo the change and
the database's drift is named; reset; an applied file edited and re-hashed
is named too.

Each step runs the command its nox session runs (`nox -s generate -- NAME`
runs `python -m devtools.migrate --diff NAME`, `nox -s lint` runs
`python -m devtools.lint`, and so on) from the clone's own tools/, so the
clone's files, engine build and database are the only ones involved."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT, cluster

Completed = subprocess.CompletedProcess[str]

LABELS_COLUMN = "    labels     text[]      NULL,\n"
ONLINE_CHANGES = """
-- Recently changed files first, for an activity view.
CREATE INDEX project_files_updated_at_idx ON project_files (updated_at);
"""
NAME_NOT_BLANK = "    CONSTRAINT projects_name_not_blank CHECK (name <> ''),\n"
# The lint steps that judge migrations (ruff and the Go checks judge code,
# which the loop does not change).
MIGRATION_LINTERS = ("squawk", "migrate validate", "migrate lint")


@dataclass(frozen=True)
class Clone:
    root: Path
    data: Path

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(self.root / "tools"),
            "EMBEDDED_PGDATA": str(self.data),
        }
        # The clone's embedded server, as on a new machine.
        for name in ("DATABASE_URL", "ATLAS_BIN"):
            env.pop(name, None)
        return env

    def devtool(self, module: str, *args: str) -> Completed:
        return subprocess.run(
            [sys.executable, "-m", f"devtools.{module}", *args],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=True
        )
        return done.stdout

    def migrations(self) -> list[str]:
        return sorted(p.name for p in (self.root / "migrations").glob("*.sql"))

    def edit_schema(self, after: str, insert: str) -> None:
        schema = self.root / "schema.sql"
        text = schema.read_text()
        assert text.count(after) == 1, f"schema.sql has no single {after!r}"
        schema.write_text(text.replace(after, after + insert))


def output(done: Completed) -> str:
    return done.stdout + done.stderr


def passed(done: Completed) -> str:
    assert done.returncode == 0, output(done)
    return output(done)


def failed(done: Completed) -> str:
    assert done.returncode == 1, output(done)
    return output(done)


def _tracked_files() -> list[str]:
    """What a clone of this repository checks out: the tracked files (and
    new ones not ignored), as they are in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name]


@pytest.fixture
def clone() -> Iterator[Clone]:
    base = cluster.scratch_dir("daily-loop-")
    made = Clone(root=base / "clone", data=base / "pgdata")
    for name in _tracked_files():
        source = PROJECT_ROOT / name
        if not source.is_file():
            continue  # deleted in the working tree, not yet committed
        target = made.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    made.git("init", "--quiet")
    made.git("add", "--all")
    made.git(
        "-c", "user.name=loop", "-c", "user.email=loop@example.com",
        "commit", "--quiet", "-m", "clone",
    )  # fmt: skip
    try:
        yield made
    finally:
        made.devtool("embedded", "stop")
        shutil.rmtree(base, ignore_errors=True)


def new_files(clone: Clone, before: list[str]) -> list[str]:
    return sorted(set(clone.migrations()) - set(before))


def test_the_daily_loop_from_a_fresh_clone(clone: Clone) -> None:
    committed = clone.migrations()
    latest = committed[-1].split("_", 1)[0]

    # Set-up: `nox -s migrate` on the embedded server.
    set_up = passed(clone.devtool("migrate"))
    assert f"current version: OK {latest}" in set_up
    port = re.search(r"127\.0\.0\.1:(\d+)", set_up)
    assert port, set_up

    # 1. A nullable column: one file, with the timeout header, that every
    #    migration linter accepts as it comes out, and that applies.
    clone.edit_schema(
        "    kind       text        NOT NULL DEFAULT 'text',\n", LABELS_COLUMN
    )
    passed(clone.devtool("migrate", "--diff", "add_labels"))
    (labels_file,) = new_files(clone, committed)
    assert labels_file.endswith("_add_labels.sql")
    labels_sql = (clone.root / "migrations" / labels_file).read_text()
    assert "SET LOCAL lock_timeout = '5s';" in labels_sql
    assert 'ADD COLUMN "labels" text[] NULL' in labels_sql
    passed(clone.devtool("lint", *MIGRATION_LINTERS))
    applied = passed(clone.devtool("migrate"))
    assert f"current version: OK {labels_file.split('_', 1)[0]}" in applied

    # 2. An index and a CHECK on existing tables: the index built
    #    concurrently outside a transaction, the CHECK added NOT VALID and
    #    validated in a later file; all lint clean and applied.
    before = clone.migrations()
    schema = clone.root / "schema.sql"
    schema.write_text(schema.read_text() + ONLINE_CHANGES)
    clone.edit_schema(
        "    agent_state_version_floor bigint NOT NULL DEFAULT 0,\n", NAME_NOT_BLANK
    )
    passed(clone.devtool("migrate", "--diff", "activity"))
    written = new_files(clone, before)
    texts = {name: (clone.root / "migrations" / name).read_text() for name in written}
    (index_file,) = [n for n, t in texts.items() if "CONCURRENTLY" in t]
    assert "-- atlas:txmode none" in texts[index_file]
    assert '"project_files_updated_at_idx"' in texts[index_file]
    (check_file,) = [
        n
        for n, t in texts.items()
        if "projects_name_not_blank" in t and "NOT VALID" in t
    ]
    (validate_file,) = [n for n, t in texts.items() if "VALIDATE CONSTRAINT" in t]
    assert written.index(check_file) < written.index(validate_file)
    assert '"projects_name_not_blank"' in texts[validate_file]
    passed(clone.devtool("lint", *MIGRATION_LINTERS))
    passed(clone.devtool("migrate"))
    status = passed(clone.devtool("migrate", "--status"))
    assert "Migration Status: OK" in status

    # 3. Undo before committing: the files go, the database keeps what they
    #    did, and both status and migrate refuse it, naming the revisions.
    clone.git("checkout", "--", "schema.sql", "migrations/atlas.sum")
    clone.git("clean", "--quiet", "--force", "--", "migrations")
    assert clone.migrations() == committed
    orphans = [name.split("_", 1)[0] for name in [labels_file, *written]]
    for argv in (["--status"], []):
        refused = failed(clone.devtool("migrate", *argv))
        for version in orphans:
            assert version in refused, refused
        assert "nox -s db -- reset" in refused

    # 4. Reset: the local database is migrations/ again, on the same port.
    reset = passed(clone.devtool("embedded", "reset"))
    assert f"127.0.0.1:{port.group(1)}" in reset
    status = passed(clone.devtool("migrate", "--status"))
    assert "Migration Status: OK" in status
    assert f"Current Version: {latest}" in status

    # 5. An applied file edited and re-hashed is named.
    last = clone.root / "migrations" / committed[-1]
    last.write_text(last.read_text() + "\nCREATE TABLE sneaked_in (id int);\n")
    passed(clone.devtool("migrate", "--hash"))
    refused = failed(clone.devtool("migrate", "--status"))
    assert committed[-1] in refused
