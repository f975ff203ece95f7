"""Property tests: any text as a name, path, prefix or content, any JSON-ish
value as agent state, any tree for sync, is either accepted and read back
exactly as sent, or refused with InvalidInput while the database stays as it
was. Whether it must be accepted is decided by the contract's rules, written
out independently in helpers.py.

The tests are `async def` under @given: pytest-asyncio 1.5 runs each example
on the session's event loop (its AsyncHypothesisTest item), so the examples
share the module's Store and its fixtures.
"""

from __future__ import annotations

import hashlib
import math
import os
import uuid
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from repositories import InvalidInput, Project, Store, UnitOfWork, User
from tests.persistence.helpers import list_all
from tests.support import new_user

from .helpers import (
    SMALL_CONTENT_LIMIT,
    attempt,
    is_valid_content,
    is_valid_name,
    is_valid_path,
    is_valid_prefix,
    is_valid_state,
    json_equal,
    snapshot,
    utf8_order,
)

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    # CI replays the same examples every run (a red CI is then reproducible);
    # elsewhere each run explores new ones.
    derandomize=os.environ.get("CI") == "true",
    database=None,  # nothing written outside tests/security
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"

# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------

# Every code point, surrogates and controls included.
ANY_CHAR = st.characters(codec=None)
TRICKY = [
    "",
    ".",
    "..",
    "...",
    "/",
    "//",
    "\\",
    "\x00",
    "\x01",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\x9f",
    "\n",
    "\t",
    " ",
    "\u3000",
    "\u2028",
    "\ufeff",
    "\u202e",
    "\ud800",
    "\udfff",
    "\ud7ff",
    "\ue000",
    "\U0010ffff",
    "é",
    "e\u0301",
    "😀",
    "%",
    "_",
    "'",
    '"',
    ";",
    "--",
    "\\u0000",
    "'; DROP TABLE projects; --",
]
tricky_text = st.lists(
    st.one_of(st.sampled_from(TRICKY), st.text(alphabet=ANY_CHAR, max_size=4)),
    max_size=8,
).map("".join)
hostile_text = st.one_of(st.text(alphabet=ANY_CHAR), tricky_text)


def repeated(low: int, high: int) -> st.SearchStrategy[str]:
    """One unit repeated to land near a limit (in characters or bytes)."""
    units = st.sampled_from(["a", "é", "€", "😀", " ", "a/", "\x00", "\ud800"])
    return st.builds(lambda unit, n: unit * n, units, st.integers(low, high))


segment = st.one_of(
    st.sampled_from(["", ".", "..", "...", "a", "é", "%", "_", "\\", " ", "\x00"]),
    st.text(alphabet=ANY_CHAR, min_size=1, max_size=6),
)
names = st.one_of(hostile_text, repeated(195, 205))
paths = st.one_of(
    hostile_text,
    st.lists(segment, min_size=1, max_size=5).map("/".join),
    repeated(250, 1030),
)
# Text, and bytes (a binary file): any bytes, NUL and invalid UTF-8
# included, some near the limit.
contents: st.SearchStrategy[str | bytes] = st.one_of(
    hostile_text,
    repeated(250, SMALL_CONTENT_LIMIT + 4),
    st.binary(),
    st.builds(
        lambda unit, n: unit * n,
        st.sampled_from([b"\x00", b"\xff", b"a", b"\xc3"]),
        st.integers(SMALL_CONTENT_LIMIT - 4, SMALL_CONTENT_LIMIT + 4),
    ),
)

json_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    tricky_text,
)
json_keys = st.one_of(tricky_text, st.text(alphabet=ANY_CHAR, max_size=6))
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(json_keys, children, max_size=4),
    ),
    max_leaves=20,
)
states: st.SearchStrategy[Any] = st.one_of(
    st.dictionaries(json_keys, json_values, max_size=5),
    json_values,  # lists, strings, numbers: not objects
)


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Owned:
    user: User
    project: Project


async def owned_project(store: Store) -> Owned:
    user = await new_user(store)
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("properties")
        await uow.files.put(project.id, "move-src.txt", "m")
    return Owned(user, project)


@pytest.fixture
async def owned(store: Store) -> Owned:
    return await owned_project(store)


@pytest.fixture
async def owned_small(small_store: Store) -> Owned:
    return await owned_project(small_store)


async def tree(uow: UnitOfWork, project_id: uuid.UUID) -> dict[str, str | bytes]:
    return {
        entry.path: (await uow.files.get(project_id, entry.path)).content
        for entry in await list_all(uow, project_id)
    }


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------


@PROPERTY
@given(name=names)
@example(name="'; DROP TABLE projects; --")
@example(name="  padded\x85")
@example(name="a\x1fb")
async def test_any_name_is_stored_trimmed_or_refused(
    store: Store, admin: Admin, owned: Owned, name: str
) -> None:
    event("accepted" if is_valid_name(name) else "refused")
    before = await snapshot(admin)
    async with store.unit_of_work(owned.user.id) as uow:
        created = await attempt(uow.projects.create(name, description=name))
        if isinstance(created, InvalidInput):
            assert created.field in {"name", "description"}
            assert not is_valid_name(name), created
            with pytest.raises(InvalidInput) as raised:
                await uow.projects.update(owned.project.id, name=name)
            assert raised.value.field == "name"
        else:
            assert is_valid_name(name)
            updated = await uow.projects.update(owned.project.id, name=name)
            assert created.name == updated.name == name.strip()
            assert created.description == name
    if isinstance(created, InvalidInput):
        assert await snapshot(admin) == before
        return
    async with store.unit_of_work(owned.user.id) as uow:
        assert await uow.projects.get(created.id) == created
        assert (await uow.projects.get(owned.project.id)).name == name.strip()
        listed = [
            p for p in (await uow.projects.list(limit=1000)).items if p.id == created.id
        ]
        assert listed == [created]


@PROPERTY
@given(path=paths)
@example(path="a" * 1024)
@example(path="é" * 512)
@example(path="dir/%_'; --")
@example(path="e\u0301/\ufeff")
async def test_any_path_is_stored_verbatim_or_refused(
    store: Store, admin: Admin, owned: Owned, path: str
) -> None:
    pid = owned.project.id
    valid = is_valid_path(path)
    event("accepted" if valid else "refused")
    before = await snapshot(admin)
    if path == "move-src.txt":
        return
    async with store.unit_of_work(owned.user.id) as uow:
        written = await attempt(uow.files.put(pid, path, path))
        if isinstance(written, InvalidInput):
            assert written.field == "path"
            assert not valid, written
            for call in (
                uow.files.get(pid, path),
                uow.files.delete(pid, path),
                uow.files.move(pid, path, "elsewhere.txt"),
                uow.files.sync(pid, {path: "x"}, delete_missing=False),
            ):
                with pytest.raises(InvalidInput):
                    await call
            with pytest.raises(InvalidInput) as raised:
                await uow.files.move(pid, "move-src.txt", path)
            assert raised.value.field == "new_path"
        else:
            assert valid
            assert written.file.path == path
    if not valid:
        assert await snapshot(admin) == before
        return
    async with store.unit_of_work(owned.user.id) as uow:
        read = await uow.files.get(pid, path)
        assert (read.path, read.content) == (path, path)
        # The path is the first entry of a listing by itself as a prefix.
        listed = await uow.files.list(pid, prefix=path, limit=1)
        assert [e.path for e in listed.items] == [path]
        await uow.files.delete(pid, path)
        # And as a move target.
        moved = await uow.files.move(pid, "move-src.txt", path)
        assert moved.path == path
        assert (await uow.files.get(pid, path)).content == "m"
        await uow.files.move(pid, path, "move-src.txt")


@PROPERTY
@given(content=contents)
@example(content="é" * (SMALL_CONTENT_LIMIT // 2))
@example(content="a" * (SMALL_CONTENT_LIMIT + 1))
@example(content="\r\n\x01\x7f\x85\x9f'; --\\")
@example(content=b"\x00\xff'; --\\")
@example(content=b"\x00" * SMALL_CONTENT_LIMIT)
@example(content=b"\x00" * (SMALL_CONTENT_LIMIT + 1))
@example(content=b"")
async def test_any_content_is_stored_exactly_or_refused(
    small_store: Store, admin: Admin, owned_small: Owned, content: str | bytes
) -> None:
    pid = owned_small.project.id
    valid = is_valid_content(content, SMALL_CONTENT_LIMIT)
    event("accepted" if valid else "refused")
    before = await snapshot(admin)
    async with small_store.unit_of_work(owned_small.user.id) as uow:
        written = await attempt(uow.files.put(pid, "c.txt", content))
        if isinstance(written, InvalidInput):
            assert written.field == "content"
            assert not valid, written
            with pytest.raises(InvalidInput):
                await uow.files.sync(pid, {"s.txt": content}, delete_missing=False)
        else:
            assert valid
            await uow.files.sync(pid, {"s.txt": content}, delete_missing=False)
    if not valid:
        assert await snapshot(admin) == before
        return
    encoded = content.encode("utf-8") if isinstance(content, str) else content
    async with small_store.unit_of_work(owned_small.user.id) as uow:
        for path in ("c.txt", "s.txt"):
            read = await uow.files.get(pid, path)
            # The same type as given: a str back for text, bytes for binary.
            assert type(read.content) is type(content)
            assert read.content == content
            assert read.kind == ("text" if isinstance(content, str) else "binary")
            assert read.size_bytes == len(encoded)
            assert read.sha256 == hashlib.sha256(encoded).hexdigest()


@PROPERTY
@given(state=states)
@example(state={"'; DROP TABLE agent_states; --": ["%", "_", "\\' OR 1=1"]})
@example(state={"x": math.nan})
@example(state={"a": [{"b": -math.inf}]})
@example(state={"big": 2**80, "small": 5e-324, "zero": -0.0, "unicode": "\u2028\ufeff"})
async def test_any_state_is_stored_exactly_or_refused(
    store: Store, admin: Admin, owned: Owned, state: Any
) -> None:
    pid = owned.project.id
    valid = is_valid_state(state)
    event("accepted" if valid else "refused")
    before = await snapshot(admin)
    async with store.unit_of_work(owned.user.id) as uow:
        saved = await attempt(uow.agent_states.save(pid, state))
        if isinstance(saved, InvalidInput):
            assert saved.field == "state"
            assert not valid, saved
        else:
            assert valid
            assert json_equal(state, saved.state), saved.state
    if isinstance(saved, InvalidInput):
        assert await snapshot(admin) == before
        return
    async with store.unit_of_work(owned.user.id) as uow:
        read = await uow.agent_states.get(pid)
        assert json_equal(state, read.state), read.state
        assert read.version == saved.version


@PROPERTY
@given(files=st.dictionaries(paths, contents, max_size=4))
@example(files={"%": "_", "_": "%", "a/'; --": "'; DROP TABLE projects; --"})
@example(files={"ok.txt": "fine", "../escape": "x"})
async def test_any_tree_is_synced_exactly_or_refused(
    small_store: Store, admin: Admin, owned_small: Owned, files: dict[str, str | bytes]
) -> None:
    pid = owned_small.project.id
    valid = all(
        is_valid_path(path) and is_valid_content(content, SMALL_CONTENT_LIMIT)
        for path, content in files.items()
    )
    event("accepted" if valid else "refused")
    before = await snapshot(admin)
    async with small_store.unit_of_work(owned_small.user.id) as uow:
        old = await tree(uow, pid)
        result = await attempt(uow.files.sync(pid, files))
        if isinstance(result, InvalidInput):
            assert result.field in {"path", "content", "files"}
            assert not valid, result
        else:
            assert valid
            assert result.created == len(files.keys() - old.keys())
            assert result.deleted == len(old.keys() - files.keys())
            assert result.created + result.updated + result.unchanged == len(files)
    if not valid:
        assert await snapshot(admin) == before
        return
    async with small_store.unit_of_work(owned_small.user.id) as uow:
        assert await tree(uow, pid) == files


PREFIX_TREE = [
    "%",
    "%a",
    "_",
    "_a",
    "a",
    "a%b",
    "a_b",
    "aXb",
    "ab",
    "a/b",
    "a/%",
    "é",
    "e\u0301",
    "\ud7ff",
    "\ue000",
    "\uffff",
    "\U0010ffff",
    "\U0010ffff\U0010ffff",
    "'; DROP TABLE projects; --",
    "z",
]
prefix_chars = st.sampled_from(
    [
        "%",
        "_",
        "a",
        "b",
        "X",
        "/",
        "é",
        "e",
        "\u0301",
        "\ud7ff",
        "\U0010ffff",
        "'",
        "\\",
        "\x00",
        "\ud800",
    ]
)
prefixes = st.one_of(st.lists(prefix_chars, max_size=4).map("".join), hostile_text)


@pytest.fixture
async def prefix_tree(store: Store) -> Owned:
    owned = await owned_project(store)
    async with store.unit_of_work(owned.user.id) as uow:
        await uow.files.sync(owned.project.id, {path: path for path in PREFIX_TREE})
    return owned


@PROPERTY
@given(prefix=prefixes)
@example(prefix="%")
@example(prefix="_")
@example(prefix="a%")
@example(prefix="\U0010ffff")
@example(prefix="\ud7ff")
async def test_a_prefix_lists_exactly_the_paths_that_start_with_it(
    store: Store, admin: Admin, prefix_tree: Owned, prefix: str
) -> None:
    pid = prefix_tree.project.id
    before = await snapshot(admin)
    async with store.unit_of_work(prefix_tree.user.id) as uow:
        event("accepted" if is_valid_prefix(prefix) else "refused")
        if not is_valid_prefix(prefix):
            with pytest.raises(InvalidInput) as raised:
                await uow.files.list(pid, prefix=prefix)
            assert raised.value.field == "prefix"
        else:
            expected = utf8_order([p for p in PREFIX_TREE if p.startswith(prefix)])
            for limit in (1, 3, 1000):
                found = await list_all(uow, pid, prefix=prefix, limit=limit)
                assert [e.path for e in found] == expected
    assert await snapshot(admin) == before


# ---------------------------------------------------------------------------
# float fidelity of agent state
# ---------------------------------------------------------------------------


async def test_large_floats_in_state_come_back_as_the_same_python_value(
    store: Store, owned: Owned
) -> None:
    # jsonb stores numbers as numeric: 1e23 written as "1e+23" would come back
    # as the int 100000000000000000000000, which is not 1e23 in Python.
    state = {
        "x": 1e23,
        "max": 1.7976931348623157e308,
        "negative": -1e20,
        "edge": 1e16,
        "nested": [{"y": 2.5e300}, 123456789012345680.0],
        "small": [5e-324, 1e-7, 0.1, -0.0, 2.0],
        "ints": [10**23, -(2**70)],
        "e+ in text": ["1e+23", '"1e+23"', "\\u00001\\u0000"],
    }
    async with store.unit_of_work(owned.user.id) as uow:
        await uow.agent_states.save(owned.project.id, state)
    async with store.unit_of_work(owned.user.id) as uow:
        stored = (await uow.agent_states.get(owned.project.id)).state
    assert stored == state
    assert typed(stored) == typed(state)  # floats stay floats, ints stay ints


def typed(value: object) -> object:
    """The value with every scalar paired with its type (== says 1 == 1.0)."""
    if isinstance(value, dict):
        return {key: typed(child) for key, child in value.items()}
    if isinstance(value, list):
        return [typed(child) for child in value]
    return (type(value).__name__, value)
