"""Tenancy: another user's resources are indistinguishable from missing ones,
and the database enforces it on its own.

1. Every repository method, called by `other_user` on `user`'s project, raises
   a NotFound equal (type, .resource, str()) to the one for a random project
   id, and changes nothing anywhere in the database.
2. Raw SQL on `connection_of(uow)` (role app_user, app.user_id = the actor) without
   ownership predicates sees and changes nothing of another tenant's rows;
   writes that would plant or move rows into another tenant fail.
3. With no actor set, app_user sees no rows at all.
4. A pooled connection carries nothing from one unit of work to the next.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias

import asyncpg
import pytest

from devtools import citusdb, database
from repositories import (
    InvalidInput,
    NotFound,
    Project,
    RepositoryError,
    RetentionPolicy,
    Store,
    UnitOfWork,
    User,
)
from repositories import _database as repositories_database
from tests.support import HandedOut, Session, connection_of, session_of

from .helpers import attempt, snapshot

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
Pooled: TypeAlias = Callable[[], Awaitable[Session]]
APP_ROLE = "app_user"
# Every table holding tenants' rows; projects first.
TENANT_TABLES = (
    "projects",
    "project_files",
    "agent_states",
    "file_contents",
    "file_versions",
    "agent_state_versions",
    "checkpoints",
)
SEED = {"a.txt": "alpha", "dir/b.txt": "beta", "dir/sub/c.txt": "gamma"}
BINARY_SECRET = b"\x00binary secret\xff"
# Removes whatever any policy could: no version, checkpoint or age is kept.
PRUNE_ALL = RetentionPolicy(
    keep_versions=0,
    keep_for=timedelta(0),
    keep_checkpoints=0,
    keep_checkpoints_for=timedelta(0),
)


class Rollback(Exception):
    """Raised at the end of a unit of work to undo what it did."""


@dataclass(frozen=True)
class Tenants:
    user: User
    project: Project  # SEED files and an agent state
    bare: Project  # no files, no agent state
    files_cursor: str  # page 1 of project's files
    projects_cursor: str  # page 1 of user's projects
    history_cursor: str  # page 1 of the history of project's "a.txt"
    checkpoint: uuid.UUID  # project's first checkpoint
    later_checkpoint: uuid.UUID  # project's second checkpoint
    checkpoints_cursor: str  # page 1 of project's checkpoints
    other: User
    own: Project  # other's project: "mine.txt", an agent state, a checkpoint
    own_checkpoint: uuid.UUID


@pytest.fixture
async def tenants(store: Store, user: User, other_user: User) -> Tenants:
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("victim", description="secret")
        for path, content in SEED.items():
            await uow.files.put(project.id, path, content)
        await uow.agent_states.save(project.id, {"secret": "s3cr3t"})
        checkpoint = await uow.checkpoints.create(project.id, "victim's")
        # a.txt gets a history: alpha (1), binary (2), alpha again (3).
        await uow.files.put(project.id, "a.txt", BINARY_SECRET)
        await uow.files.put(project.id, "a.txt", SEED["a.txt"])
        await uow.agent_states.save(project.id, {"secret": "s3cr3t, later"})
        later_checkpoint = await uow.checkpoints.create(project.id)
        bare = await uow.projects.create("victim, bare")
        await uow.projects.create("victim, third")
        files_cursor = (await uow.files.list(project.id, limit=1)).next_cursor
        projects_cursor = (await uow.projects.list(limit=1)).next_cursor
        history_cursor = (
            await uow.files.history(project.id, "a.txt", limit=1)
        ).next_cursor
        checkpoints_cursor = (
            await uow.checkpoints.list(project.id, limit=1)
        ).next_cursor
        project = await uow.projects.get(project.id)
    async with store.unit_of_work(other_user.id) as uow:
        own = await uow.projects.create("attacker")
        await uow.files.put(own.id, "mine.txt", "mine")
        await uow.agent_states.save(own.id, {"mine": True})
        own_checkpoint = await uow.checkpoints.create(own.id, "mine")
    assert files_cursor is not None
    assert projects_cursor is not None
    assert history_cursor is not None
    assert checkpoints_cursor is not None
    return Tenants(
        user,
        project,
        bare,
        files_cursor,
        projects_cursor,
        history_cursor,
        checkpoint.id,
        later_checkpoint.id,
        checkpoints_cursor,
        other_user,
        own,
        own_checkpoint.id,
    )


# ---------------------------------------------------------------------------
# 1. every method: the other tenant's resource looks exactly like a missing one
# ---------------------------------------------------------------------------

# (uow of other_user, target project id, the fixture) -> the call
Probe = Callable[[UnitOfWork, uuid.UUID, Tenants], Awaitable[object]]


def files_cursor_for(t: Tenants, project_id: uuid.UUID) -> str | None:
    """user's real cursor when probing user's project; none for a random id
    (a cursor is bound to its project, so it would be InvalidInput there)."""
    return t.files_cursor if project_id == t.project.id else None


def history_cursor_for(t: Tenants, project_id: uuid.UUID) -> str | None:
    return t.history_cursor if project_id == t.project.id else None


def checkpoints_cursor_for(t: Tenants, project_id: uuid.UUID) -> str | None:
    return t.checkpoints_cursor if project_id == t.project.id else None


PROBES: list[tuple[str, Probe]] = [
    ("projects.get", lambda u, pid, t: u.projects.get(pid)),
    ("projects.update-name", lambda u, pid, t: u.projects.update(pid, name="pwned")),
    (
        "projects.update-description",
        lambda u, pid, t: u.projects.update(pid, description=None),
    ),
    ("projects.delete", lambda u, pid, t: u.projects.delete(pid)),
    ("files.put", lambda u, pid, t: u.files.put(pid, "a.txt", "pwned")),
    ("files.put-new-path", lambda u, pid, t: u.files.put(pid, "planted.txt", "x")),
    (
        "files.put-expected-0",
        lambda u, pid, t: u.files.put(pid, "planted.txt", "x", expected_version=0),
    ),
    (
        "files.put-expected-1",
        lambda u, pid, t: u.files.put(pid, "a.txt", "pwned", expected_version=1),
    ),
    (
        "files.put-same-content",
        lambda u, pid, t: u.files.put(pid, "a.txt", "alpha"),
    ),
    ("files.get", lambda u, pid, t: u.files.get(pid, "a.txt")),
    ("files.get-missing-path", lambda u, pid, t: u.files.get(pid, "nope.txt")),
    ("files.list", lambda u, pid, t: u.files.list(pid)),
    ("files.list-prefix", lambda u, pid, t: u.files.list(pid, prefix="dir/")),
    (
        "files.list-with-users-cursor",
        lambda u, pid, t: u.files.list(pid, limit=1, cursor=files_cursor_for(t, pid)),
    ),
    ("files.move", lambda u, pid, t: u.files.move(pid, "a.txt", "moved.txt")),
    (
        "files.move-onto-existing",
        lambda u, pid, t: u.files.move(pid, "a.txt", "dir/b.txt"),
    ),
    (
        "files.move-own-file-into-foreign-project",
        lambda u, pid, t: u.files.move(pid, "mine.txt", "stolen.txt"),
    ),
    ("files.delete", lambda u, pid, t: u.files.delete(pid, "a.txt")),
    (
        "files.delete-expected-1",
        lambda u, pid, t: u.files.delete(pid, "a.txt", expected_version=1),
    ),
    ("files.sync-empty", lambda u, pid, t: u.files.sync(pid, {})),
    (
        "files.sync-replace",
        lambda u, pid, t: u.files.sync(pid, {"a.txt": "pwned", "planted.txt": "x"}),
    ),
    (
        "files.sync-keep",
        lambda u, pid, t: u.files.sync(pid, {"planted.txt": "x"}, delete_missing=False),
    ),
    ("agent_states.get", lambda u, pid, t: u.agent_states.get(pid)),
    ("agent_states.save", lambda u, pid, t: u.agent_states.save(pid, {"pwned": 1})),
    (
        "agent_states.save-expected-0",
        lambda u, pid, t: u.agent_states.save(pid, {"pwned": 1}, expected_version=0),
    ),
    (
        "agent_states.save-expected-1",
        lambda u, pid, t: u.agent_states.save(pid, {"pwned": 1}, expected_version=1),
    ),
    ("agent_states.delete", lambda u, pid, t: u.agent_states.delete(pid)),
    ("files.put-bytes", lambda u, pid, t: u.files.put(pid, "a.txt", b"\x00pwned")),
    (
        "files.put-same-content-as-bytes",
        lambda u, pid, t: u.files.put(pid, "a.txt", b"alpha"),
    ),
    (
        "files.sync-bytes",
        lambda u, pid, t: u.files.sync(pid, {"a.txt": BINARY_SECRET}),
    ),
    ("files.history", lambda u, pid, t: u.files.history(pid, "a.txt")),
    ("files.history-missing-path", lambda u, pid, t: u.files.history(pid, "no.txt")),
    (
        "files.history-with-users-cursor",
        lambda u, pid, t: u.files.history(
            pid, "a.txt", limit=1, cursor=history_cursor_for(t, pid)
        ),
    ),
    ("files.get-version-1", lambda u, pid, t: u.files.get(pid, "a.txt", version=1)),
    (
        "files.get-binary-version",
        lambda u, pid, t: u.files.get(pid, "a.txt", version=2),
    ),
    (
        "files.get-missing-version",
        lambda u, pid, t: u.files.get(pid, "a.txt", version=99),
    ),
    ("checkpoints.create", lambda u, pid, t: u.checkpoints.create(pid)),
    (
        "checkpoints.create-labelled",
        lambda u, pid, t: u.checkpoints.create(pid, "planted"),
    ),
    ("checkpoints.list", lambda u, pid, t: u.checkpoints.list(pid)),
    (
        "checkpoints.list-with-users-cursor",
        lambda u, pid, t: u.checkpoints.list(
            pid, limit=1, cursor=checkpoints_cursor_for(t, pid)
        ),
    ),
    ("checkpoints.get", lambda u, pid, t: u.checkpoints.get(pid, t.checkpoint)),
    (
        "checkpoints.get-own-checkpoint",
        lambda u, pid, t: u.checkpoints.get(pid, t.own_checkpoint),
    ),
    (
        "checkpoints.delete",
        lambda u, pid, t: u.checkpoints.delete(pid, t.checkpoint),
    ),
    (
        "checkpoints.restore",
        lambda u, pid, t: u.checkpoints.restore(pid, t.checkpoint),
    ),
    (
        "checkpoints.restore-own-checkpoint",
        lambda u, pid, t: u.checkpoints.restore(pid, t.own_checkpoint),
    ),
    ("checkpoints.diff", lambda u, pid, t: u.checkpoints.diff(pid, t.checkpoint)),
    (
        "checkpoints.diff-two",
        lambda u, pid, t: u.checkpoints.diff(pid, t.checkpoint, t.later_checkpoint),
    ),
    ("retention.prune", lambda u, pid, t: u.retention.prune(pid)),
    ("retention.prune-all", lambda u, pid, t: u.retention.prune(pid, PRUNE_ALL)),
    ("retention.reclaim", lambda u, pid, t: u.retention.reclaim(pid)),
]


async def not_found(call: Awaitable[object]) -> NotFound:
    with pytest.raises(NotFound) as raised:
        await call
    return raised.value


def assert_same_not_found(foreign: NotFound, missing: NotFound) -> None:
    assert type(foreign) is type(missing) is NotFound
    assert foreign.resource == missing.resource
    assert str(foreign) == str(missing)
    assert foreign.args == missing.args


@pytest.mark.parametrize("probe", [pytest.param(p, id=name) for name, p in PROBES])
@pytest.mark.parametrize(
    "target",
    ["project", "bare"],
    ids=["project-with-files-and-state", "project-without"],
)
async def test_other_users_resource_is_indistinguishable_from_a_missing_one(
    store: Store, admin: Admin, tenants: Tenants, probe: Probe, target: str
) -> None:
    victim = tenants.project if target == "project" else tenants.bare
    before = await snapshot(admin)
    async with store.unit_of_work(tenants.other.id) as uow:
        foreign = await not_found(probe(uow, victim.id, tenants))
        missing = await not_found(probe(uow, uuid.uuid4(), tenants))
        assert_same_not_found(foreign, missing)
        # The unit of work goes on after NotFound.
        assert await uow.projects.get(tenants.own.id) == tenants.own
    assert await snapshot(admin) == before
    # The owner still sees everything as it was.
    async with store.unit_of_work(tenants.user.id) as uow:
        assert await uow.projects.get(victim.id) == victim


# (uow of other_user, other's own project, other's own checkpoint, the
# checkpoint id probed) -> the call
CheckpointProbe = Callable[
    [UnitOfWork, uuid.UUID, uuid.UUID, uuid.UUID], Awaitable[object]
]
CHECKPOINT_PROBES: list[tuple[str, CheckpointProbe]] = [
    ("get", lambda u, pid, own, cid: u.checkpoints.get(pid, cid)),
    ("delete", lambda u, pid, own, cid: u.checkpoints.delete(pid, cid)),
    ("restore", lambda u, pid, own, cid: u.checkpoints.restore(pid, cid)),
    ("diff-to-now", lambda u, pid, own, cid: u.checkpoints.diff(pid, cid)),
    ("diff-from-own", lambda u, pid, own, cid: u.checkpoints.diff(pid, own, cid)),
    ("diff-to-own", lambda u, pid, own, cid: u.checkpoints.diff(pid, cid, own)),
]


@pytest.mark.parametrize(
    "probe", [pytest.param(p, id=name) for name, p in CHECKPOINT_PROBES]
)
async def test_another_users_checkpoint_through_ones_own_project_is_not_found(
    store: Store, admin: Admin, tenants: Tenants, probe: CheckpointProbe
) -> None:
    """The victim's checkpoint id, named with the attacker's own project (a
    restore would copy the victim's tree in): the same NotFound as a random
    checkpoint id, and nothing changes, the attacker's project included."""
    before = await snapshot(admin)
    own, own_checkpoint = tenants.own.id, tenants.own_checkpoint
    async with store.unit_of_work(tenants.other.id) as uow:
        foreign = await not_found(probe(uow, own, own_checkpoint, tenants.checkpoint))
        missing = await not_found(probe(uow, own, own_checkpoint, uuid.uuid4()))
        assert_same_not_found(foreign, missing)
        assert [e.path for e in (await uow.files.list(own)).items] == ["mine.txt"]
    assert await snapshot(admin) == before


async def test_other_user_lists_none_of_the_users_projects(
    store: Store, admin: Admin, tenants: Tenants
) -> None:
    before = await snapshot(admin)
    victims = {tenants.project.id, tenants.bare.id}
    async with store.unit_of_work(tenants.other.id) as uow:
        page = await uow.projects.list(limit=1000)
        assert [p.id for p in page.items] == [tenants.own.id]
        # The user's cursor: refused, or a page of the other user's own rows.
        paged = await attempt(
            uow.projects.list(limit=1000, cursor=tenants.projects_cursor)
        )
        if isinstance(paged, InvalidInput):
            assert paged.field == "cursor"
        else:
            assert {p.owner_id for p in paged.items} <= {tenants.other.id}
            assert not victims & {p.id for p in paged.items}
    assert await snapshot(admin) == before


async def test_a_unit_of_work_for_a_user_id_that_does_not_exist_sees_nothing(
    store: Store, admin: Admin, tenants: Tenants
) -> None:
    before = await snapshot(admin)
    async with store.unit_of_work(uuid.uuid4()) as uow:
        assert (await uow.projects.list()).items == []
        for _name, probe in PROBES:
            foreign = await not_found(probe(uow, tenants.project.id, tenants))
            missing = await not_found(probe(uow, uuid.uuid4(), tenants))
            assert_same_not_found(foreign, missing)
    assert await snapshot(admin) == before


async def test_a_user_id_that_does_not_exist_cannot_create_and_the_unit_of_work_goes_on(
    store: Store, admin: Admin, tenants: Tenants
) -> None:
    """Contract: a failed call leaves the database as it was and the unit of
    work usable; a caller may catch NotFound and go on."""
    before = await snapshot(admin)
    async with store.unit_of_work(uuid.uuid4()) as uow:
        with pytest.raises(NotFound):
            await uow.projects.create("ghost")
        assert (await uow.projects.list()).items == []
    assert await snapshot(admin) == before


# ---------------------------------------------------------------------------
# 2. raw SQL as app_user with the actor set: the database alone enforces it
# ---------------------------------------------------------------------------


async def test_raw_reads_see_nothing_of_the_other_tenant(
    store: Store, tenants: Tenants
) -> None:
    victim, other = tenants.user.id, tenants.other.id
    async with store.unit_of_work(other) as uow:
        conn = connection_of(uow)
        assert await conn.fetchval("SELECT current_user") == APP_ROLE
        for table in TENANT_TABLES:
            owners = await conn.fetch(f"SELECT DISTINCT owner_id FROM {table}")
            assert [row["owner_id"] for row in owners] == [other], table
            assert (
                await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE owner_id = $1", victim
                )
                == 0
            )
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM projects WHERE id = $1", tenants.project.id
            )
            == 0
        )
        for table in TENANT_TABLES[1:]:
            found = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE project_id = $1",
                tenants.project.id,
            )
            assert found == 0, table
        # Joins and aggregates see no more than plain reads.
        joined = await conn.fetchval(
            "SELECT count(*) FROM project_files f JOIN projects p ON p.id = f.project_id"
        )
        assert joined == 1
        for secret in (b"alpha", BINARY_SECRET):
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM file_contents"
                    " WHERE position($1::bytea IN content) > 0",
                    secret,
                )
                == 0
            )
        # The checkpoint's tree joined by generation: still only one's own.
        assert await conn.fetchval(
            "SELECT count(*) FROM checkpoints c JOIN file_versions v"
            " ON v.project_id = c.project_id AND v.generation <= c.generation"
        ) == await conn.fetchval("SELECT count(*) FROM file_versions")


async def run_then_roll_back(
    store: Store, actor: uuid.UUID, statements: list[tuple[str, tuple[Any, ...]]]
) -> list[str]:
    """Run `statements` in one unit of work of `actor`, then roll it back;
    returns their command statuses."""
    statuses: list[str] = []
    try:
        async with store.unit_of_work(actor) as uow:
            for statement, args in statements:
                statuses.append(await connection_of(uow).execute(statement, *args))
            raise Rollback
    except Rollback:
        return statuses


async def test_raw_updates_and_deletes_change_nothing_of_the_other_tenant(
    store: Store, admin: Admin, tenants: Tenants
) -> None:
    before = await snapshot(admin)
    pid = tenants.project.id
    aimed = [
        ("UPDATE projects SET name = 'pwned' WHERE id = $1", (pid,)),
        ("UPDATE project_files SET version = 99 WHERE project_id = $1", (pid,)),
        ("UPDATE agent_states SET state = '{}' WHERE project_id = $1", (pid,)),
        ("UPDATE projects SET owner_id = $2 WHERE id = $1", (pid, tenants.other.id)),
        ("DELETE FROM project_files WHERE project_id = $1", (pid,)),
        ("DELETE FROM agent_states WHERE project_id = $1", (pid,)),
        ("DELETE FROM projects WHERE id = $1", (pid,)),
    ]
    aimed_at_history = [
        ("UPDATE file_contents SET content = '' WHERE project_id = $1", (pid,)),
        ("UPDATE file_versions SET deleted_at = now() WHERE project_id = $1", (pid,)),
        ("UPDATE agent_state_versions SET state = '{}' WHERE project_id = $1", (pid,)),
        ("UPDATE checkpoints SET label = 'pwned' WHERE project_id = $1", (pid,)),
        ("DELETE FROM checkpoints WHERE project_id = $1", (pid,)),
        ("DELETE FROM file_versions WHERE project_id = $1", (pid,)),
        ("DELETE FROM file_contents WHERE project_id = $1", (pid,)),
        ("DELETE FROM agent_state_versions WHERE project_id = $1", (pid,)),
    ]
    aimed += aimed_at_history
    # No predicate at all: only the actor's own rows (one of each) are reached.
    unaimed: list[tuple[str, tuple[Any, ...]]] = [
        ("UPDATE projects SET name = 'pwned'", ()),
        # (A version the history holds: the row's foreign key names it.)
        ("UPDATE project_files SET updated_at = now()", ()),
        ("UPDATE agent_states SET state = '{}'", ()),
        ("UPDATE file_contents SET created_at = now()", ()),
        ("UPDATE file_versions SET created_at = now()", ()),
        ("UPDATE agent_state_versions SET created_at = now()", ()),
        ("UPDATE checkpoints SET label = 'pwned'", ()),
        ("DELETE FROM checkpoints", ()),
        ("DELETE FROM agent_states", ()),
        ("DELETE FROM project_files", ()),
        ("DELETE FROM projects", ()),
    ]
    statuses = await run_then_roll_back(store, tenants.other.id, aimed + unaimed)
    assert (
        statuses
        == ["UPDATE 0"] * 4
        + ["DELETE 0"] * 3
        + ["UPDATE 0"] * 4
        + ["DELETE 0"] * 4
        + ["UPDATE 1"] * 7
        + ["DELETE 1"] * 4
    )
    assert await snapshot(admin) == before
    # Committed, the aimed statements change nothing either.
    async with store.unit_of_work(tenants.other.id) as uow:
        for statement, args in aimed:
            assert (await connection_of(uow).execute(statement, *args)).endswith(" 0")
    assert await snapshot(admin) == before


PLANTED_SHA = hashlib.sha256(b"x").hexdigest()
MINE_SHA = hashlib.sha256(b"mine").hexdigest()  # other's own content
FILE_COLUMNS = "(project_id, owner_id, path, size_bytes, sha256, version, kind)"
CONTENT_COLUMNS = "(project_id, owner_id, sha256, size_bytes, content)"
VERSION_COLUMNS = (
    "(project_id, owner_id, path, version, generation, kind, size_bytes, sha256)"
)

# (id, statement, its arguments from the fixture): each must fail.
RawWrite = tuple[str, str, Callable[[Tenants], tuple[Any, ...]]]
RAW_WRITES: list[RawWrite] = [
    (
        "insert-project-owned-by-user",
        "INSERT INTO projects (owner_id, name) VALUES ($1, 'planted')",
        lambda t: (t.user.id,),
    ),
    (
        "insert-file-as-user",
        f"INSERT INTO project_files {FILE_COLUMNS}"
        " VALUES ($1, $2, 'a.txt', 1, $3, 1, 'text')",
        lambda t: (t.project.id, t.user.id, PLANTED_SHA),
    ),
    (
        "insert-file-into-users-project-as-self",
        f"INSERT INTO project_files {FILE_COLUMNS}"
        " VALUES ($1, $2, 'a.txt', 1, $3, 1, 'text')",
        lambda t: (t.project.id, t.other.id, PLANTED_SHA),
    ),
    (
        "insert-state-as-user",
        "INSERT INTO agent_states (project_id, owner_id, state) VALUES ($1, $2, '{}')",
        lambda t: (t.bare.id, t.user.id),
    ),
    (
        "insert-state-into-users-project-as-self",
        "INSERT INTO agent_states (project_id, owner_id, state) VALUES ($1, $2, '{}')",
        lambda t: (t.bare.id, t.other.id),
    ),
    (
        "upsert-over-users-file",
        f"INSERT INTO project_files {FILE_COLUMNS}"
        " VALUES ($1, $2, 'a.txt', 1, $3, 1, 'text')"
        " ON CONFLICT (project_id, path) DO UPDATE SET sha256 = excluded.sha256",
        lambda t: (t.project.id, t.other.id, PLANTED_SHA),
    ),
    (
        "give-own-project-to-user",
        "UPDATE projects SET owner_id = $1 WHERE id = $2",
        lambda t: (t.user.id, t.own.id),
    ),
    (
        "move-own-file-into-users-project",
        "UPDATE project_files SET project_id = $1 WHERE project_id = $2",
        lambda t: (t.project.id, t.own.id),
    ),
    (
        "move-own-file-into-users-project-as-user",
        "UPDATE project_files SET project_id = $1, owner_id = $2 WHERE project_id = $3",
        lambda t: (t.project.id, t.user.id, t.own.id),
    ),
    (
        "move-own-state-onto-users-project",
        "UPDATE agent_states SET project_id = $1 WHERE project_id = $2",
        lambda t: (t.bare.id, t.own.id),
    ),
    (
        "rename-user",
        "UPDATE users SET name = 'pwned' WHERE id = $1",
        lambda t: (t.user.id,),
    ),
    ("delete-user", "DELETE FROM users WHERE id = $1", lambda t: (t.user.id,)),
    ("read-sessions", "SELECT count(*) FROM sessions", lambda t: ()),
    ("read-accounts", "SELECT count(*) FROM accounts", lambda t: ()),
    (
        "insert-session-for-user",
        "INSERT INTO sessions (token, expires_at, user_id) VALUES ('t', now(), $1)",
        lambda t: (t.user.id,),
    ),
]


# Rows of the history tables planted into the victim's project, as the
# victim (row-level security refuses) or as oneself (the composite foreign
# key to the project refuses): (id, statement, the victim's arguments, the
# same statement's arguments for one's own project, which it must take, so
# that the refusal is not a mistake in the statement).
Plant = tuple[
    str,
    str,
    Callable[[Tenants], tuple[Any, ...]],
    Callable[[Tenants], tuple[Any, ...]],
]
INSERT_CONTENT = (
    f"INSERT INTO file_contents {CONTENT_COLUMNS} VALUES ($1, $2, $3, 1, 'x')"
)
INSERT_VERSION = (
    f"INSERT INTO file_versions {VERSION_COLUMNS}"
    " VALUES ($1, $2, 'planted.txt', 1, 0, 'text', $4, $3)"
)
INSERT_STATE_VERSION = (
    "INSERT INTO agent_state_versions (project_id, owner_id, version, generation,"
    " state) VALUES ($1, $2, 999, 0, '{}')"
)
INSERT_CHECKPOINT = (
    "INSERT INTO checkpoints (project_id, owner_id, label, generation)"
    " VALUES ($1, $2, 'planted', 999)"
)
PLANTS: list[Plant] = [
    (
        "content-as-user",
        INSERT_CONTENT,
        lambda t: (t.project.id, t.user.id, PLANTED_SHA),
        lambda t: (t.own.id, t.other.id, PLANTED_SHA),
    ),
    (
        "content-as-self",
        INSERT_CONTENT,
        lambda t: (t.project.id, t.other.id, PLANTED_SHA),
        lambda t: (t.own.id, t.other.id, PLANTED_SHA),
    ),
    (
        # alpha: content the victim's project holds, so only ownership refuses.
        "version-as-user",
        INSERT_VERSION,
        lambda t: (t.project.id, t.user.id, hashlib.sha256(b"alpha").hexdigest(), 5),
        lambda t: (t.own.id, t.other.id, MINE_SHA, 4),
    ),
    (
        "version-as-self",
        INSERT_VERSION,
        lambda t: (t.project.id, t.other.id, hashlib.sha256(b"alpha").hexdigest(), 5),
        lambda t: (t.own.id, t.other.id, MINE_SHA, 4),
    ),
    (
        # One's own version naming the victim's content: no such content here.
        "own-version-naming-users-content",
        INSERT_VERSION,
        lambda t: (t.own.id, t.other.id, hashlib.sha256(b"alpha").hexdigest(), 5),
        lambda t: (t.own.id, t.other.id, MINE_SHA, 4),
    ),
    (
        "state-version-as-user",
        INSERT_STATE_VERSION,
        lambda t: (t.project.id, t.user.id),
        lambda t: (t.own.id, t.other.id),
    ),
    (
        "state-version-as-self",
        INSERT_STATE_VERSION,
        lambda t: (t.project.id, t.other.id),
        lambda t: (t.own.id, t.other.id),
    ),
    (
        "checkpoint-as-user",
        INSERT_CHECKPOINT,
        lambda t: (t.project.id, t.user.id),
        lambda t: (t.own.id, t.other.id),
    ),
    (
        "checkpoint-as-self",
        INSERT_CHECKPOINT,
        lambda t: (t.project.id, t.other.id),
        lambda t: (t.own.id, t.other.id),
    ),
    (
        "move-own-checkpoint-into-users-project",
        "UPDATE checkpoints SET project_id = $1, generation = 999"
        " WHERE project_id = $2",
        lambda t: (t.project.id, t.own.id),
        lambda t: (t.own.id, t.own.id),
    ),
    (
        "move-own-content-into-users-project",
        "UPDATE file_contents SET project_id = $1 WHERE project_id = $2",
        lambda t: (t.project.id, t.own.id),
        lambda t: (t.own.id, t.own.id),
    ),
]
# What refuses a planted row: row-level security's WITH CHECK, or the
# composite foreign key that makes a row's owner its project's.
REFUSALS = (asyncpg.InsufficientPrivilegeError, asyncpg.ForeignKeyViolationError)


def refusals() -> tuple[type[asyncpg.PostgresError], ...]:
    """REFUSALS, and on Citus its own refusal of a row moved to another
    project: the project is the row's shard, and Citus moves no row between
    shards ("modifying the partition value of rows is not allowed")."""
    if citusdb.enabled():
        return (*REFUSALS, asyncpg.FeatureNotSupportedError)
    return REFUSALS


@pytest.mark.parametrize(
    ("statement", "victims", "owns"),
    [pytest.param(sql, victims, owns, id=name) for name, sql, victims, owns in PLANTS],
)
async def test_history_rows_planted_into_another_tenant_are_refused(
    store: Store,
    admin: Admin,
    tenants: Tenants,
    statement: str,
    victims: Callable[[Tenants], tuple[Any, ...]],
    owns: Callable[[Tenants], tuple[Any, ...]],
) -> None:
    before = await snapshot(admin)
    # The control: aimed at one's own project, the statement runs (on
    # Citus, no statement sets a row's project, not even to the same one).
    if not (citusdb.enabled() and "SET project_id" in statement):
        assert await run_then_roll_back(
            store, tenants.other.id, [(statement, owns(tenants))]
        ) in (["INSERT 0 1"], ["UPDATE 1"])
    with pytest.raises(refusals()) as refused:
        async with store.unit_of_work(tenants.other.id) as uow:
            await connection_of(uow).execute(statement, *victims(tenants))
    if isinstance(refused.value, asyncpg.FeatureNotSupportedError):
        assert "partition value" in str(refused.value)
    assert await snapshot(admin) == before


@pytest.mark.parametrize(
    ("statement", "arguments"),
    [pytest.param(sql, args, id=name) for name, sql, args in RAW_WRITES],
)
async def test_raw_writes_into_another_tenant_fail_in_the_database(
    store: Store,
    admin: Admin,
    tenants: Tenants,
    statement: str,
    arguments: Callable[[Tenants], tuple[Any, ...]],
) -> None:
    before = await snapshot(admin)
    with pytest.raises(asyncpg.PostgresError):
        async with store.unit_of_work(tenants.other.id) as uow:
            await connection_of(uow).execute(statement, *arguments(tenants))
    assert await snapshot(admin) == before


async def test_the_catalogue_names_every_table_row_level_security_guards(
    admin: Admin,
) -> None:
    """TENANT_TABLES is every table with an owner_id and row-level security
    forced, so a new one cannot be left out of the checks above."""
    rows = await admin.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        " AND c.relrowsecurity AND c.relforcerowsecurity"
        " AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid"
        "   AND a.attname = 'owner_id' AND NOT a.attisdropped)"
    )
    assert {row["relname"] for row in rows} == set(TENANT_TABLES)
    assert set(repositories_database.TENANT_TABLES) == set(TENANT_TABLES)


# ---------------------------------------------------------------------------
# 3. no actor: nothing visible
# ---------------------------------------------------------------------------


async def visible_rows(conn: asyncpg.Connection[asyncpg.Record]) -> list[int]:
    return [
        await conn.fetchval(f"SELECT count(*) FROM {table}") for table in TENANT_TABLES
    ]


async def test_app_user_without_an_actor_sees_nothing(
    admin: Admin,
    tenants: Tenants,
    superuser: asyncpg.Connection[asyncpg.Record],
) -> None:
    conn = superuser
    assert all(count > 0 for count in await visible_rows(admin))
    # Never set on this connection: NULL.
    async with conn.transaction():
        await conn.execute("SET ROLE app_user")
        assert await conn.fetchval("SELECT current_user") == APP_ROLE
        assert (
            await conn.fetchval("SELECT current_setting('app.user_id', true)") is None
        )
        assert await visible_rows(conn) == [0] * len(TENANT_TABLES)
        await conn.execute("RESET ROLE")
    # Positive control: with the actor set, the same role sees the actor's rows.
    # Set as the unit of work sets it: SET LOCAL, which Citus forwards to the
    # workers (a set_config() call it does not).
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE app_user")
        await conn.execute(f"SET LOCAL app.user_id = '{tenants.user.id}'")
        # Projects, files, agent states, contents (SEED's and BINARY_SECRET),
        # versions (a.txt has three), agent-state versions, checkpoints.
        assert await visible_rows(conn) == [3, len(SEED), 1, 4, 5, 2, 2]
    # Once a transaction-local setting has ended it reads as '': still nothing.
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE app_user")
        assert await conn.fetchval("SELECT current_setting('app.user_id', true)") == ""
        assert await visible_rows(conn) == [0] * len(TENANT_TABLES)
    # And nothing can be written.
    before = await snapshot(admin)
    with pytest.raises(asyncpg.PostgresError):
        await insert_project_without_actor(conn, tenants.user.id)
    assert await snapshot(admin) == before


async def insert_project_without_actor(
    conn: asyncpg.Connection[asyncpg.Record], owner: uuid.UUID
) -> None:
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE app_user")
        await conn.execute(
            "INSERT INTO projects (owner_id, name) VALUES ($1, 'planted')", owner
        )


# ---------------------------------------------------------------------------
# 4. pooled connections carry nothing between units of work
# ---------------------------------------------------------------------------


@pytest.fixture
def handed_out() -> HandedOut:
    return HandedOut()


@pytest.fixture
async def one_connection_store(
    app_url: str, handed_out: HandedOut
) -> AsyncIterator[Store]:
    async with Store.open(app_url, min_size=1, max_size=1, setup=handed_out) as opened:
        yield opened


async def in_unit_of_work(store: Store, actor: uuid.UUID) -> Session:
    async with store.unit_of_work(actor) as uow:
        seen = await session_of(connection_of(uow))
        owners = await connection_of(uow).fetch(
            "SELECT DISTINCT owner_id FROM projects"
        )
        assert {row["owner_id"] for row in owners} <= {actor}
        return seen


async def assert_clean(pooled: Pooled, login: str, pid: int) -> None:
    after = await pooled()
    assert after.pid == pid  # the very connection the units of work used
    assert after.user == login
    assert after.actor in ("", None)
    assert not after.in_transaction


async def create_then_raise(store: Store, actor: uuid.UUID) -> None:
    async with store.unit_of_work(actor) as uow:
        await uow.projects.create("rolled back")
        raise Rollback


async def fail_a_statement(store: Store, actor: uuid.UUID) -> None:
    """The statement fails inside the block and is swallowed there; leaving the
    block then finds the transaction aborted."""
    async with store.unit_of_work(actor) as uow:
        with pytest.raises(asyncpg.PostgresError):
            await connection_of(uow).execute("SELECT 1 / 0")


async def test_interleaved_users_on_one_pooled_connection(
    one_connection_store: Store, handed_out: HandedOut, admin: Admin, tenants: Tenants
) -> None:
    store = one_connection_store
    login = database.APP_LOGIN_ROLE  # the Store logs in as the application does
    a, b = tenants.user.id, tenants.other.id

    def pooled() -> Awaitable[Session]:
        """What the pool hands out next (store.users borrows a connection)."""
        return handed_out.next_borrower(store)

    first = await pooled()
    assert (first.user, first.actor) == (login, None)

    seen_a = await in_unit_of_work(store, a)
    assert (seen_a.pid, seen_a.user, seen_a.actor) == (first.pid, APP_ROLE, str(a))
    await assert_clean(pooled, login, first.pid)

    seen_b = await in_unit_of_work(store, b)
    assert (seen_b.pid, seen_b.user, seen_b.actor) == (first.pid, APP_ROLE, str(b))
    await assert_clean(pooled, login, first.pid)

    # A unit of work that raised: rolled back, nothing follows the connection.
    with pytest.raises(Rollback):
        await create_then_raise(store, a)
    await assert_clean(pooled, login, first.pid)
    assert (await in_unit_of_work(store, b)).actor == str(b)

    # A unit of work whose transaction the database aborted.
    with pytest.raises(RepositoryError):
        await fail_a_statement(store, a)
    await assert_clean(pooled, login, first.pid)
    assert (await in_unit_of_work(store, b)).actor == str(b)

    # A unit of work cancelled mid-statement.
    async def slow() -> None:
        async with store.unit_of_work(a) as uow:
            await connection_of(uow).execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    seen = await in_unit_of_work(store, b)
    assert (seen.user, seen.actor) == (APP_ROLE, str(b))
    after = await pooled()
    assert after.user == login
    assert after.actor in ("", None)
    assert not after.in_transaction

    # Nothing of the rolled-back or cancelled units of work remains.
    async with store.unit_of_work(a) as uow:
        names = {p.name for p in (await uow.projects.list()).items}
    assert "rolled back" not in names


@pytest.mark.parametrize("max_size", [1, 2])
async def test_concurrent_units_of_work_each_see_only_their_actor(
    app_url: str, tenants: Tenants, max_size: int
) -> None:
    actors = [tenants.user.id, tenants.other.id] * 10
    async with Store.open(app_url, min_size=1, max_size=max_size) as store:

        async def work(actor: uuid.UUID) -> Session:
            async with store.unit_of_work(actor) as uow:
                await asyncio.sleep(0)  # let the others interleave
                seen = await session_of(connection_of(uow))
                projects = (await uow.projects.list(limit=1000)).items
                assert {p.owner_id for p in projects} == {actor}
                return seen

        seen = await asyncio.gather(*(work(actor) for actor in actors))
        assert [s.actor for s in seen] == [str(actor) for actor in actors]
        assert {s.user for s in seen} == {APP_ROLE}
        assert len({s.pid for s in seen}) <= max_size
