"""One `files.sync` cannot make the server hold an unbounded tree.

A sync sends its whole tree in one statement, and the backend holds a few
times the payload while it runs; a tree of a GiB once took the backend to
3.9 GiB. The Store bounds a tree's file count (`max_sync_files`) and its
total size (`max_sync_bytes`, bytes of UTF-8 of every path and content): a tree over either is
InvalidInput naming the limit, raised before any SQL, and nothing changes.

No test allocates a large tree: the limits are small here, and the default
limits are reached with tiny files, or with one string many paths share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping

import asyncpg
import pytest

from repositories import InvalidInput, Project, Store, User
from tests.support import new_project

from .helpers import SYNC_MAX_BYTES, SYNC_MAX_FILES, snapshot

SMALL_FILES = 3
SMALL_BYTES = 10
# Within the small limits, its path counted: 5 bytes.
SEED = {"k": "seed"}


@pytest.fixture(scope="module")
async def bounded_store(app_url: str) -> AsyncIterator[Store]:
    async with Store.open(
        app_url, max_sync_files=SMALL_FILES, max_sync_bytes=SMALL_BYTES
    ) as opened:
        yield opened


async def seeded(store: Store, user: User) -> Project:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, SEED)
    return project


async def refused(
    store: Store,
    user: User,
    project: Project,
    admin: asyncpg.Connection[asyncpg.Record],
    files: Mapping[str, str],
) -> InvalidInput:
    """The InvalidInput a sync of `files` raises; nothing changed, and the
    unit of work goes on."""
    before = await snapshot(admin)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as raised:
            await uow.files.sync(project.id, files)
        assert (await uow.files.get(project.id, "k")).content == "seed"
    assert await snapshot(admin) == before
    return raised.value


async def test_a_tree_over_the_file_count_is_refused(
    bounded_store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    project = await seeded(bounded_store, user)
    files = {f"f{i}": "" for i in range(SMALL_FILES + 1)}
    error = await refused(bounded_store, user, project, admin, files)
    assert error.field == "max_sync_files"
    assert f"at most {SMALL_FILES} files" in error.reason
    assert f"{SMALL_FILES + 1} given" in error.reason

    async with bounded_store.unit_of_work(user.id) as uow:
        result = await uow.files.sync(
            project.id, {f"f{i}": "" for i in range(SMALL_FILES)}
        )
    assert result.created == SMALL_FILES


async def test_a_tree_over_the_total_size_is_refused(
    bounded_store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    project = await seeded(bounded_store, user)
    # Bytes of UTF-8, not characters: "é" is two; the paths count too.
    files = {"a": "1234", "b": "123é"}
    assert sum(len(p) + len(c) for p, c in files.items()) == SMALL_BYTES
    error = await refused(bounded_store, user, project, admin, files)
    assert error.field == "max_sync_bytes"
    assert f"at most {SMALL_BYTES} bytes" in error.reason
    assert f"{SMALL_BYTES + 1} given" in error.reason

    async with bounded_store.unit_of_work(user.id) as uow:
        result = await uow.files.sync(project.id, {"a": "1234", "b": "1234"})
    assert result.created == 2


async def test_the_size_limit_counts_path_bytes(
    bounded_store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Paths travel in the statement as content does: a tree of empty files
    with long paths is over the limit."""
    project = await seeded(bounded_store, user)
    error = await refused(
        bounded_store, user, project, admin, {"é" * 5 + "x": "", "y": ""}
    )
    assert error.field == "max_sync_bytes"
    assert f"{SMALL_BYTES + 2} given" in error.reason

    async with bounded_store.unit_of_work(user.id) as uow:
        result = await uow.files.sync(project.id, {"é" * 5: ""})
    assert result.created == 1


async def test_the_size_limit_counts_every_file_of_the_tree(
    bounded_store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The message gives the whole tree's size, not where counting stopped."""
    project = await seeded(bounded_store, user)
    files = {"a": "x" * SMALL_BYTES, "b": "x" * 7, "c": "é"}
    error = await refused(bounded_store, user, project, admin, files)
    assert error.field == "max_sync_bytes"
    assert f"{3 + SMALL_BYTES + 7 + 2} given" in error.reason


async def test_the_default_file_count_refuses_one_file_more(
    store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    project = await seeded(store, user)
    over = {f"d/{i:05d}": "" for i in range(SYNC_MAX_FILES + 1)}
    error = await refused(store, user, project, admin, over)
    assert error.field == "max_sync_files"
    assert f"at most {SYNC_MAX_FILES} files" in error.reason


async def test_the_default_size_refuses_one_byte_more(
    store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Paths share one 1 MiB string: the tree is large, the test's memory
    is not. The paths' bytes count with the content's."""
    project = await seeded(store, user)
    mib = "x" * (1024 * 1024)
    over = {f"big/{i}": mib for i in range(SYNC_MAX_BYTES // len(mib) - 1)}
    used = sum(len(path) + len(content) for path, content in over.items())
    over["big/rest"] = "x" * (SYNC_MAX_BYTES - used - len("big/rest") + 1)
    error = await refused(store, user, project, admin, over)
    assert error.field == "max_sync_bytes"
    assert f"at most {SYNC_MAX_BYTES} bytes" in error.reason
    assert f"{SYNC_MAX_BYTES + 1} given" in error.reason


async def test_the_default_size_counts_ten_thousand_long_paths(
    store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The review's tree: 10,000 files with 1 KiB paths, here with 23 MiB of
    content beside them, is over 32 MiB only once its paths are counted."""
    project = await seeded(store, user)
    long_paths = SYNC_MAX_FILES - 5
    over = {f"{i:05d}".ljust(1024, "p"): "" for i in range(long_paths)}
    rest = SYNC_MAX_BYTES + 1 - long_paths * 1024 - 5 * len("c0")
    share, last = divmod(rest, 5)
    for i in range(5):
        over[f"c{i}"] = "x" * (share + (last if i == 4 else 0))
    assert sum(len(content) for content in over.values()) < SYNC_MAX_BYTES
    error = await refused(store, user, project, admin, over)
    assert error.field == "max_sync_bytes"
    assert f"{SYNC_MAX_BYTES + 1} given" in error.reason


class Understated(Mapping[str, str]):
    """A mapping whose len() says one entry, whatever it holds."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = entries

    def __getitem__(self, key: str) -> str:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return 1


async def test_the_file_count_is_the_trees_not_what_len_says(
    bounded_store: Store, user: User, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    project = await seeded(bounded_store, user)
    files = Understated({f"f{i}": "" for i in range(SMALL_FILES + 1)})
    error = await refused(bounded_store, user, project, admin, files)
    assert error.field == "max_sync_files"
    assert f"at most {SMALL_FILES} files" in error.reason


@pytest.mark.parametrize("option", ["max_sync_files", "max_sync_bytes"])
@pytest.mark.parametrize("value", ["10", 1.5, True, None, 0, -1])
def test_store_open_refuses_a_limit_that_is_not_a_positive_int(
    app_url: str, option: str, value: object
) -> None:
    with pytest.raises(InvalidInput) as raised:
        Store.open(app_url, **{option: value})  # type: ignore[arg-type]
    assert raised.value.field == option
