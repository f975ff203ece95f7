"""Least privilege all the way down: the Store logs in as app_login, which can
log in and become app_user or app_auth and nothing else. `Store.open`
refuses a login role that row-level security cannot bind, and what a caller
does to a lent `connection_of(uow)` (RESET ROLE, SET ROLE, SET SESSION
AUTHORIZATION, set_config('role', …)) leaves it unable to reach any tenant
row it could not reach before."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import pytest

from devtools import database, template
from repositories import PrivilegedLogin, Store, User
from tests.support import connection_of, new_project, new_user

T = TypeVar("T")


@dataclass(frozen=True)
class Probe:
    """A login role made for one test, on a database of its own."""

    owner_url: str
    url: str
    role: str
    admin: asyncpg.Connection[asyncpg.Record]


PROBE_ROLE_SUFFIXES = ("_bypass", "_reader")


@pytest.fixture
async def probe(
    pg_admin_url: str, new_migrated_database: template.NewDatabase
) -> AsyncIterator[Probe]:
    url, drop = await new_migrated_database("privilege")
    role = f"probe_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url)
    await admin.execute(f"CREATE ROLE {role} LOGIN NOINHERIT")
    # What app_login holds: membership of app_user, and the cursor key.
    await admin.execute(f"GRANT app_user TO {role}")
    await admin.execute(f"GRANT SELECT ON cursor_signing_key TO {role}")
    try:
        yield Probe(url, database.as_role(url, role), role, admin)
    finally:
        # The probes may add roles named after this one (PROBE_ROLE_SUFFIXES).
        roles = [role, *(f"{role}{suffix}" for suffix in PROBE_ROLE_SUFFIXES)]
        for name in roles:
            if await admin.fetchval("SELECT to_regrole($1) IS NOT NULL", name):
                await admin.execute(f"DROP OWNED BY {name}")
        await admin.close()
        await drop()
        cluster = await asyncpg.connect(pg_admin_url)
        try:
            for name in reversed(roles):
                await cluster.execute(f"DROP ROLE IF EXISTS {name}")
        finally:
            await cluster.close()


async def refusal(url: str) -> PrivilegedLogin:
    with pytest.raises(PrivilegedLogin) as refused:
        await Store.open(url)
    return refused.value


async def test_the_application_login_is_accepted(store: Store) -> None:
    # The suites' own `store` fixture logs in as app_login and works.
    ada = await new_user(store, "Ada")
    assert (await store.users.get(ada.id)).id == ada.id


async def test_a_superuser_login_is_refused_unless_the_caller_opts_in(
    database_url: str,
) -> None:
    refused = await refusal(database_url)
    assert refused.role == "postgres"
    assert any("superuser" in p for p in refused.problems)
    # The operator's detail names the role and the fix; the message a
    # client could see names neither.
    assert refused.detail is not None
    assert "'postgres'" in refused.detail
    assert "app_login" in refused.detail
    assert "allow_privileged_login_unsafe=True" in refused.detail
    assert "postgres" not in str(refused)
    assert refused.code == "privileged_login"
    async with Store.open(
        database_url, auth_dsn=database_url, allow_privileged_login_unsafe=True
    ) as store:
        await new_user(store, "Maintenance")


async def test_the_probe_role_alone_is_accepted(probe: Probe) -> None:
    """The control: the probes below fail only because of what they add."""
    async with Store.open(probe.url) as store, store.unit_of_work(uuid.uuid4()) as uow:
        assert (await uow.projects.list()).items == []


@pytest.mark.parametrize(
    ("grant", "named"),
    [
        ("ALTER ROLE {role} BYPASSRLS", "BYPASSRLS"),
        (
            "ALTER TABLE project_files OWNER TO {role}",
            "owns the tenant tables project_files",
        ),
        (
            "GRANT SELECT ON projects TO {role}",
            "privileges on the tenant tables projects",
        ),
        (
            # Inheritance is fixed when the membership is granted (PostgreSQL 16+).
            "REVOKE app_user FROM {role}; ALTER ROLE {role} INHERIT;"
            " GRANT app_user TO {role}",
            # Every one of app_user's tables, history and contents included.
            "privileges on the tenant tables agent_state_versions, agent_states,"
            " checkpoints, file_contents, file_versions, project_files, projects",
        ),
        ("GRANT app_auth TO {role}", "can switch to app_auth, which can do more"),
        (
            "CREATE ROLE {role}_bypass NOLOGIN BYPASSRLS; GRANT {role}_bypass TO {role}",
            "can switch to {role}_bypass, which row-level security does not bind",
        ),
        (
            "CREATE ROLE {role}_reader NOLOGIN; GRANT SELECT ON accounts TO"
            " {role}_reader; GRANT {role}_reader TO {role}",
            "can switch to {role}_reader, which can do more than app_user",
        ),
        (
            "GRANT TEMPORARY ON DATABASE {database} TO {role}",
            "can create temporary tables",
        ),
    ],
)
async def test_a_login_that_rls_cannot_bind_is_refused(
    probe: Probe, grant: str, named: str
) -> None:
    database_name = await probe.admin.fetchval("SELECT current_database()")
    await probe.admin.execute(
        grant.format(role=probe.role, database=f'"{database_name}"')
    )
    refused = await refusal(probe.url)
    assert refused.role == probe.role
    expected = named.format(role=probe.role)
    assert any(expected in p for p in refused.problems), refused.problems


@dataclass(frozen=True)
class Tenants:
    mine: User
    theirs: User
    their_project: uuid.UUID


@pytest.fixture(scope="module")
async def tenants(store: Store) -> Tenants:
    mine, theirs = await new_user(store, "Mine"), await new_user(store, "Theirs")
    project = await new_project(store, theirs, "theirs")
    async with store.unit_of_work(theirs.id) as uow:
        await uow.files.put(project.id, "secret.txt", "not yours\n")
    return Tenants(mine, theirs, project.id)


ESCAPES: dict[str, str] = {
    "reset role": "RESET ROLE",
    "set role app_auth": "SET ROLE app_auth",
    "set role postgres": "SET ROLE postgres",
    "set session authorization": "SET SESSION AUTHORIZATION postgres",
    "set_config role": "SELECT set_config('role', 'postgres', false)",
    "reset session authorization": "RESET SESSION AUTHORIZATION",
}


async def within_savepoint(conn: Any, statement: Awaitable[T]) -> T:
    """Run a statement of the unit of work's transaction so that its failure
    aborts only itself."""
    await conn.execute("SAVEPOINT attempt")
    try:
        result = await statement
    except asyncpg.PostgresError:
        await conn.execute("ROLLBACK TO SAVEPOINT attempt")
        raise
    await conn.execute("RELEASE SAVEPOINT attempt")
    return result


async def reach(conn: Any, tenants: Tenants) -> int:
    """How many of the other tenant's rows this connection can read or change
    (a refusal by privilege counts as none)."""
    reached = 0
    attempts = [
        "SELECT count(*) FROM projects WHERE id = $1",
        "SELECT count(*) FROM project_files WHERE project_id = $1",
        "WITH changed AS (UPDATE projects SET name = 'taken' WHERE id = $1"
        " RETURNING 1) SELECT count(*) FROM changed",
        "WITH gone AS (DELETE FROM project_files WHERE project_id = $1"
        " RETURNING 1) SELECT count(*) FROM gone",
    ]
    for query in attempts:
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            reached += await within_savepoint(
                conn, conn.fetchval(query, tenants.their_project)
            )
    return reached


@pytest.mark.parametrize("escape", sorted(ESCAPES))
async def test_a_lent_connection_cannot_climb_out_of_row_level_security(
    store: Store, tenants: Tenants, escape: str
) -> None:
    async with store.unit_of_work(tenants.mine.id) as uow:
        conn = connection_of(uow)
        # Refused outright, or done: either way the reach below must be none.
        with contextlib.suppress(asyncpg.PostgresError):
            await within_savepoint(conn, conn.execute(ESCAPES[escape]))
        role = await conn.fetchval("SELECT current_user")
        assert role in ("app_user", "app_login", "app_auth"), role
        assert await reach(conn, tenants) == 0
    async with store.unit_of_work(tenants.theirs.id) as uow:
        project = await uow.projects.get(tenants.their_project)
        files = await uow.files.list(tenants.their_project)
    assert project.name == "theirs"
    assert [f.path for f in files.items] == ["secret.txt"]


async def test_a_role_switch_on_a_lent_connection_does_not_outlive_the_unit_of_work(
    app_url: str, tenants: Tenants
) -> None:
    async with Store.open(app_url, min_size=1, max_size=1) as single:
        async with single.unit_of_work(tenants.mine.id) as uow:
            # Session level, not LOCAL: it would survive the COMMIT.
            await connection_of(uow).execute("SET ROLE app_user")
        async with single.unit_of_work(tenants.mine.id) as uow:
            conn = connection_of(uow)
            assert await conn.fetchval("SELECT current_user") == "app_user"
            await conn.execute("RESET ROLE")
            assert await conn.fetchval("SELECT current_user") == "app_login"
            assert await reach(conn, tenants) == 0


class _RollBack(Exception):
    """Leaves a unit of work without committing what it did."""


async def test_the_reach_check_sees_through_a_privileged_login(
    database_url: str, tenants: Tenants
) -> None:
    """The check above can fail: the same RESET ROLE on a Store opened as the
    superuser (opted in as unsafe) reaches the other tenant's rows."""
    reached: list[int] = []

    async def escape_and_roll_back(store: Store) -> None:
        async with store.unit_of_work(tenants.mine.id) as uow:
            await connection_of(uow).execute("RESET ROLE")
            reached.append(await reach(connection_of(uow), tenants))
            raise _RollBack  # leave the other tenant's rows as they were

    async with Store.open(database_url, allow_privileged_login_unsafe=True) as unsafe:
        with pytest.raises(_RollBack):
            await escape_and_roll_back(unsafe)
    assert reached[0] > 0
