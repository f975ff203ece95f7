"""The bench's hand-written raw stack (bench/stacks/hand.py) is the
comparison the writers' goals are judged against, so it must do what the
repositories do per unit of work and no less: the same transaction text
around its statements, row-level security binding them (it logs in as
app_login and its reads name no owner), and sane outcomes and versions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from bench.database import new_project, new_user
from bench.stacks import hand
from bench.stacks.hand import HandStack

from repositories import unit_of_work


@pytest.fixture
async def stack(database_url: str) -> AsyncIterator[HandStack]:
    opened = await HandStack.open(database_url, 2)
    try:
        yield opened
    finally:
        await opened.close()


def test_its_transaction_is_the_unit_of_works() -> None:
    user = uuid.uuid4()
    assert hand.begin(user) == unit_of_work.begin_as(user)
    # A unit of work that ran only the repositories' statements ends so.
    assert hand.COMMIT == "COMMIT"


async def test_it_logs_in_as_the_application_and_runs_as_app_user(
    stack: HandStack,
) -> None:
    async with stack.pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_user") == "app_login"
        await conn.execute(hand.begin(uuid.uuid4()))
        assert await conn.fetchval("SELECT current_user") == "app_user"
        await conn.execute(hand.COMMIT)
        assert await conn.fetchval("SELECT current_user") == "app_login"


async def test_row_level_security_binds_its_reads_and_writes(
    stack: HandStack, superuser: asyncpg.Connection[Any]
) -> None:
    owner = await new_user(superuser, "owner")
    other = await new_user(superuser, "other")
    project = await new_project(superuser, owner, "p")
    await stack.put_file(owner, project, "a.py", "print(1)\n")
    await stack.upsert_state(owner, project, {"step": 1})
    # GET and LIST name no owner: only the policies keep the other user out.
    assert await stack.get_file_of(other, project, "a.py") is None
    assert await stack.list_files(other, project, "") == []
    found = await stack.get_file_of(owner, project, "a.py")
    assert found is not None
    assert found["content"] == b"print(1)\n"
    assert found["kind"] == "text"
    with pytest.raises(asyncpg.PostgresError):
        # Another user's upsert onto the owner's row is refused (the
        # policies' USING), never applied.
        await stack.upsert_state(other, project, {"step": 2})
    assert (
        await superuser.fetchval(
            "SELECT state->>'step' FROM agent_states WHERE project_id = $1", project
        )
        == "1"
    )


async def test_put_sync_and_save_outcomes_and_versions(
    stack: HandStack, superuser: asyncpg.Connection[Any]
) -> None:
    user = await new_user(superuser, "writer")
    project = await new_project(superuser, user, "p")
    assert await stack.put_file(user, project, "a.py", "one") == ("created", 1)
    assert await stack.put_file(user, project, "a.py", "two") == ("updated", 2)
    assert await stack.put_file(user, project, "a.py", "two") == ("unchanged", None)
    stored = await superuser.fetchrow(
        "SELECT version, size_bytes FROM project_files WHERE project_id = $1",
        project,
    )
    assert stored is not None
    assert tuple(stored) == (2, 3)

    await stack.put_file(user, project, "gone.py", "x")
    tree = {"a.py": "three", "b.py": "new", "c.py": "new too"}
    assert await stack.sync_tree(user, project, tree) == (2, 1, 1)
    assert await stack.sync_tree(user, project, tree) == (0, 0, 0)
    listed = await stack.list_files(user, project, "", 2)
    assert [(row["path"], row["version"]) for row in listed] == [
        ("a.py", 3),
        ("b.py", 1),
    ]
    after = await stack.list_files(user, project, "b.py")
    assert [row["path"] for row in after] == ["c.py"]

    assert await stack.upsert_state(user, project, {"step": 1}) == 1
    assert await stack.upsert_state(user, project, {"step": 2}) == 2


async def test_it_keeps_history_as_the_schema_asks(
    stack: HandStack, superuser: asyncpg.Connection[Any]
) -> None:
    """Every write adds its version, each content is stored once, a file
    the sync removes has its version marked deleted, and a file made again
    at that path starts above its history: what the repositories write
    per write, so the comparison with them is of like with like."""
    user = await new_user(superuser, "historian")
    project = await new_project(superuser, user, "p")
    assert await stack.put_file(user, project, "a.py", "one") == ("created", 1)
    assert await stack.put_file(user, project, "a.py", "two") == ("updated", 2)
    assert await stack.put_file(user, project, "a.py", "one") == ("updated", 3)
    assert await stack.put_file(user, project, "a.py", "one") == ("unchanged", None)
    versions = await superuser.fetch(
        "SELECT v.version, c.content FROM file_versions AS v "
        "JOIN file_contents AS c USING (project_id, sha256) "
        "WHERE v.project_id = $1 AND v.path = 'a.py' ORDER BY v.version",
        project,
    )
    assert [(r["version"], r["content"]) for r in versions] == [
        (1, b"one"),
        (2, b"two"),
        (3, b"one"),
    ]
    assert (
        await superuser.fetchval(
            "SELECT count(*) FROM file_contents WHERE project_id = $1", project
        )
        == 2
    )
    assert await stack.sync_tree(user, project, {"b.py": "bee"}) == (1, 0, 1)
    deleted = await superuser.fetchval(
        "SELECT deleted_at IS NOT NULL FROM file_versions "
        "WHERE project_id = $1 AND path = 'a.py' AND version = 3",
        project,
    )
    assert deleted is True
    assert await stack.put_file(user, project, "a.py", "again") == ("created", 4)
    await stack.upsert_state(user, project, {"step": 1})
    await stack.upsert_state(user, project, {"step": 2})
    assert await superuser.fetchval(
        "SELECT array_agg(version ORDER BY version) FROM agent_state_versions "
        "WHERE project_id = $1",
        project,
    ) == [1, 2]
