"""The version-floors migration on a database that already holds files: each
project's file floor starts at the highest version its files hold, so a
path re-created after the migration starts above every version shown
before it."""

from __future__ import annotations

import hashlib

import asyncpg

from devtools import migrate

from . import engine

FLOORS = "version_floors"


def files_before_floors() -> int:
    """How many history files precede the floors migration."""
    names = engine.history_files()
    return next(i for i, name in enumerate(names) if name.endswith(f"_{FLOORS}.sql"))


async def test_the_backfill_starts_each_floor_at_its_projects_highest_version(
    empty_db: str,
) -> None:
    before = engine.apply(empty_db, migrate.MIGRATIONS_DIR, str(files_before_floors()))
    assert before.returncode == 0, engine.output(before)
    conn = await asyncpg.connect(empty_db)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com')"
            " RETURNING id"
        )
        busy, idle = [
            await conn.fetchval(
                "INSERT INTO projects (owner_id, name) VALUES ($1, $2) RETURNING id",
                user,
                name,
            )
            for name in ("busy", "idle")
        ]
        for path, version in (("a.txt", 7), ("b.txt", 3)):
            await conn.execute(
                "INSERT INTO project_files"
                " (project_id, owner_id, path, content, size_bytes, sha256, version)"
                " VALUES ($1, $2, $3, 'x', 1, $4, $5)",
                busy,
                user,
                path,
                hashlib.sha256(b"x").hexdigest(),
                version,
            )

        after = engine.apply(empty_db, migrate.MIGRATIONS_DIR)
        assert after.returncode == 0, engine.output(after)
        floors = {
            row["id"]: row["file_version_floor"]
            for row in await conn.fetch("SELECT id, file_version_floor FROM projects")
        }
        assert floors == {busy: 7, idle: 0}
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM projects WHERE agent_state_version_floor <> 0"
            )
            == 0
        )
    finally:
        await conn.close()
