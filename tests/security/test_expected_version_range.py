"""A version is a PostgreSQL bigint: an `expected_version` outside it can
match no row, and is refused as InvalidInput before any SQL, by every
method that takes one. The largest bigint is a version like any other: it
is compared, and does not match.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from repositories import Conflict, InvalidInput, Project, Store, UnitOfWork, User
from tests.support import new_project

from .helpers import BIGINT_MAX, snapshot

OUT_OF_RANGE = [BIGINT_MAX + 1, 10**30, -(2**63) - 1, -1]

Write = Callable[[UnitOfWork, Project, int], Awaitable[object]]

WRITES: dict[str, Write] = {
    "files.put": lambda uow, project, version: uow.files.put(
        project.id, "a.txt", "new", expected_version=version
    ),
    "files.delete": lambda uow, project, version: uow.files.delete(
        project.id, "a.txt", expected_version=version
    ),
    "agent_states.save": lambda uow, project, version: uow.agent_states.save(
        project.id, {"new": True}, expected_version=version
    ),
}


@pytest.mark.parametrize("method", sorted(WRITES))
async def test_a_version_outside_bigint_is_invalid_input(
    store: Store,
    user: User,
    admin: asyncpg.Connection[asyncpg.Record],
    method: str,
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "old")
        await uow.agent_states.save(project.id, {"old": True})
    before = await snapshot(admin)
    write = WRITES[method]
    async with store.unit_of_work(user.id) as uow:
        for version in OUT_OF_RANGE:
            with pytest.raises(InvalidInput) as raised:
                await write(uow, project, version)
            assert raised.value.field == "expected_version", version
            assert str(BIGINT_MAX) in raised.value.reason
        # The largest bigint is compared like any version.
        with pytest.raises(Conflict) as conflict:
            await write(uow, project, BIGINT_MAX)
        assert conflict.value.current_version == 1
        # The unit of work goes on.
        assert (await uow.files.get(project.id, "a.txt")).content == "old"
    assert await snapshot(admin) == before
