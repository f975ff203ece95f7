"""File history: every write of a path is a version that `files.history`
lists newest first (across pages) and `files.get(version=N)` reads back
byte for byte; a delete, a move and a sync that drops a path mark the
version they removed; content is stored once per project, and never shared
between projects, let alone tenants."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, TypeAlias

import asyncpg
import pytest

from repositories import (
    FileVersion,
    InvalidInput,
    NotFound,
    Store,
    User,
)
from tests.persistence.helpers import (
    assert_indistinguishable,
    content_bytes,
    history_all,
    not_found_from,
    project_rows,
)
from tests.security.helpers import attempt
from tests.support import new_project, new_user

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"


def sha(content: str | bytes) -> str:
    return hashlib.sha256(content_bytes(content)).hexdigest()


def assert_version(
    found: FileVersion,
    project_id: uuid.UUID,
    path: str,
    version: int,
    content: str | bytes,
    *,
    deleted: bool = False,
) -> None:
    assert found.project_id == project_id
    assert found.path == path
    assert found.version == version
    assert found.kind == ("binary" if isinstance(content, bytes) else "text")
    assert found.size_bytes == len(content_bytes(content))
    assert found.sha256 == sha(content)
    assert (found.deleted_at is not None) == deleted, found


def newest_first(history: list[FileVersion]) -> None:
    versions = [v.version for v in history]
    assert versions == sorted(versions, reverse=True)
    assert len(set(versions)) == len(versions), "a version is listed twice"
    created = [v.created_at for v in history]
    assert created == sorted(created, reverse=True)


async def contents_rows(
    admin: Admin, project_id: uuid.UUID, content: str | bytes
) -> int:
    value = await admin.fetchval(
        "SELECT count(*) FROM file_contents WHERE project_id = $1 AND sha256 = $2",
        project_id,
        sha(content),
    )
    assert isinstance(value, int)
    return value


# ---------------------------------------------------------------------------
# history after each kind of write
# ---------------------------------------------------------------------------


async def test_every_write_is_a_version_listed_newest_first(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    contents: list[str | bytes] = ["one", b"\x00two", "three", b"", "", "six\n"]
    async with store.unit_of_work(user.id) as uow:
        for content in contents:
            await uow.files.put(project.id, "f", content)
        await uow.files.put(project.id, "f", "six\n")  # unchanged: no version
        history = await history_all(uow, project.id, "f")
    assert len(history) == len(contents)
    newest_first(history)
    for found, (version, content) in zip(
        history, reversed(list(enumerate(contents, start=1))), strict=True
    ):
        assert_version(found, project.id, "f", version, content)


async def test_get_reads_every_version_back_byte_exact(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    contents: list[str | bytes] = [
        "text",
        bytes(range(256)),
        "ünïcødé 😀",
        b"\xff\xfe",
        "",
        b"",
    ]
    async with store.unit_of_work(user.id) as uow:
        for content in contents:
            await uow.files.put(project.id, "f", content)
    async with store.unit_of_work(user.id) as uow:
        for version, content in enumerate(contents, start=1):
            read = await uow.files.get(project.id, "f", version=version)
            assert type(read.content) is type(content), version
            assert read.content == content, version
            assert read.version == version
            assert read.sha256 == sha(content)
            assert read.size_bytes == len(content_bytes(content))
            assert read.kind == ("binary" if isinstance(content, bytes) else "text")
        current = await uow.files.get(project.id, "f")
        latest = await uow.files.get(project.id, "f", version=len(contents))
    # The same file; its timestamps are the version's, which the spec leaves.
    same = ("path", "version", "kind", "size_bytes", "sha256", "content")
    assert [getattr(latest, name) for name in same] == [
        getattr(current, name) for name in same
    ]


async def test_a_delete_marks_the_version_it_removed(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", "1")
        await uow.files.put(project.id, "f", "2")
        await uow.files.delete(project.id, "f")
        history = await history_all(uow, project.id, "f")
        assert_version(history[0], project.id, "f", 2, "2", deleted=True)
        assert_version(history[1], project.id, "f", 1, "1")
        assert history[0].deleted_at is not None
        assert history[0].deleted_at >= history[0].created_at
        # Back again: a new version above the floor, the old marks kept.
        again = await uow.files.put(project.id, "f", "3")
        history = await history_all(uow, project.id, "f")
    assert [v.version for v in history] == [again.file.version, 2, 1]
    assert again.file.version > 2
    assert_version(history[0], project.id, "f", again.file.version, "3")
    assert_version(history[1], project.id, "f", 2, "2", deleted=True)
    assert_version(history[2], project.id, "f", 1, "1")


async def test_a_move_marks_the_old_path_and_adds_a_version_at_the_new(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "old", b"\x00data")
        await uow.files.put(project.id, "new", "was here")
        await uow.files.delete(project.id, "new")
        moved = await uow.files.move(project.id, "old", "new")
        old = await history_all(uow, project.id, "old")
        new = await history_all(uow, project.id, "new")
    assert [v.version for v in old] == [1]
    assert_version(old[0], project.id, "old", 1, b"\x00data", deleted=True)
    newest_first(new)
    assert [v.version for v in new] == [moved.version, 1]
    assert moved.version > 1
    assert_version(new[0], project.id, "new", moved.version, b"\x00data")
    assert_version(new[1], project.id, "new", 1, "was here", deleted=True)


async def test_a_sync_adds_versions_and_marks_the_paths_it_drops(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, {"keep": "k", "change": "1", "drop": "d"})
        await uow.files.sync(project.id, {"keep": "k", "change": b"2"})
        keep = await history_all(uow, project.id, "keep")
        change = await history_all(uow, project.id, "change")
        drop = await history_all(uow, project.id, "drop")
    assert len(keep) == 1
    assert_version(keep[0], project.id, "keep", 1, "k")
    assert len(change) == 2
    assert_version(change[0], project.id, "change", 2, b"2")
    assert_version(change[1], project.id, "change", 1, "1")
    assert len(drop) == 1
    assert_version(drop[0], project.id, "drop", 1, "d", deleted=True)


async def test_a_path_without_history_gives_an_empty_page(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "dir/f", "x")
        for path in ("nope", "dir", "dir/f/g", "DIR/F"):
            page = await uow.files.history(project.id, path)
            assert page.items == []
            assert page.next_cursor is None


async def test_history_pages_follow_their_cursors(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(7):
            await uow.files.put(project.id, "f", f"v{n}")
            await uow.files.put(project.id, "g", f"g{n}")
        whole = await uow.files.history(project.id, "f")
        assert whole.next_cursor is None
        for limit in (1, 2, 3, 7, 8):
            paged = await history_all(uow, project.id, "f", limit=limit)
            assert paged == whole.items, limit
        first = await uow.files.history(project.id, "f", limit=3)
        assert [v.version for v in first.items] == [7, 6, 5]
        assert first.next_cursor is not None
        second = await uow.files.history(
            project.id, "f", limit=3, cursor=first.next_cursor
        )
        assert [v.version for v in second.items] == [4, 3, 2]
    # A page read later, after more writes, still follows on where it was.
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", "later")
        third = await uow.files.history(
            project.id, "f", limit=3, cursor=second.next_cursor
        )
    assert [v.version for v in third.items] == [1]
    assert third.next_cursor is None


async def test_a_cursor_of_another_path_never_shows_that_paths_versions(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(3):
            await uow.files.put(project.id, "f", f"v{n}")
            await uow.files.put(project.id, "g", f"g{n}")
        cursor = (await uow.files.history(project.id, "f", limit=1)).next_cursor
        assert cursor is not None
        page = await attempt(
            uow.files.history(project.id, "g", limit=10, cursor=cursor)
        )
    if isinstance(page, InvalidInput):
        assert page.field == "cursor"
    else:
        assert {v.path for v in page.items} <= {"g"}


@pytest.mark.parametrize("limit", [0, -1, 1001, "2", None, True])
async def test_a_limit_out_of_range_is_refused(
    store: Store, user: User, limit: Any
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.files.history(project.id, "f", limit=limit)
    assert refused.value.field == "limit"


# ---------------------------------------------------------------------------
# versions that are not there
# ---------------------------------------------------------------------------


async def test_a_version_the_path_never_had_is_not_found(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", "1")
        await uow.files.put(project.id, "f", "2")
        for n in range(4):
            await uow.files.put(project.id, "g", str(n))
        for path, version in (("f", 3), ("f", 4), ("f", 2**62), ("never", 1)):
            with pytest.raises(NotFound):
                await uow.files.get(project.id, path, version=version)
        # The project goes on answering.
        assert (await uow.files.get(project.id, "f", version=1)).content == "1"


async def test_a_version_of_a_path_that_was_deleted_is_its_content_or_not_found(
    store: Store, user: User
) -> None:
    """The spec leaves a removed version's read open between its content and
    NotFound; whichever it is, it is never another content, and the versions
    before it read back."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", "1")
        await uow.files.put(project.id, "f", b"2")
        await uow.files.delete(project.id, "f")
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "f")
        assert (await uow.files.get(project.id, "f", version=1)).content == "1"
        try:
            removed = await uow.files.get(project.id, "f", version=2)
        except NotFound:
            pass
        else:
            assert (removed.content, removed.version) == (b"2", 2)


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True])
async def test_a_version_that_is_no_version_number_is_refused(
    store: Store, user: User, superuser: Admin, version: Any
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", "1")
    before = await project_rows(superuser, project.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises((InvalidInput, NotFound)) as refused:
            await uow.files.get(project.id, "f", version=version)
        if isinstance(refused.value, InvalidInput):
            assert refused.value.field == "version"
        else:  # 0 and -1 are numbers no version has: not found is as true
            assert version in (0, -1)
            assert not isinstance(version, bool)
    assert await project_rows(superuser, project.id) == before


async def test_history_of_a_missing_project_is_not_found(
    store: Store, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        missing = await not_found_from(uow.files.history(uuid.uuid4(), "f"))
        assert missing.resource == "project"


async def test_another_users_history_and_versions_are_not_found_like_missing_ones(
    store: Store, user: User, other_user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", "secret 1")
        await uow.files.put(project.id, "f", b"secret 2")
    before = await project_rows(superuser, project.id)
    random_id = uuid.uuid4()
    async with store.unit_of_work(other_user.id) as uow:
        pairs = [
            (uow.files.history(project.id, "f"), uow.files.history(random_id, "f")),
            (
                uow.files.get(project.id, "f", version=1),
                uow.files.get(random_id, "f", version=1),
            ),
            (
                uow.files.get(project.id, "f", version=2),
                uow.files.get(random_id, "f", version=2),
            ),
        ]
        for foreign_call, missing_call in pairs:
            foreign = await not_found_from(foreign_call)
            missing = await not_found_from(missing_call)
            assert_indistinguishable(foreign, project.id, missing, random_id)
    assert await project_rows(superuser, project.id) == before


# ---------------------------------------------------------------------------
# content stored once per project
# ---------------------------------------------------------------------------


async def test_the_same_content_is_stored_once_in_a_project(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    shared = b"\x00shared content\xff" * 100
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.bin", shared)
        await uow.files.put(project.id, "b.bin", shared)
        await uow.files.put(project.id, "c.bin", b"other")
        await uow.files.put(project.id, "c.bin", shared)  # a second version of c
        await uow.files.put(project.id, "c.bin", b"other")  # and back
        await uow.files.sync(project.id, {"d.bin": shared}, delete_missing=False)
        await uow.files.move(project.id, "d.bin", "e.bin")
    assert await contents_rows(superuser, project.id, shared) == 1
    assert await contents_rows(superuser, project.id, b"other") == 1
    total = await superuser.fetchval(
        "SELECT count(*) FROM file_contents WHERE project_id = $1", project.id
    )
    assert total == 2
    versions = await superuser.fetchval(
        "SELECT count(*) FROM file_versions WHERE project_id = $1", project.id
    )
    assert versions == 7  # a, b, c x3, d, e


async def test_the_same_content_in_two_projects_is_two_rows_never_shared(
    store: Store, user: User, superuser: Admin
) -> None:
    stranger = await new_user(store, "Stranger")
    mine = await new_project(store, user, "mine")
    also_mine = await new_project(store, user, "also mine")
    theirs = await new_project(store, stranger, "theirs")
    content = "the same text in three projects"
    for owner, project in ((user, mine), (user, also_mine), (stranger, theirs)):
        async with store.unit_of_work(owner.id) as uow:
            await uow.files.put(project.id, "same.txt", content)
    rows = await superuser.fetch(
        "SELECT project_id, owner_id FROM file_contents WHERE sha256 = $1",
        sha(content),
    )
    assert sorted((r["project_id"], r["owner_id"]) for r in rows) == sorted(
        [(mine.id, user.id), (also_mine.id, user.id), (theirs.id, stranger.id)]
    )
    # Deleting one project leaves the others' content where it was.
    async with store.unit_of_work(user.id) as uow:
        await uow.projects.delete(mine.id)
    assert await contents_rows(superuser, mine.id, content) == 0
    assert await contents_rows(superuser, theirs.id, content) == 1
    async with store.unit_of_work(stranger.id) as uow:
        assert (await uow.files.get(theirs.id, "same.txt")).content == content
        assert (
            await uow.files.get(theirs.id, "same.txt", version=1)
        ).content == content


async def test_deleting_a_project_removes_its_history(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", "1")
        await uow.files.put(project.id, "f", b"2")
        await uow.agent_states.save(project.id, {"n": 1})
        await uow.checkpoints.create(project.id, "before delete")
        await uow.projects.delete(project.id)
    rows = await project_rows(superuser, project.id)
    assert all(fingerprint.startswith("0:") for fingerprint in rows.values()), rows
