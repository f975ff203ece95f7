"""uow.agent_states: one JSON object per project, versioned for compare-and-swap."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import Any

import asyncpg
import pytest

from repositories import (
    AgentState,
    Conflict,
    InvalidInput,
    NotFound,
    Project,
    RepositoryError,
    Store,
    User,
    VersionConflict,
)
from tests.persistence.helpers import (
    assert_indistinguishable,
    not_found_from,
)
from tests.support import LOCK_WAIT_GUARD_S, Backend, admin_fetchval, new_project

MIB = 1024 * 1024

NESTED_UNICODE_STATE: dict[str, Any] = {
    "goal": "Écrire un parseur — 日本語 🚀",
    "": "empty key is a valid JSON key",
    "ключ": {"vložený": ["ü", "𝄞", "\u2028", 'quote " and \\ backslash', "tab\tnl\n"]},
    "numbers": {
        "int": 42,
        "negative": -7,
        "zero": 0,
        "big": 2**62,
        "float": 0.1,
        "exp": 1.5e-300,
    },
    "flags": [True, False, None],
    "empty_object": {},
    "empty_list": [],
    "deep": {"a": {"b": {"c": {"d": [[[{"e": "bottom"}]]]}}}},
}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


async def count_states(database_url: str, project_id: uuid.UUID) -> int:
    count = await admin_fetchval(
        database_url,
        "SELECT count(*) FROM agent_states WHERE project_id = $1",
        project_id,
    )
    assert isinstance(count, int)
    return count


async def save(
    store: Store,
    owner: User,
    project_id: uuid.UUID,
    state: dict[str, Any],
    expected_version: int | None = None,
) -> AgentState:
    async with store.unit_of_work(owner.id) as uow:
        return await uow.agent_states.save(
            project_id, state, expected_version=expected_version
        )


async def load(store: Store, owner: User, project_id: uuid.UUID) -> AgentState:
    async with store.unit_of_work(owner.id) as uow:
        return await uow.agent_states.get(project_id)


async def load_or_none(
    store: Store, owner: User, project_id: uuid.UUID
) -> AgentState | None:
    async with store.unit_of_work(owner.id) as uow:
        try:
            return await uow.agent_states.get(project_id)
        except NotFound:
            return None


async def conflict_from(call: Awaitable[object]) -> Conflict:
    with pytest.raises(Conflict) as raised:
        await call
    return raised.value


def items_of(agent_state: AgentState) -> list[Any]:
    items = agent_state.state["items"]
    assert isinstance(items, list)
    return items


def tagged(value: Any) -> Any:
    """The value with every scalar paired with its type, key order ignored.

    == alone treats True as 1 and 1.0 as 1; a round trip must keep the types.
    """
    if isinstance(value, dict):
        return ("dict", sorted((key, tagged(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", [tagged(item) for item in value])
    return (type(value).__name__, value)


@pytest.fixture
async def project(store: Store, user: User) -> Project:
    return await new_project(store, user)


# --------------------------------------------------------------------------
# save / get / delete
# --------------------------------------------------------------------------


async def test_save_then_get_returns_the_state(
    store: Store, user: User, project: Project
) -> None:
    saved = await save(store, user, project.id, {"step": 1, "notes": ["a", "b"]})

    assert isinstance(saved, AgentState)
    assert saved.project_id == project.id
    assert saved.state == {"step": 1, "notes": ["a", "b"]}
    assert saved.version == 1
    assert saved.created_at.tzinfo is not None
    assert saved.updated_at >= saved.created_at
    assert await load(store, user, project.id) == saved


async def test_get_before_any_save_is_not_found(
    store: Store, user: User, project: Project
) -> None:
    async with store.unit_of_work(user.id) as uow:
        error = await not_found_from(uow.agent_states.get(project.id))

    assert isinstance(error, RepositoryError)
    assert str(error)


async def test_each_save_increments_the_version(
    store: Store, user: User, project: Project
) -> None:
    versions: list[int] = []
    for step in range(1, 5):
        saved = await save(store, user, project.id, {"step": step})
        versions.append(saved.version)

    assert versions == [1, 2, 3, 4]
    stored = await load(store, user, project.id)
    assert stored.version == 4
    assert stored.state == {"step": 4}


async def test_saves_in_one_unit_of_work_each_increment_the_version(
    store: Store, user: User, project: Project
) -> None:
    async with store.unit_of_work(user.id) as uow:
        first = await uow.agent_states.save(project.id, {"n": 1})
        second = await uow.agent_states.save(project.id, {"n": 2})
        assert await uow.agent_states.get(project.id) == second

    assert (first.version, second.version) == (1, 2)
    assert (await load(store, user, project.id)).state == {"n": 2}


async def test_save_replaces_the_whole_state(
    store: Store, user: User, project: Project
) -> None:
    await save(store, user, project.id, {"keep": 1, "drop": 2})
    await save(store, user, project.id, {"keep": 3})

    assert (await load(store, user, project.id)).state == {"keep": 3}


async def test_update_keeps_created_at_and_moves_updated_at(
    store: Store, user: User, project: Project
) -> None:
    first = await save(store, user, project.id, {"n": 1})
    second = await save(store, user, project.id, {"n": 2})

    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at


async def test_delete_removes_the_state(
    store: Store, database_url: str, user: User, project: Project
) -> None:
    await save(store, user, project.id, {"n": 1})

    async with store.unit_of_work(user.id) as uow:
        await uow.agent_states.delete(project.id)

    assert await count_states(database_url, project.id) == 0
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.agent_states.get(project.id))
        await not_found_from(uow.agent_states.delete(project.id))
        # The project itself stays.
        assert (await uow.projects.get(project.id)).id == project.id


async def test_delete_without_state_is_not_found(
    store: Store, user: User, project: Project
) -> None:
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.agent_states.delete(project.id))


async def test_save_after_delete_starts_above_the_deleted_version(
    store: Store, user: User, project: Project
) -> None:
    await save(store, user, project.id, {"n": 1})
    await save(store, user, project.id, {"n": 2})
    async with store.unit_of_work(user.id) as uow:
        await uow.agent_states.delete(project.id)

    again = await save(store, user, project.id, {"n": 3}, expected_version=0)

    # Versions 1 and 2 named the deleted state; they never come back.
    assert again.version == 3
    assert again.state == {"n": 3}


async def test_states_of_two_projects_are_independent(store: Store, user: User) -> None:
    first = await new_project(store, user, "First")
    second = await new_project(store, user, "Second")

    await save(store, user, first.id, {"which": "first"})
    await save(store, user, first.id, {"which": "first again"})
    await save(store, user, second.id, {"which": "second"})

    assert (await load(store, user, first.id)).version == 2
    loaded_second = await load(store, user, second.id)
    assert (loaded_second.version, loaded_second.state) == (1, {"which": "second"})


async def test_save_on_missing_project_is_not_found(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.agent_states.save(uuid.uuid4(), {"n": 1}))
        await not_found_from(
            uow.agent_states.save(uuid.uuid4(), {"n": 1}, expected_version=0)
        )
        await not_found_from(uow.agent_states.get(uuid.uuid4()))
        await not_found_from(uow.agent_states.delete(uuid.uuid4()))


# --------------------------------------------------------------------------
# expected_version
# --------------------------------------------------------------------------


async def test_expected_version_0_creates_when_none_exists(
    store: Store, user: User, project: Project
) -> None:
    created = await save(store, user, project.id, {"n": 1}, expected_version=0)

    assert created.version == 1
    assert await load(store, user, project.id) == created


async def test_expected_version_0_conflicts_when_one_exists(
    store: Store, user: User, project: Project
) -> None:
    await save(store, user, project.id, {"n": 1})
    existing = await save(store, user, project.id, {"n": 2})

    async with store.unit_of_work(user.id) as uow:
        conflict = await conflict_from(
            uow.agent_states.save(project.id, {"n": "lost"}, expected_version=0)
        )

    assert isinstance(conflict, RepositoryError)
    assert conflict.current_version == 2
    assert isinstance(conflict.resource, str)
    assert isinstance(conflict.reason, str)
    assert await load(store, user, project.id) == existing


async def test_expected_version_n_swaps_when_it_matches(
    store: Store, user: User, project: Project
) -> None:
    first = await save(store, user, project.id, {"n": 1})

    second = await save(store, user, project.id, {"n": 2}, expected_version=1)
    third = await save(store, user, project.id, {"n": 3}, expected_version=2)

    assert (first.version, second.version, third.version) == (1, 2, 3)
    assert (await load(store, user, project.id)).state == {"n": 3}


@pytest.mark.parametrize("wrong_version", [1, 3, 99])
async def test_wrong_expected_version_conflicts_with_current_version(
    store: Store, user: User, project: Project, wrong_version: int
) -> None:
    await save(store, user, project.id, {"n": 1})
    current = await save(store, user, project.id, {"n": 2})
    assert current.version == 2

    async with store.unit_of_work(user.id) as uow:
        conflict = await conflict_from(
            uow.agent_states.save(
                project.id, {"n": "lost"}, expected_version=wrong_version
            )
        )

    assert conflict.current_version == 2
    assert await load(store, user, project.id) == current


@pytest.mark.parametrize("expected_version", [1, 2])
async def test_expected_version_n_without_any_state_conflicts_with_none(
    store: Store,
    database_url: str,
    user: User,
    project: Project,
    expected_version: int,
) -> None:
    async with store.unit_of_work(user.id) as uow:
        conflict = await conflict_from(
            uow.agent_states.save(
                project.id, {"n": 1}, expected_version=expected_version
            )
        )

    assert conflict.current_version is None
    assert await count_states(database_url, project.id) == 0


@pytest.mark.parametrize(
    "bad_version",
    [
        pytest.param(-1, id="negative"),
        pytest.param("1", id="str"),
        pytest.param(1.0, id="float"),
        pytest.param(True, id="bool"),
    ],
)
async def test_expected_version_that_is_not_a_version_is_invalid_input(
    store: Store, user: User, project: Project, bad_version: Any
) -> None:
    current = await save(store, user, project.id, {"n": 1})

    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.agent_states.save(
                project.id, {"n": 2}, expected_version=bad_version
            )

    assert await load(store, user, project.id) == current


async def test_read_modify_write_loop_resolves_a_lost_update(
    store: Store, user: User, project: Project
) -> None:
    await save(store, user, project.id, {"items": []})
    reader_a = await load(store, user, project.id)
    reader_b = await load(store, user, project.id)

    # A writes first; B's write, based on the same version, must not win blindly.
    await save(
        store,
        user,
        project.id,
        {"items": [*items_of(reader_a), "from A"]},
        expected_version=reader_a.version,
    )
    async with store.unit_of_work(user.id) as uow:
        conflict = await conflict_from(
            uow.agent_states.save(
                project.id,
                {"items": [*items_of(reader_b), "from B"]},
                expected_version=reader_b.version,
            )
        )
        assert conflict.current_version == reader_b.version + 1
        # Re-read, merge, retry: the usual compare-and-swap loop.
        fresh = await uow.agent_states.get(project.id)
        assert fresh.version == conflict.current_version
        merged = await uow.agent_states.save(
            project.id,
            {"items": [*items_of(fresh), "from B"]},
            expected_version=fresh.version,
        )

    assert merged.version == 3
    assert (await load(store, user, project.id)).state == {
        "items": ["from A", "from B"]
    }


async def test_concurrent_compare_and_swap_loops_lose_no_increment(
    store: Store, user: User, project: Project
) -> None:
    await save(store, user, project.id, {"count": 0})
    workers = 5
    increments_each = 3

    # (version read, version the Conflict reported) for every lost race
    lost_races: list[tuple[int, int | None]] = []

    async def try_increment() -> bool:
        async with store.unit_of_work(user.id) as uow:
            current = await uow.agent_states.get(project.id)
            count = current.state["count"]
            assert isinstance(count, int)
            await asyncio.sleep(0)
            try:
                await uow.agent_states.save(
                    project.id,
                    {"count": count + 1},
                    expected_version=current.version,
                )
            except Conflict as conflict:
                lost_races.append((current.version, conflict.current_version))
                return False
        return True

    async def increment() -> None:
        for _ in range(increments_each):
            for _attempt in range(200):
                if await try_increment():
                    break
            else:
                pytest.fail("compare-and-swap never succeeded")

    await asyncio.wait_for(
        asyncio.gather(*(increment() for _ in range(workers))), timeout=120
    )

    final = await load(store, user, project.id)
    assert final.state == {"count": workers * increments_each}
    for read_version, reported_version in lost_races:
        assert reported_version is not None
        assert reported_version > read_version
    assert final.version == 1 + workers * increments_each


async def test_blocked_compare_and_swap_conflicts_once_the_winner_commits(
    store: Store,
    user: User,
    project: Project,
    superuser: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The loser's compare-and-swap reaches the row while the winner's unit
    of work holds it, waits on the winner's lock (its server process is seen
    waiting), and once the winner commits finds version 2: a Conflict."""
    await save(store, user, project.id, {"winner": None})
    loser_backend = Backend()

    async def loser() -> Conflict:
        async with store.unit_of_work(user.id) as uow:
            await loser_backend.is_(uow)
            with pytest.raises(Conflict) as raised:
                await uow.agent_states.save(
                    project.id, {"winner": "second"}, expected_version=1
                )
        return raised.value

    async with store.unit_of_work(user.id) as winner:
        won = await winner.agent_states.save(
            project.id, {"winner": "first"}, expected_version=1
        )
        losing = asyncio.create_task(loser())
        try:
            await loser_backend.waits_on_a_lock(superuser)
        except BaseException:
            losing.cancel()
            raise
    # The winner has committed: the waiting save now sees version 2.
    conflict = await asyncio.wait_for(losing, LOCK_WAIT_GUARD_S)

    assert won.version == 2
    assert conflict.current_version == 2
    final = await load(store, user, project.id)
    assert (final.version, final.state) == (2, {"winner": "first"})


async def test_upsert_without_expected_version_is_last_writer_wins(
    store: Store, user: User, project: Project
) -> None:
    await save(store, user, project.id, {"writer": "a"})
    await save(store, user, project.id, {"writer": "b"})

    final = await load(store, user, project.id)
    assert (final.version, final.state) == (2, {"writer": "b"})


# --------------------------------------------------------------------------
# state contents
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["\\u0000", "\\\\u0000", "u0000", "\\", "\\ud800"],
    ids=[
        "backslash-u0000",
        "two-backslashes-u0000",
        "u0000",
        "backslash",
        "backslash-ud800",
    ],
)
async def test_text_that_spells_an_escape_round_trips(
    store: Store, user: User, project: Project, text: str
) -> None:
    """The characters of an escape sequence are ordinary text: only a real
    NUL or lone surrogate is refused, wherever it is in the JSON text."""
    saved = await save(store, user, project.id, {text: text, "list": [text]})
    assert saved.state == {text: text, "list": [text]}
    assert (await load(store, user, project.id)).state == saved.state


async def test_nested_unicode_state_round_trips_exactly(
    store: Store, user: User, project: Project
) -> None:
    saved = await save(store, user, project.id, NESTED_UNICODE_STATE)
    loaded = await load(store, user, project.id)

    assert saved.state == NESTED_UNICODE_STATE
    assert loaded.state == NESTED_UNICODE_STATE
    assert tagged(saved.state) == tagged(NESTED_UNICODE_STATE)
    assert tagged(loaded.state) == tagged(NESTED_UNICODE_STATE)


async def test_empty_object_is_a_valid_state(
    store: Store, user: User, project: Project
) -> None:
    saved = await save(store, user, project.id, {})

    assert saved.state == {}
    assert (await load(store, user, project.id)).state == {}


async def test_state_just_under_one_mib_is_accepted(
    store: Store, user: User, project: Project
) -> None:
    state = {"blob": "x" * (MIB - 1024)}

    saved = await save(store, user, project.id, state)

    assert (await load(store, user, project.id)).state == state
    assert saved.version == 1


class NotJson:
    pass


BAD_STATES = [
    pytest.param([], id="list"),
    pytest.param([{"a": 1}], id="list-of-objects"),
    pytest.param("state", id="str"),
    pytest.param('{"a": 1}', id="json-text"),
    pytest.param(None, id="none"),
    pytest.param(42, id="int"),
    pytest.param({"a": float("nan")}, id="nan"),
    pytest.param({"a": float("inf")}, id="inf"),
    pytest.param({"a": float("-inf")}, id="minus-inf"),
    pytest.param({"a": [1, {"b": float("nan")}]}, id="nested-nan"),
    pytest.param({1: "x"}, id="int-key"),
    pytest.param({"a": {2: "x"}}, id="nested-int-key"),
    pytest.param({None: "x"}, id="none-key"),
    pytest.param({"a": "\x00"}, id="nul-value"),
    pytest.param({"a\x00": 1}, id="nul-key"),
    pytest.param({"a": ["ok", "b\x00c"]}, id="nested-nul"),
    # After a backslash: JSON text writes it "\\\u0000", the NUL still escaped.
    pytest.param({"a": "\\\x00"}, id="nul-after-backslash"),
    pytest.param({"a": "\\\\\x00"}, id="nul-after-two-backslashes"),
    pytest.param({"a": "\ud800"}, id="lone-surrogate"),
    pytest.param({"\udfff": 1}, id="lone-surrogate-key"),
    pytest.param({"a": "x" * (MIB + 1)}, id="over-one-mib"),
    pytest.param({"a": "é" * (MIB // 2 + 1)}, id="over-one-mib-in-utf8-bytes"),
    pytest.param({"a": {1, 2}}, id="set-value"),
    pytest.param({"a": b"bytes"}, id="bytes-value"),
    pytest.param({"a": NotJson()}, id="object-value"),
    pytest.param({"a": uuid.UUID(int=1)}, id="uuid-value"),
]


@pytest.mark.parametrize("bad_state", BAD_STATES)
async def test_bad_state_is_invalid_input_and_leaves_state_unchanged(
    store: Store, user: User, project: Project, bad_state: Any
) -> None:
    before = await save(store, user, project.id, {"good": True})

    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.agent_states.save(project.id, bad_state)
        with pytest.raises(InvalidInput):
            await uow.agent_states.save(
                project.id, bad_state, expected_version=before.version
            )

    assert await load(store, user, project.id) == before


@pytest.mark.parametrize("bad_state", BAD_STATES)
async def test_bad_state_creates_no_state(
    store: Store, database_url: str, user: User, project: Project, bad_state: Any
) -> None:
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.agent_states.save(project.id, bad_state, expected_version=0)

    assert await count_states(database_url, project.id) == 0
    assert await load_or_none(store, user, project.id) is None


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("str-form", id="uuid-as-str"),
        pytest.param("garbage", id="garbage-str"),
        pytest.param(7, id="int"),
        pytest.param(None, id="none"),
    ],
)
async def test_project_id_that_is_not_a_uuid_is_invalid_input(
    store: Store, user: User, project: Project, bad_id: object
) -> None:
    before = await save(store, user, project.id, {"n": 1})
    bad: Any = str(project.id) if bad_id == "str-form" else bad_id

    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.agent_states.get(bad)
        with pytest.raises(InvalidInput):
            await uow.agent_states.save(bad, {"n": 2})
        with pytest.raises(InvalidInput):
            await uow.agent_states.delete(bad)

    assert await load(store, user, project.id) == before


# --------------------------------------------------------------------------
# ownership
# --------------------------------------------------------------------------


async def test_other_user_get_is_not_found_like_a_random_id(
    store: Store, user: User, other_user: User, project: Project
) -> None:
    before = await save(store, user, project.id, {"secret": "mine"})
    random_id = uuid.uuid4()

    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(uow.agent_states.get(project.id))
        missing = await not_found_from(uow.agent_states.get(random_id))

    assert_indistinguishable(foreign, project.id, missing, random_id)
    assert await load(store, user, project.id) == before


@pytest.mark.parametrize("expected_version", [None, 0, 1, 2])
async def test_other_user_save_is_not_found_and_changes_nothing(
    store: Store,
    user: User,
    other_user: User,
    project: Project,
    expected_version: int | None,
) -> None:
    before = await save(store, user, project.id, {"secret": "mine"})
    random_id = uuid.uuid4()

    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(
            uow.agent_states.save(
                project.id, {"secret": "theirs"}, expected_version=expected_version
            )
        )
        missing = await not_found_from(
            uow.agent_states.save(
                random_id, {"secret": "theirs"}, expected_version=expected_version
            )
        )

    assert_indistinguishable(foreign, project.id, missing, random_id)
    assert await load(store, user, project.id) == before


@pytest.mark.parametrize("expected_version", [None, 0])
async def test_other_user_save_on_project_without_state_creates_nothing(
    store: Store,
    database_url: str,
    user: User,
    other_user: User,
    project: Project,
    expected_version: int | None,
) -> None:
    random_id = uuid.uuid4()

    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(
            uow.agent_states.save(
                project.id, {"planted": True}, expected_version=expected_version
            )
        )
        missing = await not_found_from(
            uow.agent_states.save(
                random_id, {"planted": True}, expected_version=expected_version
            )
        )

    assert_indistinguishable(foreign, project.id, missing, random_id)
    assert await count_states(database_url, project.id) == 0
    assert await load_or_none(store, user, project.id) is None


async def test_other_user_delete_is_not_found_and_deletes_nothing(
    store: Store, user: User, other_user: User, project: Project
) -> None:
    before = await save(store, user, project.id, {"secret": "mine"})
    random_id = uuid.uuid4()

    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(uow.agent_states.delete(project.id))
        missing = await not_found_from(uow.agent_states.delete(random_id))

    assert_indistinguishable(foreign, project.id, missing, random_id)
    assert await load(store, user, project.id) == before


async def test_foreign_state_and_missing_state_look_the_same(
    store: Store, user: User, other_user: User, project: Project
) -> None:
    """Another user cannot even learn whether the project has a state."""
    async with store.unit_of_work(other_user.id) as uow:
        foreign_without_state = await not_found_from(uow.agent_states.get(project.id))
    await save(store, user, project.id, {"now": "exists"})
    async with store.unit_of_work(other_user.id) as uow:
        foreign_with_state = await not_found_from(uow.agent_states.get(project.id))

    assert type(foreign_without_state) is type(foreign_with_state)
    assert foreign_without_state.resource == foreign_with_state.resource
    assert str(foreign_without_state) == str(foreign_with_state)


# ---------------------------------------------------------------------------
# conditional delete
# ---------------------------------------------------------------------------


async def test_delete_at_the_current_version_deletes(
    store: Store, user: User, project: Project
) -> None:
    saved = await save(store, user, project.id, {"n": 1})
    async with store.unit_of_work(user.id) as uow:
        await uow.agent_states.delete(project.id, expected_version=saved.version)
        await not_found_from(uow.agent_states.get(project.id))


@pytest.mark.parametrize("stale", [0, 1, 3])
async def test_delete_at_another_version_conflicts_and_keeps_the_state(
    store: Store, user: User, project: Project, stale: int
) -> None:
    await save(store, user, project.id, {"n": 1})
    current = await save(store, user, project.id, {"n": 2})
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(VersionConflict) as refused:
            await uow.agent_states.delete(project.id, expected_version=stale)
        assert refused.value.current_version == current.version
        assert refused.value.code == "version_conflict"
        # The unit of work goes on after the refusal.
        assert (await uow.agent_states.get(project.id)) == current


async def test_delete_at_a_version_of_no_state_is_not_found(
    store: Store, user: User, project: Project
) -> None:
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.agent_states.delete(project.id, expected_version=1))


@pytest.mark.parametrize("bad", [-1, True, "1", 1.0, 2**63])
async def test_delete_refuses_a_bad_expected_version(
    store: Store, user: User, project: Project, bad: Any
) -> None:
    await save(store, user, project.id, {"n": 1})
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.agent_states.delete(project.id, expected_version=bad)
        assert refused.value.field == "expected_version"
    assert (await load(store, user, project.id)).state == {"n": 1}
