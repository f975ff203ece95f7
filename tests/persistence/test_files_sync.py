"""uow.files.sync on a real PostgreSQL: it makes a project's tree equal to a
mapping, counts what it did exactly, keeps extra files on request, scales to
thousands of files, and is all-or-nothing."""

from __future__ import annotations

import asyncio
import uuid
from types import MappingProxyType

import pytest

from repositories import (
    InvalidInput,
    NotFound,
    Store,
    SyncResult,
    User,
)
from tests.persistence.helpers import byte_order, list_all, snapshot
from tests.support import new_project, sha256_hex

DEFAULT_LIMIT = 5 * 1024 * 1024


def counts(result: SyncResult) -> dict[str, int]:
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "deleted": result.deleted,
    }


async def sync(
    store: Store,
    user: User,
    project_id: uuid.UUID,
    files: dict[str, str],
    *,
    delete_missing: bool = True,
) -> SyncResult:
    async with store.unit_of_work(user.id) as uow:
        return await uow.files.sync(project_id, files, delete_missing=delete_missing)


async def tree(
    store: Store, user: User, project_id: uuid.UUID
) -> dict[str, str | bytes]:
    return {p: f.content for p, f in (await snapshot(store, user, project_id)).items()}


async def test_sync_into_empty_project_creates_every_file(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    files = {
        "README.md": "# hi\n",
        "src/a.py": "a = 1\n",
        "src/b/c.py": "",
        "é/😀": "ü",
    }
    result = await sync(store, user, project.id, files)
    assert counts(result) == {"created": 4, "updated": 0, "unchanged": 0, "deleted": 0}
    stored = await snapshot(store, user, project.id)
    assert list(stored) == byte_order(list(files))
    for path, content in files.items():
        file = stored[path]
        assert file.content == content
        assert file.version == 1
        assert file.size_bytes == len(content.encode())
        assert file.sha256 == sha256_hex(content)


async def test_resync_counts_changed_unchanged_new_and_removed(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"keep": "k", "change": "c1", "remove": "r"})
    before = await snapshot(store, user, project.id)
    await asyncio.sleep(0.01)

    result = await sync(
        store, user, project.id, {"keep": "k", "change": "c2", "new": "n"}
    )
    assert counts(result) == {"created": 1, "updated": 1, "unchanged": 1, "deleted": 1}

    after = await snapshot(store, user, project.id)
    assert {p: f.content for p, f in after.items()} == {
        "change": "c2",
        "keep": "k",
        "new": "n",
    }
    assert after["keep"] == before["keep"]  # not rewritten: version, updated_at kept
    assert after["change"].version == 2
    assert after["change"].created_at == before["change"].created_at
    assert after["change"].updated_at > before["change"].updated_at
    assert after["change"].sha256 == sha256_hex("c2")
    assert after["new"].version == 1


async def test_identical_resync_changes_nothing(store: Store, user: User) -> None:
    project = await new_project(store, user)
    files = {"a": "1", "b/c": "2", "d": ""}
    await sync(store, user, project.id, files)
    before = await snapshot(store, user, project.id)
    result = await sync(store, user, project.id, files)
    assert counts(result) == {"created": 0, "updated": 0, "unchanged": 3, "deleted": 0}
    assert await snapshot(store, user, project.id) == before


async def test_delete_missing_false_keeps_other_files(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"a": "1", "b": "2", "dir/c": "3"})
    before = await snapshot(store, user, project.id)
    result = await sync(
        store, user, project.id, {"a": "1*", "new": "n"}, delete_missing=False
    )
    assert counts(result) == {"created": 1, "updated": 1, "unchanged": 0, "deleted": 0}
    after = await snapshot(store, user, project.id)
    assert {p: f.content for p, f in after.items()} == {
        "a": "1*",
        "b": "2",
        "dir/c": "3",
        "new": "n",
    }
    assert after["b"] == before["b"]
    assert after["dir/c"] == before["dir/c"]


async def test_empty_mapping_deletes_everything(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"a": "1", "b": "2", "c/d/e": "3"})

    kept = await sync(store, user, project.id, {}, delete_missing=False)
    assert counts(kept) == {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    assert await tree(store, user, project.id) == {"a": "1", "b": "2", "c/d/e": "3"}

    result = await sync(store, user, project.id, {})
    assert counts(result) == {"created": 0, "updated": 0, "unchanged": 0, "deleted": 3}
    async with store.unit_of_work(user.id) as uow:
        page = await uow.files.list(project.id)
    assert page.items == []
    assert page.next_cursor is None

    again = await sync(store, user, project.id, {})
    assert counts(again) == {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}


async def test_sync_accepts_any_mapping(store: Store, user: User) -> None:
    project = await new_project(store, user)
    files = MappingProxyType({"x/y": "z"})
    async with store.unit_of_work(user.id) as uow:
        result = await uow.files.sync(project.id, files)
    assert counts(result) == {"created": 1, "updated": 0, "unchanged": 0, "deleted": 0}
    assert await tree(store, user, project.id) == {"x/y": "z"}


async def test_sync_does_not_touch_other_projects(store: Store, user: User) -> None:
    first = await new_project(store, user, "first")
    second = await new_project(store, user, "second")
    await sync(store, user, first.id, {"a": "1", "b": "2"})
    await sync(store, user, second.id, {"a": "x", "c": "3"})
    before = await snapshot(store, user, second.id)
    result = await sync(store, user, first.id, {})
    assert result.deleted == 2
    assert await snapshot(store, user, second.id) == before


async def test_sync_of_2000_files_and_listing_pages_through_all(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    files = {
        f"dir{i % 7}/sub{i % 3}/file{i:04d}.txt": f"content {i}\n" for i in range(2000)
    }
    result = await sync(store, user, project.id, files)
    assert counts(result) == {
        "created": 2000,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }

    expected = byte_order(list(files))
    async with store.unit_of_work(user.id) as uow:
        for limit in (1000, 100, 333):
            entries = await list_all(uow, project.id, limit=limit)
            assert [e.path for e in entries] == expected
        by_default: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await uow.files.list(project.id, cursor=cursor)
            pages += 1
            assert len(page.items) <= 100
            by_default.extend(e.path for e in page.items)
            cursor = page.next_cursor
            if cursor is None or pages > 100:
                break
        assert by_default == expected
        for entry in entries:
            assert entry.sha256 == sha256_hex(files[entry.path])
        assert (await uow.files.get(project.id, "dir4/sub1/file1999.txt")).content == (
            "content 1999\n"
        )

    # half changed, a quarter dropped, 10 new
    second: dict[str, str] = {}
    for i in range(1500):
        path = f"dir{i % 7}/sub{i % 3}/file{i:04d}.txt"
        second[path] = f"content {i}\n" if i % 2 == 0 else f"changed {i}\n"
    for i in range(10):
        second[f"new/{i}.txt"] = "new"
    result = await sync(store, user, project.id, second)
    assert counts(result) == {
        "created": 10,
        "updated": 750,
        "unchanged": 750,
        "deleted": 500,
    }
    async with store.unit_of_work(user.id) as uow:
        entries = await list_all(uow, project.id)
    assert [e.path for e in entries] == byte_order(list(second))
    assert {e.path: e.sha256 for e in entries} == {
        p: sha256_hex(c) for p, c in second.items()
    }


BAD_PATHS = ["a//b", "/abs", "../up", "a/./b", "a\\b", "bad\x00", "tab\there", "a/"]


@pytest.mark.parametrize("bad_path", BAD_PATHS)
async def test_invalid_path_in_the_middle_leaves_the_tree_intact(
    store: Store, user: User, bad_path: str
) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"a": "1", "b": "2", "c/d": "3"})
    before = await snapshot(store, user, project.id)

    files = {"a": "changed", "new1": "n1"}
    files[bad_path] = "x"
    files.update({"new2": "n2", "zzz": "z"})  # valid ones after the bad one too
    for delete_missing in (True, False):
        async with store.unit_of_work(user.id) as uow:
            with pytest.raises(InvalidInput):
                await uow.files.sync(project.id, files, delete_missing=delete_missing)
        assert await snapshot(store, user, project.id) == before


@pytest.mark.parametrize(
    "bad_content",
    ["nul\x00inside", "\udc80lone surrogate", "x" * (DEFAULT_LIMIT + 1)],
    ids=["nul", "surrogate", "over-limit"],
)
async def test_invalid_content_in_the_middle_leaves_the_tree_intact(
    store: Store, user: User, bad_content: str
) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"a": "1", "b": "2", "c/d": "3"})
    before = await snapshot(store, user, project.id)
    files = {"a": "changed", "new1": "n1", "b": bad_content, "new2": "n2"}
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as excinfo:
            await uow.files.sync(project.id, files)
    assert excinfo.value.field in {"content", "files"}
    assert await snapshot(store, user, project.id) == before


async def test_unit_of_work_goes_on_after_a_rejected_sync(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"a": "1"})
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.files.sync(project.id, {"ok": "x", "a//b": "y"})
        with pytest.raises(NotFound):
            await uow.files.sync(uuid.uuid4(), {"ok": "x"})
        result = await uow.files.sync(project.id, {"b": "2"})
    assert counts(result) == {"created": 1, "updated": 0, "unchanged": 0, "deleted": 1}
    assert await tree(store, user, project.id) == {"b": "2"}


async def test_sync_rolls_back_with_its_unit_of_work(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"a": "1", "b": "2"})
    before = await snapshot(store, user, project.id)

    async def sync_then_fail() -> None:
        async with store.unit_of_work(user.id) as uow:
            result = await uow.files.sync(project.id, {"c": "3"})
            assert result.deleted == 2
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await sync_then_fail()
    assert await snapshot(store, user, project.id) == before


async def test_concurrent_identical_syncs_leave_one_row_per_path(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    files = {f"f{i:02d}": f"content {i}" for i in range(20)}

    async def run() -> SyncResult:
        async with store.unit_of_work(user.id) as uow:
            return await uow.files.sync(project.id, files)

    results = await asyncio.gather(*(run() for _ in range(4)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    done = [r for r in results if isinstance(r, SyncResult)]
    assert sum(r.created for r in done) == len(files)
    assert all(r.updated == 0 and r.deleted == 0 for r in done)
    stored = await snapshot(store, user, project.id)
    assert {p: f.content for p, f in stored.items()} == files
    assert all(f.version == 1 for f in stored.values())


async def test_sync_on_foreign_or_missing_project_is_not_found(
    store: Store, user: User, other_user: User
) -> None:
    project = await new_project(store, user)
    await sync(store, user, project.id, {"a": "1", "b/c": "2"})
    before = await snapshot(store, user, project.id)
    for files, delete_missing in (
        ({"evil": "x"}, True),
        ({}, True),
        ({"a": "evil"}, False),
    ):
        async with store.unit_of_work(other_user.id) as uow:
            with pytest.raises(NotFound) as foreign:
                await uow.files.sync(project.id, files, delete_missing=delete_missing)
        async with store.unit_of_work(other_user.id) as uow:
            with pytest.raises(NotFound) as missing:
                await uow.files.sync(uuid.uuid4(), files, delete_missing=delete_missing)
        assert type(foreign.value) is type(missing.value)
        assert foreign.value.resource == missing.value.resource
        assert str(foreign.value) == str(missing.value)
    assert await snapshot(store, user, project.id) == before
