"""Every input is checked at the door, typed: an id is used for what it
holds, whatever a uuid.UUID subclass says of itself (its text, its bytes,
its int); an argument asyncpg cannot encode is InvalidInput; Store.open
refuses settings that make no sense, at the call."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from repositories import InvalidInput, Store, User
from repositories._generated import projects as project_queries
from tests.support import new_project

# Store.open's settings: each nonsense value and the field it is refused as.
NONSENSE_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"cursor_key": "not-bytes"}, "cursor_key"),
    ({"cursor_key": bytearray(32)}, "cursor_key"),
    ({"cursor_key": b"short"}, "cursor_key"),
    ({"cursor_key": b""}, "cursor_key"),
    ({"max_content_bytes": 0}, "max_content_bytes"),
    ({"max_content_bytes": -1}, "max_content_bytes"),
    ({"max_content_bytes": True}, "max_content_bytes"),
    ({"max_content_bytes": 1.5}, "max_content_bytes"),
    ({"max_sync_files": 0}, "max_sync_files"),
    ({"max_sync_bytes": -5}, "max_sync_bytes"),
    ({"min_size": -1}, "min_size"),
    ({"max_size": 0}, "max_size"),
    ({"min_size": 5, "max_size": 2}, "min_size"),
    ({"acquire_timeout": 0}, "acquire_timeout"),
    ({"acquire_timeout": -1.0}, "acquire_timeout"),
    ({"acquire_timeout": math.nan}, "acquire_timeout"),
    ({"acquire_timeout": math.inf}, "acquire_timeout"),
    ({"acquire_timeout": "10"}, "acquire_timeout"),
    ({"command_timeout": 0}, "command_timeout"),
    ({"command_timeout": -30.0}, "command_timeout"),
    ({"command_timeout": math.nan}, "command_timeout"),
    ({"statement_cache_size": -1}, "statement_cache_size"),
    ({"auth_dsn": 42}, "auth_dsn"),
    ({"allow_privileged_login_unsafe": "yes"}, "allow_privileged_login_unsafe"),
]


class TextLies(uuid.UUID):
    """Its text ends with the cursor's part separator (U+001F)."""

    def __str__(self) -> str:
        return super().__str__() + "\x1f"

    def __format__(self, spec: str) -> str:
        return str(self)


def bytes_lie(other: uuid.UUID) -> type[uuid.UUID]:
    """A UUID class whose bytes (what asyncpg sends for a UUID) are
    `other`'s, while its int and text are its own."""

    class BytesLie(uuid.UUID):
        @property
        def bytes(self) -> bytes:  # the lie itself
            return other.bytes

    return BytesLie


class IntLies(uuid.UUID):
    """Holds one value (uuid.UUID's own slot, which its bytes and text read
    as uuid.UUID computes them) and claims another through `int`."""

    claimed: uuid.UUID

    def __init__(self, held: uuid.UUID, claimed: uuid.UUID) -> None:
        uuid.UUID.__dict__["int"].__set__(self, held.int)
        object.__setattr__(self, "is_safe", uuid.SafeUUID.unknown)
        object.__setattr__(self, "claimed", claimed)

    @property  # type: ignore[misc]  # shadows the slot on purpose
    def int(self) -> int:
        return self.claimed.int


async def test_a_project_id_whose_text_lies_pages_through_its_files(
    store: Store, user: User
) -> None:
    """The cursor is signed for the id's value: the id's own text, holding
    the separator, used to raise a plain ValueError once a page had one."""
    project = await new_project(store, user)
    liar = TextLies(int=project.id.int)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "a")
        await uow.files.put(project.id, "b.txt", "b")
        first = await uow.files.list(liar, limit=1)
        assert first.next_cursor is not None
        second = await uow.files.list(liar, limit=1, cursor=first.next_cursor)
        # The same cursor serves the honest id: it is the same listing.
        again = await uow.files.list(project.id, limit=1, cursor=first.next_cursor)
    assert [e.path for e in first.items + second.items] == ["a.txt", "b.txt"]
    assert again == second
    assert second.next_cursor is None


async def test_a_project_id_whose_bytes_lie_acts_as_its_value(
    store: Store, user: User
) -> None:
    mine = await new_project(store, user, "mine")
    decoy = await new_project(store, user, "decoy")
    liar = bytes_lie(decoy.id)(int=mine.id.int)
    assert liar == mine.id
    assert liar.bytes == decoy.id.bytes
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.projects.get(liar)).name == "mine"
        await uow.files.put(liar, "a.txt", "a")
        assert [e.path for e in (await uow.files.list(mine.id)).items] == ["a.txt"]
        assert (await uow.files.list(decoy.id)).items == []


async def test_a_project_id_whose_int_lies_acts_as_the_value_it_holds(
    store: Store, user: User
) -> None:
    mine = await new_project(store, user, "mine")
    decoy = await new_project(store, user, "decoy")
    liar = IntLies(held=mine.id, claimed=decoy.id)
    assert liar.int == decoy.id.int
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.projects.get(liar)).name == "mine"
        assert (await uow.agent_states.save(liar, {"k": 1})).project_id == mine.id
        with pytest.raises(InvalidInput):
            await uow.agent_states.get(IntLies.__new__(IntLies))  # holds nothing


async def test_exists_checks_its_id(store: Store, user: User) -> None:
    """It sent a str on to asyncpg, whose refusal came out as unavailable."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.projects.exists(str(project.id))  # type: ignore[arg-type]  # the probe
        assert refused.value.field == "project_id"
        assert await uow.projects.exists(project.id)


async def test_a_query_argument_asyncpg_cannot_encode_is_invalid_input(
    store: Store, user: User
) -> None:
    """uow.run passes its arguments on as they are: asyncpg's refusal to
    encode one is the caller's input, not an outage, and nothing ran."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.run(
                project_queries.get_project,
                id="not a uuid",  # type: ignore[arg-type]  # the probe
                owner_id=user.id,
            )
        assert refused.value.code == "invalid_input"
        assert refused.value.detail is not None
        # The unit of work goes on, and commits.
        await uow.projects.update(project.id, name="renamed")
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.projects.get(project.id)).name == "renamed"


@pytest.mark.parametrize(
    ("settings", "field"),
    NONSENSE_SETTINGS,
    ids=[f"{field}={settings!r}" for settings, field in NONSENSE_SETTINGS],
)
def test_nonsense_settings_are_refused_at_the_call(
    app_url: str, settings: dict[str, Any], field: str
) -> None:
    """Refused by Store.open itself, before it is awaited: no connection,
    no listing that raises TypeError later."""
    with pytest.raises(InvalidInput) as refused:
        Store.open(app_url, **settings)
    assert refused.value.field == field


def test_a_dsn_that_is_not_a_str_is_refused_at_the_call() -> None:
    with pytest.raises(InvalidInput) as refused:
        Store.open(b"postgres://app_login@127.0.0.1/app")  # type: ignore[arg-type]  # the probe
    assert refused.value.field == "dsn"


async def test_a_cursor_key_is_taken_for_the_bytes_it_holds(
    app_url: str, user: User, store: Store
) -> None:
    """A bytes subclass is used for its content: cursors it signs are
    those of the plain key."""

    class Padded(bytes):
        def __len__(self) -> int:
            return 64

    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "a")
        await uow.files.put(project.id, "b.txt", "b")
    with pytest.raises(InvalidInput):
        Store.open(app_url, cursor_key=Padded(b"k" * 8))
    cursors = []
    for key in (Padded(b"k" * 32), b"k" * 32):
        async with (
            Store.open(app_url, cursor_key=key) as keyed,
            keyed.unit_of_work(user.id) as uow,
        ):
            cursors.append((await uow.files.list(project.id, limit=1)).next_cursor)
    assert cursors[0] is not None
    assert cursors[0] == cursors[1]
