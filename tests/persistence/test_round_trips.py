"""How many statements a unit of work sends: the figures README and
docs/api.md quote.

asyncpg's query logger sees every statement a connection runs; each is one
round trip once the statement is in asyncpg's per-connection cache.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from repositories import Store, User
from repositories._generated import projects as project_queries
from repositories.unit_of_work import COMMIT_AND_RESET, begin_as
from tests.support import new_user


async def flushed_log() -> None:
    """asyncpg hands a non-coroutine query logger to loop.call_soon after the
    statement; one pass of the event loop runs every callback queued so far."""
    await asyncio.sleep(0)


@pytest.fixture
async def logged_store(
    app_url: str, auth_url: str
) -> AsyncIterator[tuple[Store, list[str]]]:
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    async def setup(conn: Any) -> None:
        conn.add_query_logger(log)

    async with Store.open(
        app_url, auth_dsn=auth_url, min_size=1, max_size=1, setup=setup
    ) as store:
        yield store, statements


async def test_single_operation_unit_of_work_is_three_statements(
    logged_store: tuple[Store, list[str]],
) -> None:
    store, statements = logged_store
    user: User = await new_user(store)
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("round trips")
    await flushed_log()
    statements.clear()
    async with store.unit_of_work(user.id) as uow:
        await uow.projects.get(project.id)
    await flushed_log()
    assert len(statements) == 3, statements
    assert statements[0] == begin_as(user.id)
    # Only the repositories' statements ran: COMMIT alone.
    assert statements[-1] == "COMMIT"


async def test_a_unit_of_work_that_ran_a_query_resets_with_its_commit(
    logged_store: tuple[Store, list[str]],
) -> None:
    store, statements = logged_store
    user: User = await new_user(store)
    await flushed_log()
    statements.clear()
    async with store.unit_of_work(user.id) as uow:
        await uow.run(project_queries.project_exists, id=uuid.uuid4(), owner_id=user.id)
    await flushed_log()
    assert len(statements) == 3, statements
    # The session reset travels with the COMMIT: no round trip of its own.
    assert statements[-1] == COMMIT_AND_RESET


async def test_sync_is_three_statements_whatever_the_tree_size(
    logged_store: tuple[Store, list[str]],
) -> None:
    store, statements = logged_store
    user = await new_user(store)
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("sync round trips")
        # The first array parameters on a connection make asyncpg introspect
        # their types once; measure a later sync.
        await uow.files.sync(project.id, {"warm.txt": "up"})
    async with store.unit_of_work(user.id) as uow:
        await flushed_log()
        statements.clear()
        result = await uow.files.sync(
            project.id, {f"f/{i}.txt": str(i) for i in range(500)}
        )
        await flushed_log()
        # The project lock, the changed paths, the write.
        assert len(statements) == 3, statements
        statements.clear()
        await uow.files.sync(project.id, {"again.txt": "2"})
        await flushed_log()
        assert len(statements) == 2, statements  # the lock is held already
    assert (result.created, result.deleted) == (500, 1)


async def test_put_is_one_statement_when_unchanged_and_two_otherwise(
    logged_store: tuple[Store, list[str]],
) -> None:
    store, statements = logged_store
    user = await new_user(store)
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("put round trips")
    outcomes, counts = [], []
    for content in ("one", "two", "two"):  # created, updated, unchanged
        await flushed_log()
        statements.clear()
        async with store.unit_of_work(user.id) as uow:
            outcomes.append((await uow.files.put(project.id, "f.txt", content)).outcome)
        await flushed_log()
        counts.append(len(statements))
    assert outcomes == ["created", "updated", "unchanged"]
    # With begin and commit: the project lock (which reads the file too),
    # then the write; unchanged content is told by the first and ends there.
    assert counts == [4, 4, 3]
