"""The migration engine as the proofs drive it: copies of the history to
break on purpose, and the revisions a database records."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import asyncpg

from devtools import PROJECT_ROOT, atlas, migrate

from . import catalog


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The engine `devtools.atlas` chooses (the official CLI when present)."""
    return atlas.run(*args)


def own(*args: str) -> subprocess.CompletedProcess[str]:
    """The project's build, which `migrate diff` and `migrate lint` always use
    (they add the security statements and the row-level security check)."""
    return subprocess.run(
        [str(atlas.project_build()), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def diff(
    history: Path, schema: Path, dev_url: str, name: str = "check"
) -> subprocess.CompletedProcess[str]:
    return own(
        "migrate",
        "diff",
        name,
        "--dir",
        migrate.file_url(history),
        "--to",
        migrate.file_url(schema),
        "--dev-url",
        dev_url,
    )


def lint(
    history: Path, dev_url: str, *selection: str
) -> subprocess.CompletedProcess[str]:
    """`migrate lint`, by default over the latest file (`--latest 1`)."""
    return own(
        "migrate",
        "lint",
        "--dir",
        migrate.file_url(history),
        "--dev-url",
        dev_url,
        *(selection or ("--latest", "1")),
    )


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def copy_history(tmp_path: Path) -> Path:
    """A copy of migrations/ to change without touching the real one."""
    target = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, target)
    return target


def history_files(directory: Path = migrate.MIGRATIONS_DIR) -> list[str]:
    return sorted(p.name for p in directory.glob("*.sql"))


def latest_version(directory: Path = migrate.MIGRATIONS_DIR) -> str:
    return history_files(directory)[-1].split("_", 1)[0]


def add_migration(directory: Path, name: str, sql: str) -> str:
    """Append a migration after the latest one and re-hash; returns its file name."""
    version = str(int(latest_version(directory)) + 1)
    file_name = f"{version}_{name}.sql"
    (directory / file_name).write_text(sql)
    done = run("migrate", "hash", "--dir", migrate.file_url(directory))
    assert done.returncode == 0, output(done)
    return file_name


def apply(url: str, directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(
        "migrate", "apply", "--dir", migrate.file_url(directory), "--url", url, *extra
    )


async def revisions(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(
            "SELECT version, applied, total, error, error_stmt, hash"
            " FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY version"
        )
    finally:
        await conn.close()


async def table_exists(url: str, name: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        found: bool = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name)
        return found
    finally:
        await conn.close()


async def applies_and_reaches_schema(
    admin_url: str,
    target: str,
    history: Path,
    schema: Path,
    dev_url: str,
    name: str = "again",
) -> None:
    """The history applies to `target` (at an earlier version), the result's
    catalog is the one `schema` builds, and a second diff writes nothing."""
    applied = apply(target, history)
    assert applied.returncode == 0, output(applied)
    found = catalog.against_history(
        await catalog.picture_of_schema(admin_url, schema),
        await catalog.snapshot(target),
    )
    assert found == [], "\n".join(map(str, found))
    again = diff(history, schema, dev_url, name)
    assert again.returncode == 0, output(again)
    assert "No changes" in again.stdout, output(again)
