"""uow.files on a real PostgreSQL: put/get round trips, write outcomes and
optimistic versions, byte-wise listing with keyset pagination and literal
prefixes, move, delete, one row per path under concurrent writers, and
tenancy (another user's project is indistinguishable from a missing one)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from repositories import (
    Conflict,
    FileEntry,
    FileWrite,
    InvalidInput,
    NotFound,
    ProjectFile,
    Store,
    UnitOfWork,
    User,
)
from tests.persistence.helpers import byte_order, list_all, snapshot
from tests.support import new_project, sha256_hex

DEFAULT_LIMIT = 5 * 1024 * 1024
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


async def put_files(
    store: Store, user: User, project_id: uuid.UUID, files: dict[str, str]
) -> None:
    async with store.unit_of_work(user.id) as uow:
        for path, content in files.items():
            await uow.files.put(project_id, path, content)


def assert_file(
    file: ProjectFile, project_id: uuid.UUID, path: str, content: str
) -> None:
    assert file.project_id == project_id
    assert file.path == path
    assert file.content == content
    assert file.size_bytes == len(content.encode("utf-8"))
    assert file.sha256 == sha256_hex(content)


# ---------------------------------------------------------------------------
# put / get round trips
# ---------------------------------------------------------------------------


async def test_put_then_get_round_trips_content_and_metadata(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        written = await uow.files.put(project.id, "src/main.py", "print('hi')\n")
    assert written.outcome == "created"
    assert written.file.version == 1
    assert_file(written.file, project.id, "src/main.py", "print('hi')\n")

    async with store.unit_of_work(user.id) as uow:
        read = await uow.files.get(project.id, "src/main.py")
    assert read == written.file


async def test_empty_content_round_trips(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        written = await uow.files.put(project.id, "empty.txt", "")
    assert written.outcome == "created"
    assert written.file.size_bytes == 0
    assert written.file.sha256 == EMPTY_SHA256
    async with store.unit_of_work(user.id) as uow:
        read = await uow.files.get(project.id, "empty.txt")
        again = await uow.files.put(project.id, "empty.txt", "")
    assert read.content == ""
    assert read.size_bytes == 0
    assert read.sha256 == EMPTY_SHA256
    assert again.outcome == "unchanged"
    assert again.file.version == 1


async def test_unicode_paths_and_content_round_trip_exactly(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    files = {
        "ünïcødé/文件.txt": "Grüße, 世界! 😀 e\u0301 \u2028 end",
        "emoji/😀/🚀.md": "# 🚀\n\n- ✓ done\n",
        "a b/c d": "spaces in path",
        "mixed/line endings.txt": "one\r\ntwo\rthree\n\tfour\x1b[0m\x7f\x01",
    }
    await put_files(store, user, project.id, files)
    async with store.unit_of_work(user.id) as uow:
        for path, content in files.items():
            assert_file(
                await uow.files.get(project.id, path), project.id, path, content
            )
        listed = [e.path for e in await list_all(uow, project.id)]
    assert listed == byte_order(list(files))


async def test_valid_unusual_paths_are_stored_exactly_as_given(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    paths = [
        ".env",
        "a/.../b",
        "..a/b..",
        "...",
        ".a/.b/.c",
        " leading space",
        "trailing space ",
        "nb\u00a0sp",
        "%",
        "_",
        "*?[]{}!$#&'\"`;:|<>=+,@^~",
        "-dash",
        "\u00e9",  # precomposed é
        "e\u0301",  # e + combining acute: a different path, not normalised
        "CASE",
        "case",
    ]
    files = {path: f"content of {path!r}" for path in paths}
    await put_files(store, user, project.id, files)
    stored = await snapshot(store, user, project.id)
    assert list(stored) == byte_order(paths)
    for path, content in files.items():
        assert_file(stored[path], project.id, path, content)


async def test_deeply_nested_path_of_100_segments(store: Store, user: User) -> None:
    project = await new_project(store, user)
    path = "/".join(f"seg{i:03d}" for i in range(99)) + "/leaf.txt"
    assert path.count("/") == 99
    assert len(path.encode()) <= 1024
    async with store.unit_of_work(user.id) as uow:
        written = await uow.files.put(project.id, path, "deep")
    assert written.outcome == "created"
    async with store.unit_of_work(user.id) as uow:
        assert_file(await uow.files.get(project.id, path), project.id, path, "deep")
        under = await list_all(uow, project.id, prefix="seg000/seg001/")
    assert [e.path for e in under] == [path]


async def test_path_of_exactly_1024_bytes_is_accepted(store: Store, user: User) -> None:
    project = await new_project(store, user)
    ascii_path = ("x" * 99 + "/") * 10 + "y" * 24
    multibyte_path = "é" * 512  # 512 characters, 1024 bytes
    assert len(ascii_path.encode()) == 1024
    assert len(multibyte_path.encode()) == 1024
    await put_files(store, user, project.id, {ascii_path: "a", multibyte_path: "b"})
    stored = await snapshot(store, user, project.id)
    assert set(stored) == {ascii_path, multibyte_path}
    assert stored[ascii_path].content == "a"
    assert stored[multibyte_path].content == "b"


async def test_content_of_exactly_5_mib_is_accepted(store: Store, user: User) -> None:
    project = await new_project(store, user)
    ascii_content = "a" * (DEFAULT_LIMIT - 10) + "0123456789"
    multibyte_content = "é" * (DEFAULT_LIMIT // 2)  # 2.5 Mi characters, 5 MiB
    assert len(ascii_content.encode()) == DEFAULT_LIMIT
    assert len(multibyte_content.encode()) == DEFAULT_LIMIT
    async with store.unit_of_work(user.id) as uow:
        first = await uow.files.put(project.id, "big/ascii.txt", ascii_content)
        second = await uow.files.put(project.id, "big/multibyte.txt", multibyte_content)
    assert first.outcome == second.outcome == "created"
    assert first.file.size_bytes == DEFAULT_LIMIT
    assert second.file.size_bytes == DEFAULT_LIMIT
    async with store.unit_of_work(user.id) as uow:
        ascii_read = await uow.files.get(project.id, "big/ascii.txt")
        multibyte_read = await uow.files.get(project.id, "big/multibyte.txt")
    assert_file(ascii_read, project.id, "big/ascii.txt", ascii_content)
    assert_file(multibyte_read, project.id, "big/multibyte.txt", multibyte_content)


async def test_content_one_byte_over_5_mib_is_rejected(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    ascii_over = "a" * (DEFAULT_LIMIT + 1)
    # Fewer characters than the limit, but one byte over it: the limit is bytes.
    multibyte_over = "é" * (DEFAULT_LIMIT // 2) + "a"
    assert len(multibyte_over) < DEFAULT_LIMIT
    assert len(multibyte_over.encode()) == DEFAULT_LIMIT + 1
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "keep.txt", "small")
    before = await snapshot(store, user, project.id)
    for content in (ascii_over, multibyte_over):
        async with store.unit_of_work(user.id) as uow:
            with pytest.raises(InvalidInput) as excinfo:
                await uow.files.put(project.id, "big.txt", content)
            assert excinfo.value.field == "content"
            with pytest.raises(InvalidInput):
                await uow.files.put(project.id, "keep.txt", content)
    assert await snapshot(store, user, project.id) == before


async def test_store_opened_with_another_content_limit(
    app_url: str, user: User
) -> None:
    async with Store.open(app_url, max_content_bytes=16) as small:
        async with small.unit_of_work(user.id) as uow:
            project = await uow.projects.create("small limit")
            ok = await uow.files.put(project.id, "ok.txt", "x" * 14 + "é")
        assert ok.file.size_bytes == 16
        async with small.unit_of_work(user.id) as uow:
            with pytest.raises(InvalidInput) as excinfo:
                await uow.files.put(project.id, "over.txt", "x" * 15 + "é")
            assert excinfo.value.field == "content"
            with pytest.raises(InvalidInput):
                await uow.files.sync(project.id, {"over.txt": "y" * 17})
            listed = await list_all(uow, project.id)
        assert [e.path for e in listed] == ["ok.txt"]


async def test_get_missing_file_is_not_found(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "a"})
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "b.txt")
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "A.txt")
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "a.txt/child")


# ---------------------------------------------------------------------------
# outcomes and versions
# ---------------------------------------------------------------------------


async def test_put_outcomes_created_updated_unchanged(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        created = await uow.files.put(project.id, "f.txt", "one")
    assert created.outcome == "created"
    assert created.file.version == 1

    await asyncio.sleep(0.01)
    async with store.unit_of_work(user.id) as uow:
        updated = await uow.files.put(project.id, "f.txt", "two")
    assert updated.outcome == "updated"
    assert updated.file.version == 2
    assert updated.file.content == "two"
    assert updated.file.sha256 == sha256_hex("two")
    assert updated.file.created_at == created.file.created_at
    assert updated.file.updated_at > created.file.updated_at

    await asyncio.sleep(0.01)
    async with store.unit_of_work(user.id) as uow:
        unchanged = await uow.files.put(project.id, "f.txt", "two")
    assert unchanged.outcome == "unchanged"
    assert unchanged.file.version == 2
    assert unchanged.file.updated_at == updated.file.updated_at
    assert unchanged.file.created_at == created.file.created_at
    assert unchanged.file.content == "two"

    async with store.unit_of_work(user.id) as uow:
        read = await uow.files.get(project.id, "f.txt")
    assert read == updated.file

    await asyncio.sleep(0.01)
    async with store.unit_of_work(user.id) as uow:
        back = await uow.files.put(project.id, "f.txt", "one")
    assert back.outcome == "updated"
    assert back.file.version == 3
    assert back.file.updated_at > updated.file.updated_at


async def test_expected_version_zero_creates_only(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        created = await uow.files.put(project.id, "f.txt", "v1", expected_version=0)
    assert created.outcome == "created"
    assert created.file.version == 1

    for content in ("other", "v1"):  # identical content must not slip through
        async with store.unit_of_work(user.id) as uow:
            with pytest.raises(Conflict) as excinfo:
                await uow.files.put(project.id, "f.txt", content, expected_version=0)
        assert excinfo.value.current_version == 1
        async with store.unit_of_work(user.id) as uow:
            assert await uow.files.get(project.id, "f.txt") == created.file


async def test_expected_version_n_is_compare_and_swap(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        v1 = (await uow.files.put(project.id, "f.txt", "v1")).file
        v2 = await uow.files.put(project.id, "f.txt", "v2", expected_version=1)
    assert v2.outcome == "updated"
    assert v2.file.version == 2
    assert v1.version == 1

    # stale version, different content
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Conflict) as excinfo:
            await uow.files.put(project.id, "f.txt", "stale", expected_version=1)
    assert excinfo.value.current_version == 2
    # stale version, identical content: still a conflict
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Conflict) as excinfo:
            await uow.files.put(project.id, "f.txt", "v2", expected_version=1)
    assert excinfo.value.current_version == 2
    # version from the future
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Conflict) as excinfo:
            await uow.files.put(project.id, "f.txt", "future", expected_version=7)
    assert excinfo.value.current_version == 2
    async with store.unit_of_work(user.id) as uow:
        assert await uow.files.get(project.id, "f.txt") == v2.file

    # matching version, identical content: unchanged, nothing written
    async with store.unit_of_work(user.id) as uow:
        same = await uow.files.put(project.id, "f.txt", "v2", expected_version=2)
    assert same.outcome == "unchanged"
    assert same.file == v2.file

    # matching version, new content
    async with store.unit_of_work(user.id) as uow:
        v3 = await uow.files.put(project.id, "f.txt", "v3", expected_version=2)
    assert v3.outcome == "updated"
    assert v3.file.version == 3


async def test_expected_version_n_on_missing_file_conflicts_without_version(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"other.txt": "x"})
    before = await snapshot(store, user, project.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Conflict) as excinfo:
            await uow.files.put(project.id, "missing.txt", "x", expected_version=1)
    assert excinfo.value.current_version is None
    assert await snapshot(store, user, project.id) == before


async def test_unit_of_work_goes_on_after_conflict_and_not_found(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "a"})
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Conflict):
            await uow.files.put(project.id, "a.txt", "zzz", expected_version=0)
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "nope.txt")
        with pytest.raises(NotFound):
            await uow.files.delete(project.id, "nope.txt")
        with pytest.raises(NotFound):
            await uow.files.move(project.id, "nope.txt", "b.txt")
        with pytest.raises(Conflict):
            await uow.files.delete(project.id, "a.txt", expected_version=9)
        await uow.files.put(project.id, "b.txt", "b")
        await uow.files.put(project.id, "a.txt", "a2")
    stored = await snapshot(store, user, project.id)
    assert {p: f.content for p, f in stored.items()} == {"a.txt": "a2", "b.txt": "b"}
    assert stored["a.txt"].version == 2


async def test_exception_in_unit_of_work_rolls_back_writes(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "a"})
    before = await snapshot(store, user, project.id)

    async def write_then_fail() -> None:
        async with store.unit_of_work(user.id) as uow:
            await uow.files.put(project.id, "a.txt", "changed")
            await uow.files.put(project.id, "b.txt", "new")
            await uow.files.move(project.id, "a.txt", "c.txt")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await write_then_fail()
    assert await snapshot(store, user, project.id) == before


# ---------------------------------------------------------------------------
# listing
# ---------------------------------------------------------------------------


async def test_list_of_empty_project_is_an_empty_page(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        page = await uow.files.list(project.id)
    assert page.items == []
    assert page.next_cursor is None


async def test_list_is_in_byte_wise_path_order(store: Store, user: User) -> None:
    project = await new_project(store, user)
    paths = [
        "B", "a", "a/b", "a-b", "ä", "Z", "a.b", "a0", "ab", "A", "~", "é",
        "😀", "\uff01", "a b", "_x", "%x", "0", "a/b/c", "a/B", "z", "Ä",
    ]  # fmt: skip
    await put_files(store, user, project.id, {p: p for p in paths})
    expected = byte_order(paths)
    # Byte order is not what a linguistic collation would give.
    assert expected.index("B") < expected.index("a")
    assert expected.index("a-b") < expected.index("a/b") < expected.index("a0")
    assert expected.index("z") < expected.index("ä")
    async with store.unit_of_work(user.id) as uow:
        for limit in (1000, 1, 3):
            listed = await list_all(uow, project.id, limit=limit)
            assert [e.path for e in listed] == expected


async def test_list_entries_carry_metadata_but_no_content(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "héllo", "b/c.txt": ""})
    await put_files(store, user, project.id, {"a.txt": "héllo again"})
    stored = await snapshot(store, user, project.id)
    async with store.unit_of_work(user.id) as uow:
        page = await uow.files.list(project.id)
    assert "content" not in FileEntry.model_fields
    assert [e.path for e in page.items] == ["a.txt", "b/c.txt"]
    for entry in page.items:
        assert not hasattr(entry, "content")
        assert "content" not in entry.model_dump()
        full = stored[entry.path]
        assert entry.project_id == full.project_id
        assert entry.size_bytes == full.size_bytes
        assert entry.sha256 == full.sha256
        assert entry.version == full.version
        assert entry.created_at == full.created_at
        assert entry.updated_at == full.updated_at
    assert page.items[0].version == 2
    assert page.items[0].size_bytes == len("héllo again".encode())


async def test_pagination_limit_2_over_7_files(store: Store, user: User) -> None:
    project = await new_project(store, user)
    paths = ["g", "a/z", "c", "a", "e.txt", "b/b/b", "d"]
    await put_files(store, user, project.id, {p: p for p in paths})
    pages: list[list[str]] = []
    async with store.unit_of_work(user.id) as uow:
        cursor: str | None = None
        for _ in range(20):
            page = await uow.files.list(project.id, limit=2, cursor=cursor)
            pages.append([e.path for e in page.items])
            cursor = page.next_cursor
            if cursor is None:
                break
        else:
            pytest.fail("pagination never ended")
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    flat = [path for page in pages for path in page]
    assert flat == byte_order(paths)  # no duplicates, no gaps, in order


async def test_pagination_is_keyset_stable_when_rows_before_the_cursor_go(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    paths = [f"f{i}" for i in range(6)]
    await put_files(store, user, project.id, {p: p for p in paths})
    async with store.unit_of_work(user.id) as uow:
        first = await uow.files.list(project.id, limit=2)
    assert [e.path for e in first.items] == ["f0", "f1"]
    assert first.next_cursor is not None
    async with store.unit_of_work(user.id) as uow:
        await uow.files.delete(project.id, "f0")
        await uow.files.delete(project.id, "f1")  # the row the cursor points at
    async with store.unit_of_work(user.id) as uow:
        second = await uow.files.list(project.id, limit=2, cursor=first.next_cursor)
    assert [e.path for e in second.items] == ["f2", "f3"]


async def test_prefix_filters_by_plain_string_prefix(store: Store, user: User) -> None:
    project = await new_project(store, user)
    paths = [
        "src/a.py", "src/b/c.py", "src2/x", "srcx", "src", "SRC/upper",
        "docs/%/a", "docs/%x", "docs/a%", "docs/abc", "docs/_/a", "docs/xa",
        "under_score", "underXscore", "under%", "underline",
    ]  # fmt: skip
    await put_files(store, user, project.id, {p: p for p in paths})

    def matching(prefix: str) -> list[str]:
        return byte_order([p for p in paths if p.startswith(prefix)])

    cases = [
        "src/", "src", "SRC/", "docs/%", "docs/_", "under_", "under%", "docs/",
        "d", "nothing/", "src/b/c.py", "srcx/",
    ]  # fmt: skip
    async with store.unit_of_work(user.id) as uow:
        for prefix in cases:
            for limit in (1000, 1):
                listed = await list_all(uow, project.id, prefix=prefix, limit=limit)
                assert [e.path for e in listed] == matching(prefix), (prefix, limit)
    assert matching("docs/%") == ["docs/%/a", "docs/%x"]
    assert matching("under_") == ["under_score"]


async def test_prefix_with_no_match_is_an_empty_page(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a/b": "x"})
    async with store.unit_of_work(user.id) as uow:
        page = await uow.files.list(project.id, prefix="b/")
    assert page.items == []
    assert page.next_cursor is None


async def test_list_sees_only_the_given_project(store: Store, user: User) -> None:
    first = await new_project(store, user, "first")
    second = await new_project(store, user, "second")
    await put_files(store, user, first.id, {"a": "1", "b": "2"})
    await put_files(store, user, second.id, {"a": "3", "c": "4"})
    async with store.unit_of_work(user.id) as uow:
        one = await list_all(uow, first.id)
        two = await list_all(uow, second.id)
        assert (await uow.files.get(second.id, "a")).content == "3"
    assert [(e.path, e.project_id) for e in one] == [("a", first.id), ("b", first.id)]
    assert [(e.path, e.project_id) for e in two] == [("a", second.id), ("c", second.id)]


# ---------------------------------------------------------------------------
# move
# ---------------------------------------------------------------------------


async def test_move_renames_and_keeps_content(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"old/a.txt": "contënt", "x": "y"})
    async with store.unit_of_work(user.id) as uow:
        moved = await uow.files.move(project.id, "old/a.txt", "new/dir/b.txt")
    assert_file(moved, project.id, "new/dir/b.txt", "contënt")
    stored = await snapshot(store, user, project.id)
    assert list(stored) == ["new/dir/b.txt", "x"]
    assert stored["new/dir/b.txt"].content == "contënt"
    assert stored["new/dir/b.txt"].sha256 == sha256_hex("contënt")
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "old/a.txt")
        # The old path is free again; its version 1 is not handed out again.
        created = await uow.files.put(project.id, "old/a.txt", "fresh")
    assert created.outcome == "created"
    assert created.file.version == 2


async def test_move_onto_existing_path_conflicts_and_changes_nothing(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "A", "b.txt": "B"})
    before = await snapshot(store, user, project.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(Conflict):
            await uow.files.move(project.id, "a.txt", "b.txt")
    assert await snapshot(store, user, project.id) == before


async def test_move_of_missing_path_is_not_found(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "A"})
    before = await snapshot(store, user, project.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.move(project.id, "missing.txt", "c.txt")
    assert await snapshot(store, user, project.id) == before


# ---------------------------------------------------------------------------
# delete
# ---------------------------------------------------------------------------


async def test_delete_removes_the_file(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "A", "b.txt": "B"})
    async with store.unit_of_work(user.id) as uow:
        await uow.files.delete(project.id, "a.txt")
    stored = await snapshot(store, user, project.id)
    assert list(stored) == ["b.txt"]
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "a.txt")
        with pytest.raises(NotFound):
            await uow.files.delete(project.id, "a.txt")


async def test_delete_of_missing_file_is_not_found(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "A"})
    before = await snapshot(store, user, project.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.delete(project.id, "b.txt")
        with pytest.raises(NotFound):
            await uow.files.delete(project.id, "b.txt", expected_version=1)
    assert await snapshot(store, user, project.id) == before


async def test_delete_with_expected_version(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "1"})
    await put_files(store, user, project.id, {"a.txt": "2"})
    before = await snapshot(store, user, project.id)
    assert before["a.txt"].version == 2
    for wrong in (1, 3):
        async with store.unit_of_work(user.id) as uow:
            with pytest.raises(Conflict) as excinfo:
                await uow.files.delete(project.id, "a.txt", expected_version=wrong)
        assert excinfo.value.current_version == 2
        assert await snapshot(store, user, project.id) == before
    async with store.unit_of_work(user.id) as uow:
        await uow.files.delete(project.id, "a.txt", expected_version=2)
    assert await snapshot(store, user, project.id) == {}


# ---------------------------------------------------------------------------
# concurrency: one row per (project, path)
# ---------------------------------------------------------------------------


async def test_concurrent_puts_of_one_path_leave_one_row(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    contents = [f"writer {i}\n" * (i + 1) for i in range(16)]

    async def write(content: str) -> FileWrite:
        async with store.unit_of_work(user.id) as uow:
            return await uow.files.put(project.id, "race.txt", content)

    results = await asyncio.gather(
        *(write(c) for c in contents), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    writes = [r for r in results if isinstance(r, FileWrite)]
    outcomes = [w.outcome for w in writes]
    assert outcomes.count("created") == 1
    assert outcomes.count("updated") == 15

    stored = await snapshot(store, user, project.id)
    assert list(stored) == ["race.txt"]
    final = stored["race.txt"]
    assert final.content in contents
    assert final.version == outcomes.count("created") + outcomes.count("updated")
    assert_file(final, project.id, "race.txt", final.content)
    # Every write saw the one before it: versions 1..16, each exactly once,
    # and the last one is what is stored.
    assert sorted(w.file.version for w in writes) == list(range(1, 17))
    last = max(writes, key=lambda w: w.file.version)
    assert last.file.content == final.content


async def test_concurrent_create_only_puts_let_exactly_one_win(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)

    async def create(i: int) -> FileWrite:
        async with store.unit_of_work(user.id) as uow:
            return await uow.files.put(
                project.id, "once.txt", f"{i}", expected_version=0
            )

    results = await asyncio.gather(
        *(create(i) for i in range(8)), return_exceptions=True
    )
    wins = [r for r in results if isinstance(r, FileWrite)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1, results
    assert len(conflicts) == 7, results
    assert all(c.current_version == 1 for c in conflicts)
    stored = await snapshot(store, user, project.id)
    assert list(stored) == ["once.txt"]
    assert stored["once.txt"].content == wins[0].file.content
    assert stored["once.txt"].version == 1


# ---------------------------------------------------------------------------
# ownership
# ---------------------------------------------------------------------------

FileOp = Callable[[UnitOfWork, uuid.UUID], Awaitable[object]]

FOREIGN_OPS: dict[str, FileOp] = {
    "get": lambda uow, pid: uow.files.get(pid, "a.txt"),
    "get_missing_path": lambda uow, pid: uow.files.get(pid, "zzz.txt"),
    "put_existing": lambda uow, pid: uow.files.put(pid, "a.txt", "evil"),
    "put_identical": lambda uow, pid: uow.files.put(pid, "a.txt", "A"),
    "put_new": lambda uow, pid: uow.files.put(pid, "new.txt", "evil"),
    "put_expected_0": lambda uow, pid: uow.files.put(
        pid, "new.txt", "evil", expected_version=0
    ),
    "put_expected_1": lambda uow, pid: uow.files.put(
        pid, "a.txt", "evil", expected_version=1
    ),
    "list": lambda uow, pid: uow.files.list(pid),
    "list_prefix": lambda uow, pid: uow.files.list(pid, prefix="b/"),
    "move": lambda uow, pid: uow.files.move(pid, "a.txt", "moved.txt"),
    "move_onto_existing": lambda uow, pid: uow.files.move(pid, "a.txt", "b/c.txt"),
    "delete": lambda uow, pid: uow.files.delete(pid, "a.txt"),
    "delete_expected": lambda uow, pid: uow.files.delete(
        pid, "a.txt", expected_version=1
    ),
    "sync": lambda uow, pid: uow.files.sync(pid, {"evil.txt": "evil"}),
    "sync_empty": lambda uow, pid: uow.files.sync(pid, {}),
    "sync_keep": lambda uow, pid: uow.files.sync(
        pid, {"a.txt": "evil"}, delete_missing=False
    ),
}


@pytest.mark.parametrize("op_name", list(FOREIGN_OPS))
async def test_another_users_project_is_not_found_like_a_missing_one(
    store: Store, user: User, other_user: User, op_name: str
) -> None:
    op = FOREIGN_OPS[op_name]
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "A", "b/c.txt": "C"})
    before = await snapshot(store, user, project.id)

    async with store.unit_of_work(other_user.id) as uow:
        with pytest.raises(NotFound) as foreign:
            await op(uow, project.id)
    async with store.unit_of_work(other_user.id) as uow:
        with pytest.raises(NotFound) as missing:
            await op(uow, uuid.uuid4())

    assert type(foreign.value) is type(missing.value)
    assert foreign.value.resource == missing.value.resource
    assert str(foreign.value) == str(missing.value)
    assert str(project.id) not in str(foreign.value)
    assert await snapshot(store, user, project.id) == before


async def test_foreign_failures_leave_other_users_unit_of_work_usable(
    store: Store, user: User, other_user: User
) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "A"})
    before = await snapshot(store, user, project.id)
    async with store.unit_of_work(other_user.id) as uow:
        own = await uow.projects.create("mine")
        for op in FOREIGN_OPS.values():
            with pytest.raises(NotFound):
                await op(uow, project.id)
        await uow.files.put(own.id, "a.txt", "mine")
    assert await snapshot(store, user, project.id) == before
    mine = await snapshot(store, other_user, own.id)
    assert {p: f.content for p, f in mine.items()} == {"a.txt": "mine"}
    # and the owner cannot see the other user's project either
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.list(own.id)


async def test_files_of_a_deleted_project_are_gone(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await put_files(store, user, project.id, {"a.txt": "A", "b/c.txt": "C"})
    async with store.unit_of_work(user.id) as uow:
        await uow.projects.delete(project.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.list(project.id)
        with pytest.raises(NotFound):
            await uow.files.get(project.id, "a.txt")
        with pytest.raises(NotFound):
            await uow.files.put(project.id, "a.txt", "again")
        with pytest.raises(NotFound):
            await uow.files.sync(project.id, {"a.txt": "again"})
