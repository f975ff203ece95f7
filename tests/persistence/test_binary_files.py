"""Binary files: `bytes` content is stored and read back byte for byte
(NUL, invalid UTF-8, empty, every byte value, exactly the content limit),
text stays `str`, the kind shows in listings and stat and is part of what
is stored, writes of bytes keep the versions and compare-and-swap of text,
and the database itself refuses content whose sha256 or size is not its
own."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import asyncpg
import pytest

from repositories import (
    InvalidInput,
    ProjectFile,
    Store,
    User,
    VersionConflict,
)
from tests.persistence.helpers import list_all, project_rows
from tests.security.helpers import attempt
from tests.support import new_project

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
LIMIT = 4096  # max_content_bytes of the `limited` store

EVERY_BYTE = bytes(range(256))
BINARIES: dict[str, bytes] = {
    "empty.bin": b"",
    "nul.bin": b"\x00",
    "nuls.bin": b"\x00" * 64,
    "invalid-utf8.bin": b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc",
    "lone-continuation.bin": b"abc\x80def",
    "overlong.bin": b"\xc0\xaf",
    "surrogate-utf8.bin": b"\xed\xa0\x80",  # UTF-8 of a surrogate: not UTF-8
    "every-byte.bin": EVERY_BYTE,
    "every-byte-reversed.bin": EVERY_BYTE[::-1],
    "png-header.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "crlf.bin": b"a\r\nb\rc\n",
    "valid-utf8.bin": "héllo wörld 😀".encode(),  # bytes, though it decodes
    "backslashes.bin": b"\\x00\\\\'\"",
}


@pytest.fixture(scope="module")
async def limited(app_url: str, auth_url: str) -> AsyncIterator[Store]:
    async with Store.open(
        app_url, auth_dsn=auth_url, max_content_bytes=LIMIT
    ) as opened:
        yield opened


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_binary(file: ProjectFile, path: str, data: bytes) -> None:
    assert file.path == path
    assert type(file.content) is bytes, type(file.content)
    assert file.content == data
    assert file.size_bytes == len(data)
    assert file.sha256 == sha(data)
    assert file.kind == "binary"


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------


async def test_bytes_round_trip_byte_exact_through_put_and_get(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for path, data in BINARIES.items():
            written = await uow.files.put(project.id, path, data)
            assert written.outcome == "created"
            assert written.file.version == 1
            assert_binary(written.file, path, data)
    async with store.unit_of_work(user.id) as uow:
        for path, data in BINARIES.items():
            assert_binary(await uow.files.get(project.id, path), path, data)


async def test_a_bytearray_or_memoryview_is_not_taken_for_bytes_silently(
    store: Store, user: User
) -> None:
    """Whatever put does with other buffers, what it stores reads back as the
    same bytes (or it refused, writing nothing)."""
    project = await new_project(store, user)
    buffers: list[Any] = [bytearray(b"\x00\xff"), memoryview(b"\x00\xff")]
    for index, value in enumerate(buffers):
        path = f"buffer-{index}.bin"
        async with store.unit_of_work(user.id) as uow:
            written = await attempt(uow.files.put(project.id, path, value))
            listed = [e.path for e in await list_all(uow, project.id)]
            if isinstance(written, InvalidInput):
                assert written.field == "content"
                assert path not in listed
                continue
            read = await uow.files.get(project.id, path)
        assert type(read.content) is bytes
        assert read.content == b"\x00\xff"


async def test_text_stays_text_and_bytes_stay_bytes(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        text = await uow.files.put(project.id, "t.txt", "héllo")
        data = await uow.files.put(project.id, "b.bin", "héllo".encode())
    assert type(text.file.content) is str
    assert text.file.kind == "text"
    assert type(data.file.content) is bytes
    assert data.file.kind == "binary"
    # Same bytes, same digest and size, whichever kind.
    assert text.file.sha256 == data.file.sha256 == sha("héllo".encode())
    assert text.file.size_bytes == data.file.size_bytes == len("héllo".encode())
    async with store.unit_of_work(user.id) as uow:
        t = await uow.files.get(project.id, "t.txt")
        b = await uow.files.get(project.id, "b.bin")
    assert (type(t.content), t.content, t.kind) == (str, "héllo", "text")
    assert (type(b.content), b.content, b.kind) == (bytes, "héllo".encode(), "binary")


async def test_sync_round_trips_bytes_and_text_mixed(store: Store, user: User) -> None:
    project = await new_project(store, user)
    tree: dict[str, str | bytes] = {**BINARIES, "readme.md": "# hi\n", "e.txt": ""}
    async with store.unit_of_work(user.id) as uow:
        result = await uow.files.sync(project.id, tree)
    assert (result.created, result.updated, result.unchanged, result.deleted) == (
        len(tree),
        0,
        0,
        0,
    )
    async with store.unit_of_work(user.id) as uow:
        for path, content in tree.items():
            read = await uow.files.get(project.id, path)
            assert type(read.content) is type(content), path
            assert read.content == content, path
        again = await uow.files.sync(project.id, tree)
    assert (again.created, again.updated, again.unchanged, again.deleted) == (
        0,
        0,
        len(tree),
        0,
    )


async def test_content_of_exactly_the_limit_is_stored_and_one_over_is_refused(
    limited: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(limited, user)
    exact = bytes(i % 256 for i in range(LIMIT))
    async with limited.unit_of_work(user.id) as uow:
        written = await uow.files.put(project.id, "exact.bin", exact)
    assert_binary(written.file, "exact.bin", exact)
    async with limited.unit_of_work(user.id) as uow:
        assert_binary(await uow.files.get(project.id, "exact.bin"), "exact.bin", exact)

    before = await project_rows(superuser, project.id)
    over = exact + b"\x00"
    async with limited.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.files.put(project.id, "over.bin", over)
        assert refused.value.field == "content"
        with pytest.raises(InvalidInput):
            await uow.files.put(project.id, "exact.bin", over)
        with pytest.raises(InvalidInput):
            await uow.files.put(project.id, "exact.bin", over, expected_version=1)
        with pytest.raises(InvalidInput):
            await uow.files.sync(
                project.id, {"exact.bin": exact, "over.bin": over}, delete_missing=False
            )
        # The unit of work goes on after the refusals.
        assert (await uow.files.get(project.id, "exact.bin")).content == exact
    assert await project_rows(superuser, project.id) == before


# ---------------------------------------------------------------------------
# the kind: listed, and part of what is stored
# ---------------------------------------------------------------------------


async def test_kind_is_shown_in_stat_and_listings(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "text")
        await uow.files.put(project.id, "b.bin", b"\x00bin")
        await uow.files.put(project.id, "c.bin", b"")
        await uow.files.put(project.id, "d.txt", "")
        listed = {e.path: e.kind for e in await list_all(uow, project.id)}
        stats = {path: (await uow.files.stat(project.id, path)).kind for path in listed}
    expected = {"a.txt": "text", "b.bin": "binary", "c.bin": "binary", "d.txt": "text"}
    assert listed == expected
    assert stats == expected


async def test_the_same_bytes_as_text_and_as_binary_is_a_change(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        first = await uow.files.put(project.id, "f", "abc")
        as_bytes = await uow.files.put(project.id, "f", b"abc")
        bytes_again = await uow.files.put(project.id, "f", b"abc")
        as_text = await uow.files.put(project.id, "f", "abc")
        text_again = await uow.files.put(project.id, "f", "abc")
    assert (first.outcome, first.file.version, first.file.kind) == (
        "created",
        1,
        "text",
    )
    assert (as_bytes.outcome, as_bytes.file.version) == ("updated", 2)
    assert as_bytes.file.kind == "binary"
    assert (bytes_again.outcome, bytes_again.file.version) == ("unchanged", 2)
    assert (as_text.outcome, as_text.file.version, as_text.file.kind) == (
        "updated",
        3,
        "text",
    )
    assert (text_again.outcome, text_again.file.version) == ("unchanged", 3)
    async with store.unit_of_work(user.id) as uow:
        read = await uow.files.get(project.id, "f")
    assert (read.content, read.kind, read.version) == ("abc", "text", 3)


async def test_a_sync_that_changes_only_the_kind_updates(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, {"a": "same", "b": b"same"})
        flipped = await uow.files.sync(project.id, {"a": b"same", "b": "same"})
        a = await uow.files.get(project.id, "a")
        b = await uow.files.get(project.id, "b")
    assert (flipped.updated, flipped.unchanged) == (2, 0)
    assert (a.content, a.kind, a.version) == (b"same", "binary", 2)
    assert (b.content, b.kind, b.version) == ("same", "text", 2)


async def test_text_rules_still_hold_for_str_content(store: Store, user: User) -> None:
    """NUL is refused in text; the same byte is fine as bytes."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.files.put(project.id, "nul.txt", "a\x00b")
        assert refused.value.field == "content"
        written = await uow.files.put(project.id, "nul.txt", b"a\x00b")
    assert written.outcome == "created"
    assert written.file.content == b"a\x00b"


# ---------------------------------------------------------------------------
# versions and compare-and-swap, as for text
# ---------------------------------------------------------------------------


async def test_binary_writes_keep_versions_and_compare_and_swap(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        created = await uow.files.put(project.id, "f.bin", b"\x01", expected_version=0)
        with pytest.raises(VersionConflict) as taken:
            await uow.files.put(project.id, "f.bin", b"\x02", expected_version=0)
        assert taken.value.current_version == 1
        updated = await uow.files.put(project.id, "f.bin", b"\x02", expected_version=1)
        with pytest.raises(VersionConflict) as stale:
            await uow.files.put(project.id, "f.bin", b"\x03", expected_version=1)
        assert stale.value.current_version == 2
        same = await uow.files.put(project.id, "f.bin", b"\x02", expected_version=2)
        with pytest.raises(VersionConflict):
            # Same bytes, wrong version: refused, as for text.
            await uow.files.put(project.id, "f.bin", b"\x02", expected_version=1)
        with pytest.raises(VersionConflict):
            await uow.files.delete(project.id, "f.bin", expected_version=1)
        read = await uow.files.get(project.id, "f.bin")
    assert (created.outcome, created.file.version) == ("created", 1)
    assert (updated.outcome, updated.file.version) == ("updated", 2)
    assert (same.outcome, same.file.version) == ("unchanged", 2)
    assert (read.content, read.version) == (b"\x02", 2)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.delete(project.id, "f.bin", expected_version=2)
        again = await uow.files.put(project.id, "f.bin", b"\x02")
    assert again.outcome == "created"
    assert again.file.version > 2  # above the path's floor


async def test_a_moved_binary_file_keeps_its_bytes(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.bin", EVERY_BYTE)
        moved = await uow.files.move(project.id, "a.bin", "b.bin")
        read = await uow.files.get(project.id, "b.bin")
    assert moved.content == EVERY_BYTE
    assert moved.kind == "binary"
    assert_binary(read, "b.bin", EVERY_BYTE)


# ---------------------------------------------------------------------------
# the database refuses content that is not what its row says
# ---------------------------------------------------------------------------

INSERT_CONTENT = (
    "INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)"
    " VALUES ($1, $2, $3, $4, $5)"
)


class _Accepted(Exception):
    pass


async def accepted(owner: Admin, sql: str, *args: object) -> bool:
    """Whether the statement ran (in a transaction rolled back either way);
    False when a constraint of the database refused it."""
    try:
        async with owner.transaction():
            await owner.execute(sql, *args)
            raise _Accepted
    except asyncpg.IntegrityConstraintViolationError:
        return False
    except _Accepted:
        return True


async def test_the_database_refuses_content_whose_digest_or_size_is_not_its_own(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    data = b"\x00\xffbinary\x80"
    right = (project.id, user.id)
    # The control: the row as the API writes it is accepted.
    assert await accepted(superuser, INSERT_CONTENT, *right, sha(data), len(data), data)
    # A digest of other bytes, an upper-case digest, a wrong size.
    assert not await accepted(
        superuser, INSERT_CONTENT, *right, sha(b"other"), len(data), data
    )
    assert not await accepted(
        superuser, INSERT_CONTENT, *right, sha(data).upper(), len(data), data
    )
    for size in (len(data) - 1, len(data) + 1, -1):
        assert not await accepted(
            superuser, INSERT_CONTENT, *right, sha(data), size, data
        )
    # Planted in another project of the same content, or with a foreign owner.
    assert not await accepted(
        superuser, INSERT_CONTENT, uuid.uuid4(), user.id, sha(data), len(data), data
    )
    assert not await accepted(
        superuser, INSERT_CONTENT, project.id, uuid.uuid4(), sha(data), len(data), data
    )


async def test_the_database_refuses_changing_stored_content_under_its_digest(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.bin", b"\x01\x02\x03")
    assert not await accepted(
        superuser,
        "UPDATE file_contents SET content = '\\x010203ff'::bytea WHERE project_id = $1",
        project.id,
    )
    assert not await accepted(
        superuser,
        "UPDATE file_contents SET size_bytes = size_bytes + 1 WHERE project_id = $1",
        project.id,
    )
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.get(project.id, "a.bin")).content == b"\x01\x02\x03"
