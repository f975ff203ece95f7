"""The history migration on a database that already holds files and agent
states: every file's content moves to file_contents as its UTF-8 bytes and
gains its one version, every agent state its version row, and all of it
reads back through the repositories exactly as it was written."""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

import asyncpg

from devtools import database, migrate
from repositories import Store

from . import engine

HISTORY = "history_and_checkpoints"

# Per project: path -> text. Shared content (stored once per project, yet
# a version per path), an empty file, multi-byte UTF-8, a NUL-free control
# character the API allows, a line ending kept as is.
FILES: dict[str, dict[str, str]] = {
    "busy": {
        "README.md": "# héllo wörld ✓\r\n",
        "empty.txt": "",
        "a/copy-1.txt": "same bytes",
        "a/copy-2.txt": "same bytes",
        "emoji/🙂.txt": "🙂 astral \U0001f600 and tab\t",
    },
    "other": {"README.md": "same bytes"},
    "idle": {},
}
STATES: dict[str, dict[str, object]] = {
    "busy": {"step": 3, "note": "ünïcødé", "nested": {"list": [1, 2.5, None]}},
    "other": {},
}
# Versions the rows hold before the migration: their history starts there.
FILE_VERSION = 4
STATE_VERSION = 2


def files_before_history() -> int:
    """How many history files precede the history migration."""
    names = engine.history_files()
    return next(i for i, name in enumerate(names) if name.endswith(f"_{HISTORY}.sql"))


async def seed(
    conn: asyncpg.Connection[asyncpg.Record],
) -> tuple[UUID, dict[str, UUID]]:
    """Rows as the schema before the history migration held them: content
    inline in project_files."""
    user: UUID = await conn.fetchval(
        "INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com') RETURNING id"
    )
    projects: dict[str, UUID] = {}
    for name, files in FILES.items():
        projects[name] = await conn.fetchval(
            "INSERT INTO projects (owner_id, name) VALUES ($1, $2) RETURNING id",
            user,
            name,
        )
        for path, text in files.items():
            data = text.encode()
            await conn.execute(
                "INSERT INTO project_files"
                " (project_id, owner_id, path, content, size_bytes, sha256, version)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                projects[name],
                user,
                path,
                text,
                len(data),
                hashlib.sha256(data).hexdigest(),
                FILE_VERSION,
            )
    for name, state in STATES.items():
        await conn.execute(
            "INSERT INTO agent_states (project_id, owner_id, state, version)"
            " VALUES ($1, $2, $3::jsonb, $4)",
            projects[name],
            user,
            json.dumps(state),
            STATE_VERSION,
        )
    return user, projects


async def test_the_backfill_gives_every_row_its_history(empty_db: str) -> None:
    before = engine.apply(empty_db, migrate.MIGRATIONS_DIR, str(files_before_history()))
    assert before.returncode == 0, engine.output(before)
    conn = await asyncpg.connect(empty_db)
    try:
        user, projects = await seed(conn)

        after = engine.apply(empty_db, migrate.MIGRATIONS_DIR)
        assert after.returncode == 0, engine.output(after)

        # Content once per project, as the UTF-8 bytes of the text.
        contents = {
            (r["project_id"], bytes(r["content"]))
            for r in await conn.fetch("SELECT project_id, content FROM file_contents")
        }
        assert contents == {
            (projects[name], text.encode())
            for name, files in FILES.items()
            for text in files.values()
        }
        # One version per file, the current one, in generation 0.
        versions = await conn.fetch(
            "SELECT project_id, path, version, generation, kind, deleted_at"
            " FROM file_versions"
        )
        assert sorted((r["project_id"], r["path"], r["version"]) for r in versions) == (
            sorted(
                (projects[name], path, FILE_VERSION)
                for name, files in FILES.items()
                for path in files
            )
        )
        assert {(r["generation"], r["kind"], r["deleted_at"]) for r in versions} == {
            (0, "text", None)
        }
        state_versions = await conn.fetch(
            "SELECT v.project_id, v.version, v.generation, v.state = s.state AS same"
            " FROM agent_state_versions v JOIN agent_states s USING (project_id)"
        )
        assert sorted(
            (r["project_id"], r["version"], r["generation"], r["same"])
            for r in state_versions
        ) == sorted((projects[name], STATE_VERSION, 0, True) for name in STATES)
        assert await conn.fetchval("SELECT count(*) FROM agent_state_versions") == len(
            STATES
        )
    finally:
        await conn.close()

    # Through the repositories, as the application reads them.
    app_url = await database.app_login_url(empty_db)
    auth_url = await database.auth_login_url(empty_db)
    async with (
        Store.open(app_url, auth_dsn=auth_url) as store,
        store.unit_of_work(user) as uow,
    ):
        for name, files in FILES.items():
            for path, text in files.items():
                stored = await uow.files.get(projects[name], path)
                assert stored.content == text, (name, path)
                assert stored.version == FILE_VERSION
                assert stored.kind == "text"
                history = await uow.files.history(projects[name], path)
                assert [(v.version, v.deleted_at) for v in history.items] == [
                    (FILE_VERSION, None)
                ], (name, path)
                assert history.next_cursor is None
                old = await uow.files.get(projects[name], path, version=FILE_VERSION)
                assert old.content == text
            listed = await uow.files.list(projects[name])
            assert sorted(f.path for f in listed.items) == sorted(files)
        for name, state in STATES.items():
            saved = await uow.agent_states.get(projects[name])
            assert saved.state == state
            assert saved.version == STATE_VERSION
        # The backfilled history takes the next write: a put adds the
        # following version, the state's save the following one.
        busy = projects["busy"]
        put = await uow.files.put(busy, "README.md", "changed")
        assert put.file.version == FILE_VERSION + 1
        history = await uow.files.history(busy, "README.md")
        assert [v.version for v in history.items] == [FILE_VERSION + 1, FILE_VERSION]
        saved = await uow.agent_states.save(busy, {"step": 4})
        assert saved.version == STATE_VERSION + 1
