"""Values written around the API.

1. A stored value the repositories cannot decode (raw SQL as the tables'
   owner wrote it: an agent state nested 5,000 deep, a number of 5,000
   digits, a timestamp before year 1) raises `Unreadable`, a
   RepositoryError naming the resource, never a raw Python exception; the
   unit of work goes on.
2. A `str` subclass whose methods lie is validated, measured and hashed as
   the text it holds, which is what the database stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import asyncpg
import pytest

from repositories import (
    Conflict,
    InvalidInput,
    Project,
    Store,
    UnitOfWork,
    Unreadable,
    User,
)
from tests.support import new_project

Owner: TypeAlias = "asyncpg.Connection[asyncpg.Record]"

DEEP = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
LONG_NUMBER = '{"a": ' + "9" * 5000 + "}"
BEFORE_YEAR_ONE = "0044-03-15 12:00:00+00 BC"


async def readable_project(store: Store, user: User) -> Project:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "a")
        await uow.agent_states.save(project.id, {"ok": True})
    return project


async def unreadable(
    store: Store,
    user: User,
    call: Callable[[UnitOfWork], Awaitable[object]],
    resource: str,
) -> Unreadable:
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Unreadable) as raised:
            await call(uow)
        # The unit of work goes on.
        assert (await uow.projects.create("after")).name == "after"
    assert raised.value.resource == resource
    assert str(raised.value).startswith(f"{resource} unreadable: ")
    return raised.value


@pytest.mark.parametrize("stored", [DEEP, LONG_NUMBER], ids=["deep", "long-number"])
async def test_an_agent_state_that_cannot_be_decoded_is_unreadable(
    store: Store, user: User, superuser: Owner, stored: str
) -> None:
    project = await readable_project(store, user)
    await superuser.execute(
        "UPDATE agent_states SET state = $2::text::jsonb WHERE project_id = $1",
        project.id,
        stored,
    )
    await unreadable(
        store, user, lambda uow: uow.agent_states.get(project.id), "agent state"
    )
    # A compare-and-swap that loses is a Conflict still, and a save
    # replaces the state.
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Conflict) as conflict:
            await uow.agent_states.save(project.id, {"ok": 2}, expected_version=9)
        assert conflict.value.current_version == 1
        saved = await uow.agent_states.save(project.id, {"ok": 2})
        assert (saved.state, saved.version) == ({"ok": 2}, 2)


async def test_a_file_that_cannot_be_decoded_is_unreadable(
    store: Store, user: User, superuser: Owner
) -> None:
    project = await readable_project(store, user)
    await superuser.execute(
        "UPDATE project_files SET created_at = $2::text::timestamptz"
        " WHERE project_id = $1",
        project.id,
        BEFORE_YEAR_ONE,
    )
    calls: list[Callable[[UnitOfWork], Awaitable[object]]] = [
        lambda uow: uow.files.get(project.id, "a.txt"),
        lambda uow: uow.files.list(project.id),
    ]
    for call in calls:
        await unreadable(store, user, call, "file")


async def test_a_project_that_cannot_be_decoded_is_unreadable(
    store: Store, user: User, superuser: Owner
) -> None:
    project = await readable_project(store, user)
    await superuser.execute(
        "UPDATE projects SET updated_at = $2::text::timestamptz WHERE id = $1",
        project.id,
        BEFORE_YEAR_ONE,
    )
    await unreadable(store, user, lambda uow: uow.projects.get(project.id), "project")


class LyingEncode(str):
    """Says its UTF-8 is other bytes than the text it holds."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"not the content"


class LyingPath(str):
    """Says it is one harmless segment, whatever it holds."""

    def split(self, sep: Any = None, maxsplit: Any = -1) -> list[str]:
        return ["harmless"]

    def startswith(self, *args: Any) -> bool:
        return False

    def __contains__(self, key: object) -> bool:
        return False


async def test_content_is_hashed_as_the_text_it_holds(
    store: Store, user: User, superuser: Owner
) -> None:
    project = await new_project(store, user)
    text = "héllo\n"
    data = text.encode()
    async with store.unit_of_work(user.id) as uow:
        put = await uow.files.put(project.id, "put.txt", LyingEncode(text))
        await uow.files.sync(
            project.id,
            {"put.txt": text, "synced.txt": LyingEncode(text)},
            delete_missing=False,
        )
    assert put.file.sha256 == hashlib.sha256(data).hexdigest()
    assert put.file.size_bytes == len(data)
    # The bytes stored (under the hash of what they are) are the text's UTF-8.
    rows = await superuser.fetch(
        "SELECT f.path, f.kind, c.content, f.size_bytes, f.sha256"
        " FROM project_files f JOIN file_contents c"
        " ON c.project_id = f.project_id AND c.sha256 = f.sha256"
        " WHERE f.project_id = $1 ORDER BY f.path",
        project.id,
    )
    assert [tuple(row) for row in rows] == [
        (path, "text", data, len(data), hashlib.sha256(data).hexdigest())
        for path in ("put.txt", "synced.txt")
    ]


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a//b", "a\\b"])
async def test_a_path_is_checked_as_the_text_it_holds(
    store: Store, user: User, path: str
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as raised:
            await uow.files.put(project.id, LyingPath(path), "x")
        assert raised.value.field == "path"
        with pytest.raises(InvalidInput) as raised:
            await uow.files.sync(project.id, {LyingPath(path): "x"})
        assert raised.value.field == "path"
        assert (await uow.files.list(project.id)).items == []
