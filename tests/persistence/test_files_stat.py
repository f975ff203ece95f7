"""uow.files.stat: a file's metadata as get returns it, without the content,
with get's NotFound and InvalidInput."""

from __future__ import annotations

import uuid

import pytest

from repositories import FileEntry, InvalidInput, Store, User
from tests.persistence.helpers import assert_indistinguishable, not_found_from
from tests.support import new_project


async def test_stat_is_get_without_the_content(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "src/a.py", "print('é')\n")
        await uow.files.put(project.id, "src/a.py", "print('è')\n")  # version 2
        entry = await uow.files.stat(project.id, "src/a.py")
        file = await uow.files.get(project.id, "src/a.py")
        listed = (await uow.files.list(project.id)).items
    assert type(entry) is FileEntry
    assert entry == FileEntry(**file.model_dump(exclude={"content"}))
    assert (entry.version, entry.size_bytes) == (2, len("print('è')\n".encode()))
    assert listed == [entry]


async def test_stat_not_found_as_get(
    store: Store, user: User, other_user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "a")
        missing_file = await not_found_from(uow.files.stat(project.id, "b.txt"))
        missing_get = await not_found_from(uow.files.get(project.id, "b.txt"))
        missing_id = uuid.uuid4()
        missing = await not_found_from(uow.files.stat(missing_id, "a.txt"))
    assert missing_file.resource == missing_get.resource == "file"
    assert str(missing_file) == str(missing_get)
    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(uow.files.stat(project.id, "a.txt"))
    assert_indistinguishable(foreign, project.id, missing, missing_id)
    assert foreign.resource == "file"


async def test_stat_refuses_what_get_refuses(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for path in ("", "/abs", "a/../b", "a\\b", "a\x00b"):
            with pytest.raises(InvalidInput) as raised:
                await uow.files.stat(project.id, path)
            assert raised.value.field == "path"
        with pytest.raises(InvalidInput) as bad_id:
            await uow.files.stat(str(project.id), "a.txt")  # type: ignore[arg-type]
        assert bad_id.value.field == "project_id"
