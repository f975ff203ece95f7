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
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from repositories import InvalidInput, Store, User
from repositories._generated import agent_states as state_queries
from repositories._generated import checkpoints as checkpoint_queries
from repositories._generated import project_files as file_queries
from repositories._generated import retention as retention_queries
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


# Each query that is right only under the project lock held exclusively,
# with arguments for a project the caller owns. Listed by hand.
LOCKED: dict[str, tuple[Callable[..., Any], dict[str, object]]] = {
    "create_checkpoint": (checkpoint_queries.create_checkpoint, {"label": "x"}),
    "restore_files": (checkpoint_queries.restore_files, {"generation": 0}),
    "restore_agent_state": (checkpoint_queries.restore_agent_state, {"generation": 0}),
    "prune_checkpoints": (
        retention_queries.prune_checkpoints,
        {"keep_for": timedelta(0), "keep_checkpoints": 0},
    ),
    "prune_file_versions": (
        retention_queries.prune_file_versions,
        {"keep_versions": 0, "keep_for": timedelta(0)},
    ),
    "prune_agent_state_versions": (
        retention_queries.prune_agent_state_versions,
        {"keep_versions": 0, "keep_for": timedelta(0)},
    ),
    "reclaim_contents": (retention_queries.reclaim_contents, {}),
}


@pytest.mark.parametrize("name", sorted(LOCKED))
async def test_run_refuses_a_query_that_needs_the_project_lock(
    store: Store,
    user: User,
    admin: asyncpg.Connection[asyncpg.Record],
    name: str,
) -> None:
    """A checkpoint made by uow.run would not wait for the writers holding
    the project lock, and could miss a write committed after it; a restore
    or a prune likewise. uow.run refuses them before any SQL is sent."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "seed.txt", "seed")
        await uow.files.put(project.id, "seed.txt", "seed, again")
        await uow.checkpoints.create(project.id)
    before = await snapshot(admin)
    query, arguments = LOCKED[name]
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.run(query, project_id=project.id, owner_id=user.id, **arguments)
        assert (await uow.files.get(project.id, "seed.txt")).content == "seed, again"
    assert refused.value.field == name
    assert "project lock" in refused.value.reason
    assert await snapshot(admin) == before


def test_every_checkpoint_and_retention_write_is_listed() -> None:
    """Every query of retention.sql, and those of checkpoints.sql that
    change a project, are refused; reading and deleting a checkpoint are
    not (they need no lock)."""
    found = {
        name
        for module in (checkpoint_queries, retention_queries)
        for name, function in vars(module).items()
        if inspect.iscoroutinefunction(function)
        and not name.startswith(("get_", "list_", "diff_", "delete_checkpoint"))
    }
    assert found == set(LOCKED)
