"""What route code can reach, probed as a hostile caller would.

A security review found that the connection a unit of work used to lend
(`uow.connection`) let one tenant capture another's writes (a temporary
table of a tenant table's name outlived the unit of work), switch to the
auth layer's role, set another actor's id, plant role settings, use large
objects and end other tenants' backends; and that an actor id whose str()
lies was written into the SQL text. Each probe is here, against the public
API (nothing lent; `uow.run` takes generated queries only) and, as defence
in depth, against the database itself on a raw connection that begins
exactly as a unit of work does.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any

import asyncpg
import pytest

from repositories import PrivilegedLogin, RepositoryError, Store, User
from repositories import _generated as generated
from repositories._generated import projects as project_queries
from repositories.unit_of_work import begin_as
from tests.support import new_project, new_user

PLANTS = {
    # The review's critical probe: created as app_user, as a caller of the
    # lent connection could, it outlived the unit of work and, pg_temp
    # being searched first, took the next user's writes.
    "temp table": "CREATE TEMP TABLE IF NOT EXISTS project_files"
    " (LIKE public.project_files INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
    " INCLUDING INDEXES)",
    # A temp view rewrote what the next user read.
    "temp view": "CREATE OR REPLACE TEMP VIEW project_files AS"
    " SELECT * FROM public.project_files WHERE false",
}


@contextlib.asynccontextmanager
async def raw(url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def as_a_unit_of_work(
    app_url: str, actor: uuid.UUID
) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A raw connection as the application's login, begun exactly as a unit
    of work begins (role, search_path, actor), rolled back at the end: what
    injected SQL would run as, if route code could send any."""
    async with raw(app_url) as conn:
        await conn.execute(begin_as(actor))
        try:
            yield conn
        finally:
            await conn.execute("ROLLBACK")


async def refused(conn: asyncpg.Connection[asyncpg.Record], statement: str) -> bool:
    """Whether the database refuses `statement` for lack of privilege; run in
    a savepoint so the transaction goes on."""
    await conn.execute("SAVEPOINT probe")
    try:
        await conn.execute(statement)
    except asyncpg.InsufficientPrivilegeError:
        await conn.execute("ROLLBACK TO SAVEPOINT probe")
        return True
    await conn.execute("RELEASE SAVEPOINT probe")
    return False


# --- The public surface ------------------------------------------------------


async def test_a_unit_of_work_lends_no_connection(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        assert not hasattr(uow, "connection")
        assert not [name for name in dir(uow) if "conn" in name and name[0] != "_"]


def lookalike() -> Callable[..., Any]:
    """A function that claims to be a generated query: right module, right
    name, but not the object the module exports."""

    async def get_project(conn: Any, **params: Any) -> Any:
        return await conn.execute("CREATE TEMP TABLE stolen (x int)")

    get_project.__module__ = project_queries.__name__
    get_project.__qualname__ = "get_project"
    return get_project


async def plain_sql(conn: Any, **params: Any) -> Any:
    return await conn.execute("SET LOCAL app.user_id = '00000000-0000-0000-0000-0'")


def private_converter(module: ModuleType) -> object:
    """A converter of the generated module (private; its name follows the
    generator's choices, so it is looked up rather than spelled)."""
    converters = [
        value
        for name, value in vars(module).items()
        if name.startswith("_")
        and not name.startswith("__")
        and callable(value)
        and getattr(value, "__module__", None) == module.__name__
    ]
    assert converters, f"{module.__name__} has no private converter"
    return converters[0]


NOT_QUERIES: dict[str, Callable[[], object]] = {
    "a function of the caller's": lambda: plain_sql,
    "a lambda": lambda: lambda conn: conn.execute("DEALLOCATE ALL"),
    "a lookalike of a generated query": lookalike,
    "asyncpg's execute": lambda: asyncpg.Connection.execute,
    "the generated package's connection setup": lambda: generated.init_connection,
    "a generated converter": lambda: private_converter(project_queries),
    "a generated model": lambda: generated.models.Project,
    "a string of SQL": lambda: "SELECT 1",
}


@pytest.mark.parametrize("candidate", sorted(NOT_QUERIES))
async def test_run_refuses_anything_but_a_generated_query(
    store: Store,
    user: User,
    superuser: asyncpg.Connection[asyncpg.Record],
    candidate: str,
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(TypeError, match="query function of the"):
            await uow.run(NOT_QUERIES[candidate](), owner_id=user.id)  # type: ignore[arg-type]  # refused at run time: the point of the test
        # The refusal sent nothing: the transaction goes on as before.
        assert (await uow.projects.get(project.id)).id == project.id


async def test_run_runs_a_generated_query_as_its_actor(
    store: Store, user: User, other_user: User
) -> None:
    mine = await new_project(store, user, "mine")
    theirs = await new_project(store, other_user, "theirs")
    async with store.unit_of_work(user.id) as uow:
        found = await uow.run(project_queries.get_project, id=mine.id, owner_id=user.id)
        assert found is not None
        assert found.name == "mine"
        # The ownership predicate names the other tenant: row-level security
        # still shows nothing of theirs.
        assert (
            await uow.run(
                project_queries.get_project, id=theirs.id, owner_id=other_user.id
            )
            is None
        )


# --- Temporary objects --------------------------------------------------------


@pytest.mark.parametrize("plant", sorted(PLANTS))
async def test_the_application_roles_cannot_create_temporary_objects(
    app_url: str, user: User, plant: str
) -> None:
    async with as_a_unit_of_work(app_url, user.id) as conn:
        assert await refused(conn, PLANTS[plant])
        await conn.execute("RESET ROLE")  # the login itself, no role
        assert await refused(conn, "CREATE TEMP TABLE scratch (x int)")


@pytest.fixture
async def temporary_allowed(
    superuser: asyncpg.Connection[asyncpg.Record],
) -> AsyncIterator[None]:
    """TEMPORARY given back, as on a server where the migration's revoke was
    undone: the second line (search_path pinned per transaction) must hold
    on its own."""
    database = await superuser.fetchval("SELECT current_database()")
    await superuser.execute(f'GRANT TEMPORARY ON DATABASE "{database}" TO PUBLIC')
    try:
        yield
    finally:
        await superuser.execute(
            f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC'
        )


@pytest.mark.usefixtures("temporary_allowed")
@pytest.mark.parametrize("plant", sorted(PLANTS))
async def test_a_temporary_object_on_a_pooled_connection_captures_nothing(
    app_url: str,
    user: User,
    superuser: asyncpg.Connection[asyncpg.Record],
    plant: str,
) -> None:
    planted: list[int] = []

    async def plant_as_app_user(conn: Any) -> None:
        # Every time the pool hands the one connection out, before the
        # borrower's first statement: the worst a previous borrower could
        # have left behind.
        await conn.execute("SET ROLE app_user")
        await conn.execute(PLANTS[plant])
        await conn.execute("RESET ROLE")
        planted.append(1)

    async with Store.open(
        app_url,
        min_size=1,
        max_size=1,
        setup=plant_as_app_user,
        # TEMPORARY is refused at open, rightly; this probe is about the
        # line behind that check.
        allow_privileged_login_unsafe=True,
    ) as store:
        project = await new_project(store, user)
        async with store.unit_of_work(user.id) as uow:
            for n in range(20):
                await uow.files.put(project.id, f"f{n}.txt", f"content {n}\n")
        async with store.unit_of_work(user.id) as uow:
            listed = await uow.files.list(project.id)
    assert planted, "the plant never ran"
    assert len(listed.items) == 20
    stored = await superuser.fetchval(
        "SELECT count(*) FROM public.project_files WHERE project_id = $1", project.id
    )
    assert stored == 20


# --- Roles ------------------------------------------------------------------


async def test_the_tenant_login_cannot_become_the_auth_layer(
    app_url: str, user: User
) -> None:
    async with raw(app_url) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE app_auth")
    async with as_a_unit_of_work(app_url, user.id) as conn:
        assert await refused(conn, "SET LOCAL ROLE app_auth")


async def test_the_auth_login_cannot_become_a_tenant(auth_url: str) -> None:
    async with raw(auth_url) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE app_user")
        # What it is for still works: it reads users, and nothing of tenants.
        assert await conn.fetchval("SELECT count(*) >= 0 FROM users")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval("SELECT count(*) FROM projects")


async def test_store_users_needs_the_auth_login(app_url: str) -> None:
    async with Store.open(app_url) as store:
        with pytest.raises(RepositoryError, match="auth_dsn") as raised:
            await store.users.create(email="x@example.com", name="X")
    assert type(raised.value) is RepositoryError


async def test_the_auth_login_is_refused_as_the_tenant_login(
    auth_url: str, app_url: str
) -> None:
    """Each login for its own purpose: swapped, both are refused."""
    with pytest.raises(PrivilegedLogin) as tenant_refused:
        await Store.open(auth_url)
    assert any("app_auth" in p for p in tenant_refused.value.problems)
    with pytest.raises(PrivilegedLogin) as auth_refused:
        await Store.open(app_url, auth_dsn=app_url)
    assert any("switch to app_user" in p for p in auth_refused.value.problems)


# --- Settings planted on the login role --------------------------------------


@pytest.fixture
async def planted_settings(
    superuser: asyncpg.Connection[asyncpg.Record],
) -> AsyncIterator[None]:
    """Defaults stored on app_login for this database, as `ALTER ROLE …
    SET` from a lent connection could store them."""
    database = await superuser.fetchval("SELECT current_database()")
    scope = f'ALTER ROLE app_login IN DATABASE "{database}"'
    await superuser.execute(f"{scope} SET default_transaction_read_only = on")
    await superuser.execute(f"{scope} SET search_path = pg_temp, public")
    await superuser.execute(
        f"{scope} SET default_transaction_isolation = 'serializable'"
    )
    try:
        yield
    finally:
        await superuser.execute(f"{scope} RESET ALL")


@pytest.mark.usefixtures("planted_settings")
async def test_settings_planted_on_the_login_change_nothing(
    app_url: str, auth_url: str
) -> None:
    async with Store.open(app_url, auth_dsn=auth_url) as store:
        owner = await new_user(store, "Owner")
        project = await new_project(store, owner)
        async with store.unit_of_work(owner.id) as uow:
            write = await uow.files.put(project.id, "a.txt", "a\n")
            assert write.outcome == "created"
        async with (
            store._pool.acquire() as conn
        ):  # white-box: what the pool's sessions say
            settings = await conn.fetchrow(
                "SELECT current_setting('search_path') AS path,"
                " current_setting('default_transaction_read_only') AS read_only,"
                " current_setting('default_transaction_isolation') AS isolation"
            )
    assert settings is not None
    assert dict(settings) == {
        "path": "public, pg_temp",
        "read_only": "off",
        "isolation": "read committed",
    }


# --- Functions no tenant needs ----------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT lo_create(0)",
        "SELECT lo_from_bytea(0, 'secret'::bytea)",
        "SELECT lo_get(1)",
    ],
)
async def test_large_objects_are_out_of_reach(
    app_url: str, user: User, statement: str
) -> None:
    async with as_a_unit_of_work(app_url, user.id) as conn:
        assert await refused(conn, statement)


async def test_another_backend_cannot_be_cancelled_or_ended(
    app_url: str, user: User
) -> None:
    async with raw(app_url) as bystander, as_a_unit_of_work(app_url, user.id) as conn:
        pid = bystander.get_server_pid()
        assert await refused(conn, f"SELECT pg_cancel_backend({pid})")
        assert await refused(conn, f"SELECT pg_terminate_backend({pid})")
        assert await bystander.fetchval("SELECT 1") == 1


# --- The actor id -------------------------------------------------------------


class LyingUUID(uuid.UUID):
    """A UUID whose text form is SQL that sets another actor."""

    lie: str

    def __init__(self, value: int, lie: str) -> None:
        super().__init__(int=value)
        object.__setattr__(self, "lie", lie)

    def __str__(self) -> str:
        return self.lie

    def __format__(self, spec: str) -> str:
        return self.lie


async def test_an_actor_id_whose_text_lies_acts_as_its_value(
    store: Store, user: User, other_user: User
) -> None:
    theirs = await new_project(store, other_user, "theirs")
    mine = await new_project(store, user, "mine")
    liar = LyingUUID(
        user.id.int, f"{user.id}'; SET LOCAL app.user_id = '{other_user.id}"
    )
    async with store.unit_of_work(liar) as uow:
        page = await uow.projects.list()
        actor = uow.user_id
    assert theirs.id not in [p.id for p in page.items]
    assert [p.id for p in page.items] == [mine.id]
    assert type(actor) is uuid.UUID
    assert actor == user.id


def test_begin_as_writes_the_canonical_form_only() -> None:
    liar = LyingUUID(42, "x'; DROP TABLE users; --")
    statement = begin_as(liar)
    assert statement.endswith(f"SET LOCAL app.user_id = '{uuid.UUID(int=42)}'")
    assert "DROP" not in statement


async def test_an_actor_id_subclass_is_kept_as_a_plain_uuid(
    store: Store, user: User
) -> None:
    """The control: an honest subclass acts as itself."""

    class Honest(uuid.UUID):
        pass

    async with store.unit_of_work(Honest(int=user.id.int)) as uow:
        await uow.projects.list()
        assert type(uow.user_id) is uuid.UUID


async def test_new_users_are_made_by_the_auth_login_only(
    store: Store, app_url: str
) -> None:
    """The tenant login cannot insert users (verified, with a chosen id)."""
    someone = await new_user(store, "Someone")
    async with as_a_unit_of_work(app_url, someone.id) as conn:
        assert await refused(
            conn,
            "INSERT INTO users (id, email, name, email_verified)"
            " VALUES (gen_random_uuid(), 'forged@example.com', 'F', true)",
        )
        assert await conn.fetchval("SELECT count(*) FROM users") == 1
