"""The committed history: it replays on an empty database, it matches
schema.sql (a new diff is empty), it passes validate, lint and squawk, and
atlas.sum guards it. Each proof is also shown to fail on its fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools import migrate, squawk

from . import engine


async def test_fresh_database_reaches_latest_by_apply_alone(empty_db: str) -> None:
    first = engine.apply(empty_db, migrate.MIGRATIONS_DIR)
    assert first.returncode == 0, engine.output(first)
    for name in engine.history_files():
        assert f"applied {name}" in first.stdout
    assert migrate.current_version(empty_db) == f"OK {engine.latest_version()}"
    recorded = await engine.revisions(empty_db)
    assert [r["version"] for r in recorded] == [
        name.split("_", 1)[0] for name in engine.history_files()
    ]
    assert all(r["applied"] == r["total"] and not r["error"] for r in recorded)
    assert await engine.table_exists(empty_db, "public.project_files")

    again = engine.apply(empty_db, migrate.MIGRATIONS_DIR)
    assert again.returncode == 0, engine.output(again)
    assert "No pending migrations" in again.stdout
    assert await engine.revisions(empty_db) == recorded


async def test_replay_proof_fails_on_a_history_that_does_not_run(
    empty_db: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    engine.add_migration(history, "broken", "ALTER TABLE no_such_table ADD c int;\n")
    done = engine.apply(empty_db, history)
    assert done.returncode != 0
    assert "no_such_table" in engine.output(done)
    assert migrate.current_version(empty_db, history).startswith("PENDING")


def test_rediff_of_schema_sql_writes_nothing(dev_url: str, tmp_path: Path) -> None:
    history = engine.copy_history(tmp_path)
    done = engine.diff(history, migrate.SCHEMA_FILE, dev_url)
    assert done.returncode == 0, engine.output(done)
    assert "No changes" in done.stdout
    assert engine.history_files(history) == engine.history_files()


def test_rediff_proof_fails_when_schema_sql_changed(
    dev_url: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    schema = tmp_path / "schema.sql"
    schema.write_text(
        migrate.SCHEMA_FILE.read_text()
        + "\nALTER TABLE projects ADD COLUMN archived boolean NOT NULL DEFAULT false;\n"
    )
    done = engine.diff(history, schema, dev_url)
    assert done.returncode == 0, engine.output(done)
    new = sorted(set(engine.history_files(history)) - set(engine.history_files()))
    assert len(new) == 1
    assert new[0].endswith("_check.sql")
    assert 'ADD COLUMN "archived" boolean' in (history / new[0]).read_text()
    # With the new migration in the history, the next diff is empty again.
    again = engine.diff(history, schema, dev_url)
    assert "No changes" in again.stdout, engine.output(again)


def test_history_passes_validate_lint_and_squawk(dev_url: str) -> None:
    validate = engine.run(
        "migrate", "validate", "--dir", "file://migrations", "--dev-url", dev_url
    )
    assert validate.returncode == 0, engine.output(validate)
    # Every file, as `nox -s lint` has it.
    lint = engine.lint(migrate.MIGRATIONS_DIR, dev_url, *migrate.lint_selection())
    assert lint.returncode == 0, engine.output(lint)
    files = len(engine.history_files())
    assert f"Lint passed: {files} file(s) analysed" in lint.stdout
    # squawk as `nox -s lint` runs it (devtools.squawk).
    verdict = squawk.check(migrate.MIGRATIONS_DIR)
    assert verdict.refused == []
    assert verdict.files == files


def test_lint_refuses_a_destructive_migration(dev_url: str, tmp_path: Path) -> None:
    history = engine.copy_history(tmp_path)
    name = engine.add_migration(
        history, "drop_image", 'ALTER TABLE "public"."users" DROP COLUMN "image";\n'
    )
    lint = engine.lint(history, dev_url)
    assert lint.returncode != 0
    assert name in lint.stderr
    assert "DS103" in lint.stderr
    assert '"image"' in lint.stderr


@pytest.mark.parametrize("command", ["validate", "apply"])
async def test_an_edited_migration_is_refused(
    command: str, empty_db: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    first = history / engine.history_files(history)[0]
    first.write_text(first.read_text() + "CREATE TABLE sneaked_in (id int);\n")
    args = ["--url", empty_db] if command == "apply" else []
    done = engine.run("migrate", command, "--dir", migrate.file_url(history), *args)
    assert done.returncode != 0
    assert "checksum mismatch" in done.stderr
    assert first.name in done.stderr
    assert not await engine.table_exists(empty_db, "public.sneaked_in")
    assert not await engine.table_exists(empty_db, "public.users")
