"""store.unit_of_work: one transaction acting as one user, enforced by the database."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from repositories import (
    Conflict,
    InvalidInput,
    NotFound,
    Project,
    RepositoryError,
    Store,
    Unavailable,
    UnitOfWork,
    User,
)
from tests.persistence.helpers import not_found_from
from tests.support import (
    HandedOut,
    admin_fetchval,
    connection_of,
    new_project,
    new_user,
)

# A file as raw SQL would have to plant it: its content, its version in the
# history and the current row naming that version, in one statement (the
# foreign keys are checked at its end, so the three rows satisfy each other).
PLANT_FILE = (
    # Each row from the parameters (VALUES), not from the clause before it:
    # Citus would take an INSERT from a WITH result to the coordinator,
    # where COPY is refused under row-level security before any check.
    "WITH content AS ("
    " INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)"
    " VALUES ($1, $2, $6, $5, $4)"
    "), version AS ("
    " INSERT INTO file_versions"
    " (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)"
    " VALUES ($1, $2, $3, 1, 0, 'text', $5, $6)"
    ") INSERT INTO project_files"
    " (project_id, owner_id, path, size_bytes, sha256, version, kind)"
    " VALUES ($1, $2, $3, $5, $6, 1, 'text')"
)
PLANTED = ("planted.txt", b"x", 1, hashlib.sha256(b"x").hexdigest())
# A version of the agent state and a checkpoint, each a row of its own table.
PLANT_STATE_VERSION = (
    "INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)"
    " VALUES ($1, $2, 1000, 0, '{\"planted\": true}')"
)
PLANT_CHECKPOINT = (
    "INSERT INTO checkpoints (project_id, owner_id, label, generation)"
    " VALUES ($1, $2, 'planted', 1000)"
)
# The tables of a project's history and contents (project_files and
# agent_states are probed on their own).
HISTORY_TABLES = (
    "file_contents",
    "file_versions",
    "agent_state_versions",
    "checkpoints",
)


class Boom(Exception):
    """An application error raised inside a unit of work."""


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


async def count_of(database_url: str, query: str, *args: object) -> int:
    count = await admin_fetchval(database_url, query, *args)
    assert isinstance(count, int)
    return count


async def projects_owned(database_url: str, owner_id: uuid.UUID) -> int:
    return await count_of(
        database_url, "SELECT count(*) FROM projects WHERE owner_id = $1", owner_id
    )


async def get_project(store: Store, owner: User, project_id: uuid.UUID) -> Project:
    async with store.unit_of_work(owner.id) as uow:
        return await uow.projects.get(project_id)


async def actor_setting(uow: UnitOfWork) -> Any:
    return await connection_of(uow).fetchval(
        "SELECT current_setting('app.user_id', true)"
    )


async def current_role(uow: UnitOfWork) -> Any:
    return await connection_of(uow).fetchval("SELECT current_user")


async def execute_refused(uow: UnitOfWork, statement: str, *args: object) -> None:
    """Run a statement that must fail, inside a savepoint so the unit of work
    lives on. (Also the control: the same statement on the actor's own
    project succeeds, and is undone all the same.)"""
    await connection_of(uow).execute("SAVEPOINT refused_statement")
    try:
        await connection_of(uow).execute(statement, *args)
    finally:
        await connection_of(uow).execute("ROLLBACK TO SAVEPOINT refused_statement")


@pytest.fixture
async def single_connection_store(app_url: str, auth_url: str) -> AsyncIterator[Store]:
    async with Store.open(app_url, auth_dsn=auth_url, max_size=1, min_size=1) as opened:
        yield opened


# --------------------------------------------------------------------------
# commit and rollback
# --------------------------------------------------------------------------


async def test_leaving_the_block_commits_everything(
    store: Store, database_url: str, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("Committed")
        await uow.files.put(project.id, "a.txt", "alpha")
        await uow.agent_states.save(project.id, {"step": 1})

    assert await projects_owned(database_url, user.id) == 1
    async with store.unit_of_work(user.id) as uow:
        assert await uow.projects.get(project.id) == project
        assert (await uow.files.get(project.id, "a.txt")).content == "alpha"
        assert (await uow.agent_states.get(project.id)).state == {"step": 1}


async def test_work_is_invisible_to_others_until_commit(
    store: Store, database_url: str, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("Pending")
        assert await projects_owned(database_url, user.id) == 0

    assert await projects_owned(database_url, user.id) == 1
    assert (await get_project(store, user, project.id)).name == "Pending"


async def test_an_exception_rolls_back_everything(
    store: Store, database_url: str, user: User
) -> None:
    created: list[Project] = []

    async def write_then_fail() -> None:
        async with store.unit_of_work(user.id) as uow:
            project = await uow.projects.create("Rolled back")
            created.append(project)
            await uow.files.put(project.id, "a.txt", "alpha")
            await uow.agent_states.save(project.id, {"step": 1})
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()

    (project,) = created
    assert await projects_owned(database_url, user.id) == 0
    assert (
        await count_of(
            database_url,
            "SELECT count(*) FROM project_files WHERE project_id = $1",
            project.id,
        )
        == 0
    )
    assert (
        await count_of(
            database_url,
            "SELECT count(*) FROM agent_states WHERE project_id = $1",
            project.id,
        )
        == 0
    )
    # Nor a version or a content row: the history is written by the same
    # transaction and goes with it.
    for table in HISTORY_TABLES:
        assert (
            await count_of(
                database_url,
                f"SELECT count(*) FROM {table} WHERE project_id = $1",
                project.id,
            )
            == 0
        ), table
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.projects.get(project.id))
        assert (await uow.projects.list()).items == []


async def test_an_exception_rolls_back_updates_and_deletes(
    store: Store, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        kept = await uow.projects.create("Kept", "original")
        doomed = await uow.projects.create("Would be deleted")
        await uow.files.put(kept.id, "a.txt", "original content")
        state = await uow.agent_states.save(kept.id, {"v": "original"})

    async def change_then_fail() -> None:
        async with store.unit_of_work(user.id) as uow:
            await uow.projects.update(kept.id, name="Renamed", description=None)
            await uow.files.put(kept.id, "a.txt", "changed content")
            await uow.files.put(kept.id, "b.txt", "new file")
            await uow.agent_states.save(kept.id, {"v": "changed"})
            await uow.projects.delete(doomed.id)
            raise Boom

    with pytest.raises(Boom):
        await change_then_fail()

    async with store.unit_of_work(user.id) as uow:
        assert await uow.projects.get(kept.id) == kept
        assert await uow.projects.get(doomed.id) == doomed
        assert await uow.agent_states.get(kept.id) == state
        assert (await uow.files.get(kept.id, "a.txt")).content == "original content"
        await not_found_from(uow.files.get(kept.id, "b.txt"))


async def test_an_uncaught_repository_error_rolls_back_earlier_work(
    store: Store, database_url: str, user: User
) -> None:
    async def create_then_miss() -> None:
        async with store.unit_of_work(user.id) as uow:
            await uow.projects.create("Before the error")
            await uow.projects.get(uuid.uuid4())

    with pytest.raises(NotFound):
        await create_then_miss()

    assert await projects_owned(database_url, user.id) == 0


# --------------------------------------------------------------------------
# caught errors leave the unit of work usable
# --------------------------------------------------------------------------


async def test_caught_not_found_then_go_on_and_commit(
    store: Store, database_url: str, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        before = await uow.projects.create("Before")
        with pytest.raises(NotFound):
            await uow.projects.get(uuid.uuid4())
        with pytest.raises(NotFound):
            await uow.agent_states.get(before.id)
        with pytest.raises(NotFound):
            await uow.projects.delete(uuid.uuid4())
        after = await uow.projects.create("After")
        await uow.agent_states.save(after.id, {"ok": True})

    assert await projects_owned(database_url, user.id) == 2
    assert await get_project(store, user, before.id) == before
    assert await get_project(store, user, after.id) == after


async def test_caught_conflict_then_correct_save_commits(
    store: Store, user: User
) -> None:
    project = await new_project(store, user, "Stateful")
    async with store.unit_of_work(user.id) as uow:
        await uow.agent_states.save(project.id, {"n": 1})

    async with store.unit_of_work(user.id) as uow:
        sibling = await uow.projects.create("Created before the conflict")
        with pytest.raises(Conflict) as raised:
            await uow.agent_states.save(project.id, {"n": "lost"}, expected_version=7)
        assert raised.value.current_version == 1
        with pytest.raises(Conflict):
            await uow.agent_states.save(project.id, {"n": "lost"}, expected_version=0)
        saved = await uow.agent_states.save(
            project.id, {"n": 2}, expected_version=raised.value.current_version
        )
        assert saved.version == 2

    async with store.unit_of_work(user.id) as uow:
        state = await uow.agent_states.get(project.id)
        assert (state.version, state.state) == (2, {"n": 2})
        # Work done before the conflict in the same unit of work was kept.
        assert await uow.projects.get(sibling.id) == sibling


async def test_caught_file_conflict_then_go_on_and_commit(
    store: Store, user: User
) -> None:
    project = await new_project(store, user, "Files")
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "taken.txt", "first")

    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "fresh.txt", "written before the conflict")
        with pytest.raises(Conflict):
            await uow.files.put(project.id, "taken.txt", "second", expected_version=0)
        with pytest.raises(Conflict):
            await uow.files.move(project.id, "fresh.txt", "taken.txt")
        await uow.files.put(project.id, "later.txt", "written after the conflict")

    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.get(project.id, "taken.txt")).content == "first"
        assert (
            await uow.files.get(project.id, "fresh.txt")
        ).content == "written before the conflict"
        assert (
            await uow.files.get(project.id, "later.txt")
        ).content == "written after the conflict"


async def test_caught_invalid_input_then_go_on_and_commit(
    store: Store, database_url: str, user: User
) -> None:
    bad_name: Any = "\x07"
    async with store.unit_of_work(user.id) as uow:
        first = await uow.projects.create("First")
        with pytest.raises(InvalidInput):
            await uow.projects.create(bad_name)
        with pytest.raises(InvalidInput):
            await uow.agent_states.save(first.id, {"a": float("nan")})
        second = await uow.projects.create("Second")

    assert await projects_owned(database_url, user.id) == 2
    assert (await get_project(store, user, second.id)).name == "Second"


# --------------------------------------------------------------------------
# the actor
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_user_id",
    [
        pytest.param("str-form", id="uuid-as-str"),
        pytest.param("garbage", id="garbage-str"),
        pytest.param(42, id="int"),
        pytest.param(None, id="none"),
        pytest.param(uuid.uuid4().bytes, id="bytes"),
    ],
)
async def test_unit_of_work_for_a_user_id_that_is_not_a_uuid_is_invalid_input(
    store: Store, database_url: str, user: User, bad_user_id: object
) -> None:
    bad: Any = str(user.id) if bad_user_id == "str-form" else bad_user_id
    entered: list[bool] = []

    async def act_as_bad_id() -> None:
        async with store.unit_of_work(bad) as uow:
            entered.append(True)
            await uow.projects.create("Must not exist")

    with pytest.raises(InvalidInput):
        await act_as_bad_id()

    assert entered == []
    assert await projects_owned(database_url, user.id) == 0


async def test_unit_of_work_for_an_unknown_user_creates_nothing(
    store: Store, database_url: str
) -> None:
    ghost = uuid.uuid4()

    async def act_as_ghost() -> None:
        async with store.unit_of_work(ghost) as uow:
            await uow.projects.create("Orphan")

    with pytest.raises(RepositoryError):
        await act_as_ghost()

    assert await projects_owned(database_url, ghost) == 0


async def test_unit_of_work_runs_as_app_user_with_the_actor_id(
    store: Store, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        assert await actor_setting(uow) == str(user.id)
        assert await current_role(uow) == "app_user"


async def test_two_open_units_of_work_keep_their_own_actor(
    store: Store, user: User, other_user: User
) -> None:
    async with (
        store.unit_of_work(user.id) as uow_user,
        store.unit_of_work(other_user.id) as uow_other,
    ):
        assert connection_of(uow_user) is not connection_of(uow_other)
        mine = await uow_user.projects.create("Mine")
        theirs = await uow_other.projects.create("Theirs")
        assert await actor_setting(uow_user) == str(user.id)
        assert await actor_setting(uow_other) == str(other_user.id)
        await not_found_from(uow_other.projects.get(mine.id))
        await not_found_from(uow_user.projects.get(theirs.id))

    assert (await get_project(store, user, mine.id)).owner_id == user.id
    assert (await get_project(store, other_user, theirs.id)).owner_id == other_user.id


# --------------------------------------------------------------------------
# the database alone enforces tenancy
# --------------------------------------------------------------------------


async def test_raw_sql_without_ownership_predicate_sees_only_the_actors_rows(
    store: Store, user: User, other_user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        victim = await uow.projects.create("Victim", "untouched")
        await uow.files.put(victim.id, "a.txt", "alpha")
        await uow.files.put(victim.id, "dir/b.txt", "beta")
        victim_state = await uow.agent_states.save(victim.id, {"secret": 1})
        victim_checkpoint = await uow.checkpoints.create(victim.id, "victim's")
    async with store.unit_of_work(other_user.id) as uow:
        own = await uow.projects.create("Own")
        await uow.files.put(own.id, "own.txt", "own")
        await uow.agent_states.save(own.id, {"own": True})
        await uow.checkpoints.create(own.id, "own")

    async with store.unit_of_work(other_user.id) as uow:
        conn = connection_of(uow)
        assert await conn.fetchval("SELECT count(*) FROM projects") == 1
        assert [r[0] for r in await conn.fetch("SELECT id FROM projects")] == [own.id]
        assert await conn.fetchval("SELECT count(*) FROM project_files") == 1
        assert await conn.fetchval("SELECT count(*) FROM agent_states") == 1
        # The history and the contents: only the actor's one file version,
        # its content, its one agent state version and its checkpoint.
        for table in HISTORY_TABLES:
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1, table
            assert [
                r[0] for r in await conn.fetch(f"SELECT project_id FROM {table}")
            ] == [own.id], table
        assert await conn.fetchval("SELECT content FROM file_contents") == b"own"
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM projects WHERE id = $1 OR owner_id = $2",
                victim.id,
                user.id,
            )
            == 0
        )
        assert await conn.execute("UPDATE projects SET name = 'x'") == "UPDATE 1"
        assert (
            await conn.execute(
                "UPDATE projects SET description = 'pwned' WHERE id = $1", victim.id
            )
            == "UPDATE 0"
        )
        assert (
            await conn.execute("UPDATE agent_states SET state = '{\"pwned\": true}'")
            == "UPDATE 1"
        )
        assert (
            await conn.execute("UPDATE checkpoints SET label = 'pwned'") == "UPDATE 1"
        )
        assert await conn.execute("DELETE FROM project_files") == "DELETE 1"
        assert (
            await conn.execute(
                "DELETE FROM agent_states WHERE project_id = $1", victim.id
            )
            == "DELETE 0"
        )
        for table in HISTORY_TABLES:
            assert (
                await conn.execute(
                    f"DELETE FROM {table} WHERE project_id = $1", victim.id
                )
                == "DELETE 0"
            ), table
        assert (
            await conn.execute("DELETE FROM projects WHERE id = $1", victim.id)
            == "DELETE 0"
        )
        # Writes that would plant rows under the victim's name are refused too.
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await execute_refused(
                uow,
                "INSERT INTO projects (owner_id, name) VALUES ($1, 'planted')",
                user.id,
            )
        for plant, planted in (
            (PLANT_FILE, PLANTED),
            (PLANT_STATE_VERSION, ()),
            (PLANT_CHECKPOINT, ()),
        ):
            # The control: in the actor's own project the statement stores
            # its rows (undone at once), so what refuses it below is whose
            # project it names.
            await execute_refused(uow, plant, own.id, other_user.id, *planted)
            # Under the victim's owner id: row-level security refuses the row.
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                await execute_refused(uow, plant, victim.id, user.id, *planted)
            # Under the actor's own id: the composite foreign key refuses it.
            with pytest.raises(asyncpg.exceptions.ForeignKeyViolationError) as refused:
                await execute_refused(uow, plant, victim.id, other_user.id, *planted)
            # The key, by name: Citus passes a worker's constraint name on
            # only in the message (with the shard's suffix).
            constraint = refused.value.as_dict().get("constraint_name") or str(
                refused.value
            )
            assert any(
                key in constraint
                for key in (
                    "file_contents_project_fkey",
                    "file_versions_project_fkey",
                    "project_files_project_fkey",
                    "agent_state_versions_project_fkey",
                    "checkpoints_project_fkey",
                )
            ), constraint
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await execute_refused(
                uow, "UPDATE projects SET owner_id = $1 WHERE id = $2", user.id, own.id
            )
        # The repositories still work in this unit of work after the raw SQL.
        assert (await uow.projects.get(own.id)).name == "x"

    async with store.unit_of_work(user.id) as uow:
        assert await uow.projects.get(victim.id) == victim
        files = await uow.files.list(victim.id)
        assert [entry.path for entry in files.items] == ["a.txt", "dir/b.txt"]
        assert (await uow.files.get(victim.id, "a.txt")).content == "alpha"
        assert [
            entry.version
            for entry in (await uow.files.history(victim.id, "a.txt")).items
        ] == [1]
        assert await uow.agent_states.get(victim.id) == victim_state
        assert (await uow.checkpoints.list(victim.id)).items == [victim_checkpoint]
        assert await connection_of(uow).fetchval("SELECT count(*) FROM projects") == 1
    async with store.unit_of_work(other_user.id) as uow:
        assert (await uow.agent_states.get(own.id)).state == {"pwned": True}
        assert (await uow.files.list(own.id)).items == []
        assert [
            checkpoint.label
            for checkpoint in (await uow.checkpoints.list(own.id)).items
        ] == ["pwned"]


# --------------------------------------------------------------------------
# one pooled connection shared by several users
# --------------------------------------------------------------------------


async def test_interleaved_users_on_one_connection_never_share_the_actor(
    single_connection_store: Store,
) -> None:
    single = single_connection_store
    alice = await new_user(single, "Alice")
    bob = await new_user(single, "Bob")
    alice_project = await new_project(single, alice, "Alice's")
    bob_project = await new_project(single, bob, "Bob's")
    pids: set[int] = set()

    for actor, own_project in [
        (alice, alice_project),
        (bob, bob_project),
        (alice, alice_project),
        (bob, bob_project),
    ]:
        async with single.unit_of_work(actor.id) as uow:
            pids.add(connection_of(uow).get_server_pid())
            assert await actor_setting(uow) == str(actor.id)
            assert await current_role(uow) == "app_user"
            visible = await connection_of(uow).fetch("SELECT id FROM projects")
            assert [row[0] for row in visible] == [own_project.id]
            listed = await uow.projects.list()
            assert [project.id for project in listed.items] == [own_project.id]

    assert len(pids) == 1, "max_size=1 should reuse one connection"
    # app_user may not insert users: this works only if the role did not leak.
    carol = await new_user(single, "Carol")
    assert (await single.users.get(carol.id)).name == "Carol"


async def test_actor_does_not_survive_a_failed_or_conflicted_unit_of_work(
    single_connection_store: Store,
) -> None:
    single = single_connection_store
    alice = await new_user(single, "Alice")
    bob = await new_user(single, "Bob")
    alice_project = await new_project(single, alice, "Alice's")
    async with single.unit_of_work(alice.id) as uow:
        await uow.agent_states.save(alice_project.id, {"n": 1})

    async def create_then_fail() -> None:
        async with single.unit_of_work(alice.id) as uow:
            await uow.projects.create("Rolled back")
            raise Boom

    with pytest.raises(Boom):
        await create_then_fail()
    async with single.unit_of_work(bob.id) as uow:
        assert await actor_setting(uow) == str(bob.id)
        assert await current_role(uow) == "app_user"
        assert await connection_of(uow).fetchval("SELECT count(*) FROM projects") == 0

    async with single.unit_of_work(alice.id) as uow:
        with pytest.raises(Conflict):
            await uow.agent_states.save(alice_project.id, {"n": 2}, expected_version=0)
    async with single.unit_of_work(bob.id) as uow:
        assert await actor_setting(uow) == str(bob.id)
        await not_found_from(uow.agent_states.get(alice_project.id))

    async with single.unit_of_work(alice.id) as uow:
        assert [p.id for p in (await uow.projects.list()).items] == [alice_project.id]
        assert (await uow.agent_states.get(alice_project.id)).version == 1


async def test_pool_connection_outside_a_unit_of_work_has_no_actor(
    app_url: str, store: Store
) -> None:
    handed_out = HandedOut()
    alice = await new_user(store, "Alice")
    async with Store.open(app_url, min_size=1, max_size=1, setup=handed_out) as single:
        await new_project(single, alice, "Alice's")
        async with single.unit_of_work(alice.id) as uow:
            assert await actor_setting(uow) == str(alice.id)

        after = await handed_out.next_borrower(single)
    assert after.actor in (None, "")
    assert after.user != "app_user"
    assert not after.in_transaction
    # One connection all along: it is the one the unit of work used.
    assert {seen.pid for seen in handed_out.seen} == {after.pid}


# --------------------------------------------------------------------------
# the database going away
# --------------------------------------------------------------------------


async def test_broken_connection_is_unavailable_and_leaves_nothing_partial(
    single_connection_store: Store, database_url: str
) -> None:
    single = single_connection_store
    alice = await new_user(single, "Alice")

    async def write_while_the_connection_dies() -> None:
        async with single.unit_of_work(alice.id) as uow:
            await uow.projects.create("Half done")
            pid = connection_of(uow).get_server_pid()
            # ::int: Citus's pg_terminate_backend(bigint) makes $1 ambiguous.
            terminated = await admin_fetchval(
                database_url, "SELECT pg_terminate_backend($1::int)", pid
            )
            assert terminated is True
            await asyncio.sleep(0.2)
            await uow.projects.create("Never written")

    with pytest.raises(Unavailable):
        await write_while_the_connection_dies()

    assert await projects_owned(database_url, alice.id) == 0
    # The store recovers: the pool replaces the broken connection.
    project = await new_project(single, alice, "After the outage")
    assert (await get_project(single, alice, project.id)).name == "After the outage"


async def test_unreachable_database_is_unavailable() -> None:
    unreachable = "postgresql://nobody:nothing@127.0.0.1:1/nowhere"

    async def use_it() -> None:
        async with Store.open(unreachable) as store:
            await store.users.get(uuid.uuid4())

    with pytest.raises(Unavailable):
        await asyncio.wait_for(use_it(), timeout=60)
