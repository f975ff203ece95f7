"""Input rules of the contract for uow.files: every bad path, content, id,
limit and cursor is refused with InvalidInput naming the field, and nothing in
the database changes."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from repositories import (
    InvalidInput,
    Project,
    Store,
    UnitOfWork,
    User,
)
from tests.persistence.helpers import list_all, snapshot

DEFAULT_LIMIT = 5 * 1024 * 1024
SEED = {"existing.txt": "E", "dir/f.txt": "F", "dir/sub/g.txt": "G"}

CONTROL_CHARS = [
    chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"
]

# (id, path): each breaks exactly one rule of the contract.
BAD_PATHS: list[tuple[str, str]] = [
    ("empty", ""),
    ("slash", "/"),
    ("leading-slash", "/abs.txt"),
    ("leading-slash-nested", "/a/b.txt"),
    ("double-slash", "a//b"),
    ("triple-slash", "a///b"),
    ("trailing-slash", "a/"),
    ("trailing-slash-nested", "a/b/"),
    ("dot", "."),
    ("dot-first", "./a"),
    ("dot-middle", "a/./b"),
    ("dot-last", "a/."),
    ("dotdot", ".."),
    ("dotdot-first", "../a"),
    ("dotdot-middle", "a/../b"),
    ("dotdot-last", "a/.."),
    ("dotdot-escape", "../../etc/passwd"),
    ("backslash", "\\"),
    ("backslash-inside", "a\\b"),
    ("backslash-leading", "\\a"),
    ("windows", "C:\\Windows\\x.txt"),
    ("too-long-ascii", "a" * 1025),
    ("too-long-nested", ("x" * 99 + "/") * 10 + "y" * 25),
    ("too-long-multibyte", "é" * 513),  # 513 characters, 1026 bytes
    ("too-long-4-byte", "😀" * 257),  # 257 characters, 1028 bytes
    ("lone-high-surrogate", "a\ud800b"),
    ("lone-low-surrogate", "dir/\udfff.txt"),
    ("nul", "a\x00b"),
    ("unit-separator", "a\x1fb"),
    ("del", "a\x7fb"),
    ("nel", "a\x85b"),
    ("newline", "a\nb"),
    ("tab", "a\tb"),
    ("carriage-return", "a\rb"),
    ("escape", "\x1b[31mred"),
]

BAD_CONTENTS: list[tuple[str, str | bytes]] = [
    ("nul-only", "\x00"),
    ("nul-inside", "before\x00after"),
    ("lone-high-surrogate", "\ud800"),
    ("lone-low-surrogate", "text \udfff text"),
    ("over-limit", "a" * (DEFAULT_LIMIT + 1)),
    ("over-limit-multibyte", "é" * (DEFAULT_LIMIT // 2) + "a"),
    # A binary file may hold any bytes, but no more of them than a text file.
    ("over-limit-bytes", b"\x00" * (DEFAULT_LIMIT + 1)),
]

BAD_IDS: list[tuple[str, Any]] = [
    ("str", "00000000-0000-0000-0000-000000000001"),
    ("hex", uuid.UUID(int=1).hex),
    ("int", 1),
    ("none", None),
    ("bytes", uuid.UUID(int=1).bytes),
    ("empty-str", ""),
]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


@pytest.fixture
async def seeded(store: Store, user: User) -> Project:
    """A project of `user` holding SEED."""
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("input rules")
        for path, content in SEED.items():
            await uow.files.put(project.id, path, content)
    return project


async def assert_refused(
    store: Store,
    user: User,
    project: Project,
    call: Call,
    fields: set[str],
) -> None:
    """`call` raises InvalidInput naming one of `fields`; the project is as before."""
    before = await snapshot(store, user, project.id)
    assert {p: f.content for p, f in before.items()} == SEED
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as excinfo:
            await call(uow)
        assert excinfo.value.field in fields, excinfo.value.field
        assert isinstance(excinfo.value.reason, str)
        assert excinfo.value.reason
        # The unit of work is still usable after the refusal.
        assert len(await list_all(uow, project.id)) == len(SEED)
    assert await snapshot(store, user, project.id) == before


Call = Callable[[UnitOfWork], Awaitable[object]]
PathOp = Callable[[UnitOfWork, uuid.UUID, str], Awaitable[object]]


def bind(op: PathOp, project_id: uuid.UUID, value: str) -> Call:
    return lambda uow: op(uow, project_id, value)


def bind_id(op: Callable[[UnitOfWork, Any], Awaitable[object]], bad_id: Any) -> Call:
    return lambda uow: op(uow, bad_id)


def list_with_cursor(project_id: uuid.UUID, cursor: Any) -> Call:
    return lambda uow: uow.files.list(project_id, limit=1, cursor=cursor)


# name -> (call with the bad path, the fields InvalidInput may name)
PATH_OPS: dict[str, tuple[PathOp, set[str]]] = {
    "put": (lambda uow, pid, path: uow.files.put(pid, path, "x"), {"path"}),
    "put-expected-0": (
        lambda uow, pid, path: uow.files.put(pid, path, "x", expected_version=0),
        {"path"},
    ),
    "get": (lambda uow, pid, path: uow.files.get(pid, path), {"path"}),
    "delete": (lambda uow, pid, path: uow.files.delete(pid, path), {"path"}),
    "move-from": (
        lambda uow, pid, path: uow.files.move(pid, path, "fine.txt"),
        {"path"},
    ),
    "move-to": (
        lambda uow, pid, path: uow.files.move(pid, "existing.txt", path),
        {"new_path", "path"},
    ),
    "sync": (
        lambda uow, pid, path: uow.files.sync(pid, {"a.txt": "a", path: "x", "z": "z"}),
        {"path", "files"},
    ),
    "sync-keep": (
        lambda uow, pid, path: uow.files.sync(
            pid, {"existing.txt": "changed", path: "x"}, delete_missing=False
        ),
        {"path", "files"},
    ),
}


# ---------------------------------------------------------------------------
# paths
# ---------------------------------------------------------------------------


def test_the_bad_paths_break_the_rules_they_claim() -> None:
    lengths = {
        name: len(path.encode("utf-8", "surrogatepass")) for name, path in BAD_PATHS
    }
    assert lengths["too-long-ascii"] == 1025
    assert lengths["too-long-nested"] == 1025
    assert lengths["too-long-multibyte"] == 1026
    assert lengths["too-long-4-byte"] == 1028
    assert len(CONTROL_CHARS) == 65
    assert {"\x00", "\x1f", "\x7f", "\x85", "\x9f"} <= set(CONTROL_CHARS)


@pytest.mark.parametrize("op_name", list(PATH_OPS))
@pytest.mark.parametrize(
    ("bad_path"), [p for _, p in BAD_PATHS], ids=[n for n, _ in BAD_PATHS]
)
async def test_bad_path_is_invalid_input(
    store: Store, user: User, seeded: Project, bad_path: str, op_name: str
) -> None:
    op, fields = PATH_OPS[op_name]
    await assert_refused(
        store, user, seeded, lambda uow: op(uow, seeded.id, bad_path), fields
    )


@pytest.mark.parametrize("op_name", ["put", "move-to", "sync", "get"])
@pytest.mark.parametrize(
    "char", CONTROL_CHARS, ids=[f"U+{ord(c):04X}" for c in CONTROL_CHARS]
)
async def test_every_control_character_in_a_path_is_invalid_input(
    store: Store, user: User, seeded: Project, char: str, op_name: str
) -> None:
    op, fields = PATH_OPS[op_name]
    for path in (f"dir/a{char}b.txt", char, f"{char}lead", f"trail{char}"):
        await assert_refused(store, user, seeded, bind(op, seeded.id, path), fields)


# ---------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------

ContentOp = Callable[[UnitOfWork, uuid.UUID, str | bytes], Awaitable[object]]

CONTENT_OPS: dict[str, tuple[ContentOp, set[str]]] = {
    "put-new": (lambda uow, pid, c: uow.files.put(pid, "new.txt", c), {"content"}),
    "put-existing": (
        lambda uow, pid, c: uow.files.put(pid, "existing.txt", c),
        {"content"},
    ),
    "put-existing-expected": (
        lambda uow, pid, c: uow.files.put(pid, "existing.txt", c, expected_version=1),
        {"content"},
    ),
    "sync": (
        lambda uow, pid, c: uow.files.sync(pid, {"a.txt": "a", "b.txt": c, "c": "c"}),
        {"content", "files"},
    ),
    "sync-keep": (
        lambda uow, pid, c: uow.files.sync(
            pid, {"existing.txt": "changed", "dir/f.txt": c}, delete_missing=False
        ),
        {"content", "files"},
    ),
}


@pytest.mark.parametrize("op_name", list(CONTENT_OPS))
@pytest.mark.parametrize(
    "bad_content", [c for _, c in BAD_CONTENTS], ids=[n for n, _ in BAD_CONTENTS]
)
async def test_bad_content_is_invalid_input(
    store: Store, user: User, seeded: Project, bad_content: str | bytes, op_name: str
) -> None:
    op, fields = CONTENT_OPS[op_name]
    await assert_refused(
        store, user, seeded, lambda uow: op(uow, seeded.id, bad_content), fields
    )


async def test_control_characters_other_than_nul_are_fine_in_content(
    store: Store, user: User, seeded: Project
) -> None:
    content = "".join(c for c in CONTROL_CHARS if c != "\x00")
    async with store.unit_of_work(user.id) as uow:
        written = await uow.files.put(seeded.id, "controls.bin.txt", content)
    assert written.outcome == "created"
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.get(seeded.id, "controls.bin.txt")).content == content


# ---------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------

IdOp = Callable[[UnitOfWork, Any], Awaitable[object]]

ID_OPS: dict[str, IdOp] = {
    "get": lambda uow, pid: uow.files.get(pid, "existing.txt"),
    "put": lambda uow, pid: uow.files.put(pid, "existing.txt", "x"),
    "list": lambda uow, pid: uow.files.list(pid),
    "move": lambda uow, pid: uow.files.move(pid, "existing.txt", "moved.txt"),
    "delete": lambda uow, pid: uow.files.delete(pid, "existing.txt"),
    "sync": lambda uow, pid: uow.files.sync(pid, {}),
}


@pytest.mark.parametrize("op_name", list(ID_OPS))
@pytest.mark.parametrize("bad_id", [i for _, i in BAD_IDS], ids=[n for n, _ in BAD_IDS])
async def test_project_id_that_is_not_a_uuid_is_invalid_input(
    store: Store, user: User, seeded: Project, bad_id: Any, op_name: str
) -> None:
    op = ID_OPS[op_name]
    await assert_refused(
        store, user, seeded, lambda uow: op(uow, bad_id), {"project_id"}
    )


async def test_string_form_of_the_real_project_id_is_invalid_input(
    store: Store, user: User, seeded: Project
) -> None:
    for op in ID_OPS.values():
        await assert_refused(
            store,
            user,
            seeded,
            bind_id(op, str(seeded.id)),
            {"project_id"},
        )


@pytest.mark.parametrize("bad_id", [i for _, i in BAD_IDS], ids=[n for n, _ in BAD_IDS])
async def test_actor_id_that_is_not_a_uuid_is_invalid_input(
    store: Store, user: User, seeded: Project, bad_id: Any
) -> None:
    before = await snapshot(store, user, seeded.id)
    with pytest.raises(InvalidInput):
        async with store.unit_of_work(bad_id) as uow:
            await uow.files.sync(seeded.id, {})
    with pytest.raises(InvalidInput):
        async with store.unit_of_work(cast(Any, str(user.id))) as uow:
            await uow.files.sync(seeded.id, {})
    assert await snapshot(store, user, seeded.id) == before


# ---------------------------------------------------------------------------
# listing arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad_limit", [0, -1, 1001, 10**9, "10", 2.5, None], ids=repr)
async def test_limit_outside_1_to_1000_is_invalid_input(
    store: Store, user: User, seeded: Project, bad_limit: Any
) -> None:
    await assert_refused(
        store,
        user,
        seeded,
        lambda uow: uow.files.list(seeded.id, limit=bad_limit),
        {"limit"},
    )


async def test_limit_bounds_are_accepted(
    store: Store, user: User, seeded: Project
) -> None:
    async with store.unit_of_work(user.id) as uow:
        one = await uow.files.list(seeded.id, limit=1)
        thousand = await uow.files.list(seeded.id, limit=1000)
    assert len(one.items) == 1
    assert one.next_cursor is not None
    assert len(thousand.items) == len(SEED)
    assert thousand.next_cursor is None


@pytest.mark.parametrize(
    "bad_cursor",
    ["garbage", "!!!!", "eyJ4IjoxfQ", "%00", "\x00", "\ud800", 123],
    ids=repr,
)
async def test_garbage_cursor_is_invalid_input(
    store: Store, user: User, seeded: Project, bad_cursor: Any
) -> None:
    await assert_refused(
        store,
        user,
        seeded,
        lambda uow: uow.files.list(seeded.id, limit=1, cursor=bad_cursor),
        {"cursor"},
    )


def tamperings(cursor: str) -> list[str]:
    """Changes that alter what the cursor says (not just its padding)."""
    middle = len(cursor) // 2

    def other(char: str) -> str:
        return "B" if char != "B" else "C"

    return [
        cursor[:middle],
        cursor[:middle] + other(cursor[middle]) + cursor[middle + 1 :],
        other(cursor[0]) + cursor[1:],
        cursor[::-1],
    ]


async def test_tampered_cursor_is_invalid_input(
    store: Store, user: User, seeded: Project
) -> None:
    async with store.unit_of_work(user.id) as uow:
        page = await uow.files.list(seeded.id, limit=1)
    assert page.next_cursor is not None
    for tampered in tamperings(page.next_cursor):
        if tampered == page.next_cursor:
            continue
        await assert_refused(
            store,
            user,
            seeded,
            list_with_cursor(seeded.id, tampered),
            {"cursor"},
        )


# ---------------------------------------------------------------------------
# wrong types and versions
# ---------------------------------------------------------------------------

WRONG_TYPES: list[tuple[str, Any]] = [
    ("none", None),
    ("bytes", b"a.txt"),
    ("int", 7),
    ("list", ["a.txt"]),
]

# Content is a str (a text file) or bytes (a binary one); nothing else,
# not even the other bytes-like types.
WRONG_CONTENT_TYPES: list[tuple[str, Any]] = [
    ("none", None),
    ("int", 7),
    ("list", ["x"]),
    ("bytearray", bytearray(b"x")),
    ("memoryview", memoryview(b"x")),
]


@pytest.mark.parametrize(
    "value", [v for _, v in WRONG_TYPES], ids=[n for n, _ in WRONG_TYPES]
)
async def test_path_that_is_not_a_str_is_invalid_input(
    store: Store, user: User, seeded: Project, value: Any
) -> None:
    pid = seeded.id
    calls: list[tuple[Call, set[str]]] = [
        (bind_id(lambda uow, v: uow.files.put(pid, v, "x"), value), {"path"}),
        (bind_id(lambda uow, v: uow.files.get(pid, v), value), {"path"}),
        (bind_id(lambda uow, v: uow.files.delete(pid, v), value), {"path"}),
        (
            bind_id(lambda uow, v: uow.files.move(pid, "existing.txt", v), value),
            {"new_path", "path"},
        ),
    ]
    if not isinstance(value, list):  # a list is not hashable, so no mapping key
        calls.append(
            (
                bind_id(lambda uow, v: uow.files.sync(pid, {"a": "a", v: "b"}), value),
                {"path", "files"},
            )
        )
    for call, fields in calls:
        await assert_refused(store, user, seeded, call, fields)


@pytest.mark.parametrize(
    "value",
    [v for _, v in WRONG_CONTENT_TYPES],
    ids=[n for n, _ in WRONG_CONTENT_TYPES],
)
async def test_content_that_is_neither_str_nor_bytes_is_invalid_input(
    store: Store, user: User, seeded: Project, value: Any
) -> None:
    pid = seeded.id
    calls: list[tuple[Call, set[str]]] = [
        (bind_id(lambda uow, v: uow.files.put(pid, "new.txt", v), value), {"content"}),
        (
            bind_id(lambda uow, v: uow.files.put(pid, "existing.txt", v), value),
            {"content"},
        ),
        (
            bind_id(lambda uow, v: uow.files.sync(pid, {"a": "a", "b": v}), value),
            {"content", "files"},
        ),
    ]
    for call, fields in calls:
        await assert_refused(store, user, seeded, call, fields)


async def test_bytes_content_is_a_binary_file(
    store: Store, user: User, seeded: Project
) -> None:
    """What the rules refuse in text (NUL, bytes that are not UTF-8) is a
    binary file's content: stored as given and handed back as bytes."""
    binary = b"\x00\xff\xfe not UTF-8 \x80"
    async with store.unit_of_work(user.id) as uow:
        written = await uow.files.put(seeded.id, "blob.bin", binary)
        synced = await uow.files.sync(
            seeded.id, {"synced.bin": binary, "empty.bin": b""}, delete_missing=False
        )
    assert written.outcome == "created"
    assert synced.created == 2
    async with store.unit_of_work(user.id) as uow:
        for path, expected in (
            ("blob.bin", binary),
            ("synced.bin", binary),
            ("empty.bin", b""),
        ):
            stored = await uow.files.get(seeded.id, path)
            assert (stored.kind, stored.content) == ("binary", expected), path
            assert stored.size_bytes == len(expected)


@pytest.mark.parametrize(
    "files", [[("a.txt", "x")], "a.txt", None], ids=["pairs", "str", "none"]
)
async def test_sync_of_something_that_is_not_a_mapping_is_invalid_input(
    store: Store, user: User, seeded: Project, files: Any
) -> None:
    await assert_refused(
        store,
        user,
        seeded,
        bind_id(lambda uow, f: uow.files.sync(seeded.id, f), files),
        {"files"},
    )


@pytest.mark.parametrize("bad_version", [-1, "1", 1.0, True], ids=repr)
async def test_expected_version_that_is_not_a_non_negative_int_is_invalid_input(
    store: Store, user: User, seeded: Project, bad_version: Any
) -> None:
    pid = seeded.id
    for call in (
        bind_id(
            lambda uow, v: uow.files.put(
                pid, "existing.txt", "new", expected_version=v
            ),
            bad_version,
        ),
        bind_id(
            lambda uow, v: uow.files.put(pid, "fresh.txt", "new", expected_version=v),
            bad_version,
        ),
        bind_id(
            lambda uow, v: uow.files.delete(pid, "existing.txt", expected_version=v),
            bad_version,
        ),
    ):
        await assert_refused(store, user, seeded, call, {"expected_version"})
