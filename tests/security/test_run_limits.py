"""`uow.run` cannot carry past the repositories' limits.

A route author once stored a 64 MiB file with `uow.run(put_file, …)` (the
API refuses over 5 MiB) and took the server from 216 to 1,050 MiB with a
256 MiB `uow.run(sync_files, …)`. The generated queries that write a
file's content or an agent state are run only by `uow.files` and
`uow.agent_states`, which check their limits first: `uow.run` refuses them
with InvalidInput, before any SQL is sent, and nothing is written.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from repositories import InvalidInput, Store, User
from repositories._generated import agent_states as state_queries
from repositories._generated import project_files as file_queries
from tests.support import new_project

from .helpers import snapshot

# One byte over the API's default max_content_bytes (5 MiB); one string
# shared by every argument that takes content.
OVER = "x" * (5 * 1024 * 1024 + 1)
OVER_SHA = hashlib.sha256(OVER.encode()).hexdigest()

# Each query that writes content or a state, with arguments for a project
# the caller owns. Listed by hand, not by the rule the code applies.
WRITES: dict[str, tuple[Callable[..., Any], dict[str, object]]] = {
    "put_file": (
        file_queries.put_file,
        {
            "path": "big.txt",
            "content": OVER,
            "size_bytes": len(OVER),
            "sha256": OVER_SHA,
        },
    ),
    "create_file": (
        file_queries.create_file,
        {
            "path": "big.txt",
            "content": OVER,
            "size_bytes": len(OVER),
            "sha256": OVER_SHA,
        },
    ),
    "update_file_at_version": (
        file_queries.update_file_at_version,
        {
            "path": "seed.txt",
            "content": OVER,
            "size_bytes": len(OVER),
            "sha256": OVER_SHA,
            "expected_version": 1,
        },
    ),
    "sync_files": (
        file_queries.sync_files,
        {
            "paths": ["big.txt"],
            "contents": [OVER],
            "sizes": [len(OVER)],
            "hashes": [OVER_SHA],
            "delete_missing": False,
            "keep_paths": [],
        },
    ),
    "upsert_agent_state": (
        state_queries.upsert_agent_state,
        {"state": '{"a": 1}'},
    ),
    "create_agent_state": (
        state_queries.create_agent_state,
        {"state": '{"a": 1}'},
    ),
    "swap_agent_state": (
        state_queries.swap_agent_state,
        {"state": '{"a": 1}', "expected_version": 1},
    ),
}


@pytest.mark.parametrize("name", sorted(WRITES))
async def test_run_refuses_a_query_that_writes_content_or_state(
    store: Store,
    user: User,
    admin: asyncpg.Connection[asyncpg.Record],
    name: str,
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "seed.txt", "seed")
    before = await snapshot(admin)
    query, arguments = WRITES[name]
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.run(query, project_id=project.id, owner_id=user.id, **arguments)
        # Nothing was sent: the unit of work goes on, and commits.
        assert (await uow.files.get(project.id, "seed.txt")).content == "seed"
    assert refused.value.field == name
    assert "uow.files" in refused.value.reason
    assert "uow.agent_states" in refused.value.reason
    assert await snapshot(admin) == before


def test_every_generated_query_taking_content_or_state_is_listed() -> None:
    """A query added later that takes content or a state is probed too."""
    taking = {
        name
        for module in (file_queries, state_queries)
        for name, function in vars(module).items()
        if inspect.iscoroutinefunction(function)
        and {"content", "contents", "state"}
        & set(inspect.signature(function).parameters)
    }
    assert taking == set(WRITES)
