"""Drift between the database and migrations/ is an error that names it.

As a user meets it: migrations applied to a database and then removed from
the folder (an undo after `migrate apply`), or an applied file edited and
re-hashed. `migrate status` and `migrate apply` (dry run too) then exit 1,
name the revision or the file and say the way out, and apply changes
nothing. The cases that are no drift stay quiet: a database in step, a
baseline, and a file fixed after a failed attempt and applied again.

The check is the project's build's (the official CLI v1.2.3 has none), so
these proofs run that build whichever engine `devtools.atlas` would choose."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import asyncpg

from devtools import PROJECT_ROOT, atlas, database, migrate

from . import engine

ADD_LABELS = "ALTER TABLE project_files ADD COLUMN labels text[] NULL;\n"
ADD_LABELS_INDEX = "CREATE INDEX project_files_labels ON project_files (labels);\n"
# What the way out must mention, for each kind of drift.
WAY_OUT_ORPHANS = ("git", "nox -s db -- reset", "reverts", "DELETE FROM")
WAY_OUT_CHANGED = ("git checkout", "nox -s db -- reset", "new migration")
Completed = subprocess.CompletedProcess[str]


def status(url: str, directory: Path, *extra: str) -> Completed:
    return engine.own(
        "migrate", "status", "--dir", migrate.file_url(directory), "--url", url, *extra
    )


def apply(url: str, directory: Path, *extra: str) -> Completed:
    return engine.own(
        "migrate", "apply", "--dir", migrate.file_url(directory), "--url", url, *extra
    )


def remove_and_rehash(directory: Path, *names: str) -> None:
    """The user's undo: the files go (e.g. `git checkout .` and deleting the
    new ones), and atlas.sum follows."""
    for name in names:
        (directory / name).unlink()
    done = engine.run("migrate", "hash", "--dir", migrate.file_url(directory))
    assert done.returncode == 0, engine.output(done)


def add_after(directory: Path, version: str, name: str, sql: str) -> str:
    """A new migration with a version after `version` (a removed file's
    version is not reused: `migrate diff` names files by the time)."""
    file_name = f"{int(version) + 1}_{name}.sql"
    (directory / file_name).write_text(sql)
    done = engine.run("migrate", "hash", "--dir", migrate.file_url(directory))
    assert done.returncode == 0, engine.output(done)
    return file_name


def edit_and_rehash(directory: Path, name: str, extra_sql: str) -> None:
    path = directory / name
    path.write_text(path.read_text() + extra_sql)
    done = engine.run("migrate", "hash", "--dir", migrate.file_url(directory))
    assert done.returncode == 0, engine.output(done)


def assert_refused(done: Completed, way_out: tuple[str, ...], *named: str) -> None:
    assert done.returncode == 1, engine.output(done)
    assert "Error: drift" in done.stderr
    for text in (*named, *way_out):
        assert text in done.stderr, f"{text!r} not in:\n{done.stderr}"


async def _applied_and_undone(url: str, tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of migrations/ plus two new files, applied, then the two files
    removed from the copy: the database holds two versions the folder lacks."""
    history = engine.copy_history(tmp_path)
    added = [
        engine.add_migration(history, "add_labels", ADD_LABELS),
        engine.add_migration(history, "add_labels_index", ADD_LABELS_INDEX),
    ]
    applied = apply(url, history)
    assert applied.returncode == 0, engine.output(applied)
    remove_and_rehash(history, *added)
    return history, added


async def test_status_names_each_revision_the_folder_does_not_hold(
    empty_db: str, tmp_path: Path
) -> None:
    history, added = await _applied_and_undone(empty_db, tmp_path)
    done = status(empty_db, history)
    versions = [name.split("_", 1)[0] for name in added]
    assert_refused(done, WAY_OUT_ORPHANS, *versions, "add_labels", "add_labels_index")
    # The report still prints, with the state named, for the eye and for
    # --format templates; the exit status is what scripts go by.
    assert "Migration Status: DRIFT" in done.stdout
    formatted = status(empty_db, history, "--format", migrate.STATUS_FORMAT)
    assert formatted.returncode == 1
    assert formatted.stdout.startswith("DRIFT "), formatted.stdout
    # No committed file is called changed: only the two versions are drift.
    for name in engine.history_files(history):
        assert name not in done.stderr


async def test_apply_refuses_and_changes_nothing(empty_db: str, tmp_path: Path) -> None:
    history, added = await _applied_and_undone(empty_db, tmp_path)
    # The redo of the issue: a new migration over the leftover column would
    # fail half-way; a harmless one would be applied on top of the drift.
    redo = add_after(
        history,
        added[-1].split("_", 1)[0],
        "redo",
        "CREATE TABLE drift_probe (id int);\n",
    )
    before = await engine.revisions(empty_db)
    for extra in ((), ("--dry-run",)):
        done = apply(empty_db, history, *extra)
        assert_refused(
            done, WAY_OUT_ORPHANS, *(name.split("_", 1)[0] for name in added)
        )
        assert redo not in done.stdout
    assert not await engine.table_exists(empty_db, "public.drift_probe")
    assert await engine.revisions(empty_db) == before


async def test_an_applied_file_edited_and_rehashed_is_named(
    empty_db: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    applied = apply(empty_db, history)
    assert applied.returncode == 0, engine.output(applied)
    files = engine.history_files(history)
    edited = files[1]
    edit_and_rehash(history, edited, "CREATE TABLE sneaked_in (id int);\n")
    pending = engine.add_migration(
        history, "next", "CREATE TABLE drift_probe (id int);\n"
    )
    before = await engine.revisions(empty_db)

    for done in (
        status(empty_db, history),
        apply(empty_db, history),
        apply(empty_db, history, "--dry-run"),
    ):
        assert_refused(done, WAY_OUT_CHANGED, edited)
        # atlas.sum's hashes are cumulative, so every later file's hash moved
        # too; only the file that changed is named.
        for later in files[2:]:
            assert later not in done.stderr, done.stderr
        assert pending not in done.stdout
    assert not await engine.table_exists(empty_db, "public.sneaked_in")
    assert not await engine.table_exists(empty_db, "public.drift_probe")
    assert await engine.revisions(empty_db) == before


async def test_a_database_in_step_is_ok(empty_db: str, tmp_path: Path) -> None:
    history = engine.copy_history(tmp_path)
    assert apply(empty_db, history).returncode == 0
    done = status(empty_db, history)
    assert done.returncode == 0, engine.output(done)
    assert "Migration Status: OK" in done.stdout
    assert done.stderr == ""
    # A pending file is no drift either.
    engine.add_migration(history, "next", "CREATE TABLE drift_probe (id int);\n")
    pending = status(empty_db, history)
    assert pending.returncode == 0, engine.output(pending)
    assert "Migration Status: PENDING" in pending.stdout


async def test_a_file_fixed_after_a_failed_attempt_is_no_drift(
    empty_db: str, tmp_path: Path
) -> None:
    """The engine keeps the failed attempt's hash when it retries a file; the
    apply that completes it records the file's hash as it is now."""
    history = engine.copy_history(tmp_path)
    broken = engine.add_migration(
        history, "fix_me", "ALTER TABLE no_such_table ADD c int;\n"
    )
    failed = apply(empty_db, history)
    assert failed.returncode != 0
    assert "no_such_table" in engine.output(failed)
    (history / broken).write_text("CREATE TABLE drift_probe (id int);\n")
    rehashed = engine.run("migrate", "hash", "--dir", migrate.file_url(history))
    assert rehashed.returncode == 0, engine.output(rehashed)

    finished = apply(empty_db, history)
    assert finished.returncode == 0, engine.output(finished)
    assert await engine.table_exists(empty_db, "public.drift_probe")
    done = status(empty_db, history)
    assert done.returncode == 0, engine.output(done)
    assert "Migration Status: OK" in done.stdout


async def test_a_baseline_records_no_hash_and_is_no_drift(
    empty_db: str, tmp_path: Path
) -> None:
    """`--baseline` records the version without a file hash: nothing to
    compare, and the files applied after it are checked as usual."""
    history = engine.copy_history(tmp_path)
    latest = engine.latest_version(history)
    base = apply(empty_db, history, "--baseline", latest)
    assert base.returncode == 0, engine.output(base)
    conn = await asyncpg.connect(empty_db)
    try:
        recorded = await conn.fetch(
            "SELECT version, type, hash FROM atlas_schema_revisions.atlas_schema_revisions"
        )
    finally:
        await conn.close()
    assert [(r["version"], r["type"], r["hash"]) for r in recorded] == [(latest, 1, "")]
    added = engine.add_migration(
        history, "next", "CREATE TABLE drift_probe (id int);\n"
    )
    assert apply(empty_db, history).returncode == 0
    done = status(empty_db, history)
    assert done.returncode == 0, engine.output(done)

    # The baseline's own file removed: the database claims a version the
    # folder no longer has. The file after it is not called changed, though
    # its hash moved with the removal.
    baseline_file = engine.history_files(history)[-2]
    remove_and_rehash(history, baseline_file)
    done = status(empty_db, history)
    description = baseline_file.split("_", 1)[1].removesuffix(".sql")
    assert_refused(done, WAY_OUT_ORPHANS, f"{latest} {description}", "as the baseline")
    assert added not in done.stderr


def nox_migrate(url: str, *argv: str, engine_bin: Path | None = None) -> Completed:
    """`nox -s migrate -- ARGV` against `url`, with the project's build (or
    `engine_bin` as the chosen engine)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ATLAS_BIN": str(engine_bin or atlas.project_build()),
        "PYTHONPATH": str(PROJECT_ROOT / "tools"),
    }
    return subprocess.run(
        [sys.executable, "-m", "devtools.migrate", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_nox_migrate_status_compares_the_schema_with_the_replay(
    empty_db: str,
) -> None:
    """`-- --status` replays the applied files on a fresh dev database and
    lets the engine diff that with the database: in step it is OK; a column
    added by hand is named, as the statement the engine would plan."""
    migrate.apply_latest(empty_db)
    in_step = nox_migrate(empty_db, "--status")
    assert in_step.returncode == 0, engine.output(in_step)
    assert "Migration Status: OK" in in_step.stdout

    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute(ADD_LABELS)
    finally:
        await conn.close()
    done = nox_migrate(empty_db, "--status")
    assert done.returncode == 1, engine.output(done)
    assert "Migration Status: DRIFT" in done.stdout
    assert "Error: drift: the database's schema differs" in done.stderr
    assert 'ALTER TABLE "public"."project_files" ADD COLUMN "labels"' in done.stderr
    for text in ("undo the change", "nox -s db -- reset", "schema.sql"):
        assert text in done.stderr, done.stderr
    # The revisions alone are in step: plain status (no dev database) is OK.
    plain = status(empty_db, migrate.MIGRATIONS_DIR)
    assert plain.returncode == 0, engine.output(plain)


async def test_nox_migrate_status_without_createdb_still_checks_the_revisions(
    empty_db: str, tmp_path: Path
) -> None:
    """A role that cannot create the dev database (a managed server, say)
    gets the revisions checked and a note that the schema was not."""
    migrate.apply_latest(empty_db)
    role, password = f"drift_{secrets.token_hex(4)}", secrets.token_hex(8)
    admin = await asyncpg.connect(empty_db)
    try:
        await admin.execute(
            f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD '{password}'"
        )
        await admin.execute(f"GRANT USAGE ON SCHEMA atlas_schema_revisions TO {role}")
        await admin.execute(
            f"GRANT SELECT ON atlas_schema_revisions.atlas_schema_revisions TO {role}"
        )
        url = database.as_role(empty_db, role, password)
        in_step = nox_migrate(url, "--status")
        assert in_step.returncode == 0, engine.output(in_step)
        assert "note: the schema is not compared" in in_step.stderr
        assert "CREATEDB" in in_step.stderr

        history = engine.copy_history(tmp_path)
        extra = engine.add_migration(history, "add_labels", ADD_LABELS)
        assert apply(empty_db, history).returncode == 0
        drifted = nox_migrate(url, "--status")
        assert_refused(drifted, WAY_OUT_ORPHANS, extra.split("_", 1)[0])
    finally:
        await admin.execute(f"DROP OWNED BY {role}")
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def test_nox_migrate_passes_the_refusal_through(
    empty_db: str, tmp_path: Path
) -> None:
    """`nox -s migrate` and `-- --status` (devtools.migrate on migrations/)
    exit 1 with the engine's message, and print no version after a refused
    apply."""
    history = engine.copy_history(tmp_path)
    extra = engine.add_migration(history, "add_labels", ADD_LABELS)
    assert apply(empty_db, history).returncode == 0
    for argv in ([], ["--status"]):
        done = nox_migrate(empty_db, *argv)
        assert_refused(done, WAY_OUT_ORPHANS, extra.split("_", 1)[0], "add_labels")
        assert "current version" not in done.stdout


async def test_nox_migrate_checks_drift_before_another_engine_applies(
    empty_db: str, tmp_path: Path
) -> None:
    """With another engine chosen (the official CLI on PATH, which applies on
    top of drift without a word), `nox -s migrate` runs the project's build's
    status first and never hands the apply over. The other engine here is a
    wrapper that logs its arguments and runs the project's build."""
    history = engine.copy_history(tmp_path)
    extra = engine.add_migration(history, "add_labels", ADD_LABELS)
    assert apply(empty_db, history).returncode == 0
    calls = tmp_path / "calls.log"
    other = tmp_path / "other-engine"
    other.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\nexec {atlas.project_build()} "$@"\n'
    )
    other.chmod(0o755)
    done = nox_migrate(empty_db, engine_bin=other)
    assert_refused(done, WAY_OUT_ORPHANS, extra.split("_", 1)[0])
    assert "drift check before other-engine applies" in done.stdout
    logged = calls.read_text() if calls.exists() else ""
    assert "migrate apply" not in logged, logged
