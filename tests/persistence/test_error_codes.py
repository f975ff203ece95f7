"""Every error code an HTTP layer maps is produced by a real call, and every
message a client may see (`str(error)`, `error.public_message`) keeps the
diagnostic detail out: no host, port, SQLSTATE, role or constraint name.
That detail is in `error.detail` (and a logged traceback's notes)."""

from __future__ import annotations

import asyncio
import traceback
import uuid
from collections.abc import Awaitable
from urllib.parse import urlsplit

import asyncpg
import pytest

import repositories
from devtools import cluster
from repositories import (
    ConcurrentCalls,
    Conflict,
    Contention,
    EmailTaken,
    InvalidInput,
    NestedUnitOfWork,
    NotFound,
    PathTaken,
    PoolExhausted,
    PrivilegedLogin,
    RepositoryError,
    Store,
    Timeout,
    Unavailable,
    UnitOfWorkMisuse,
    Unreadable,
    UnsafeLoginSettings,
    User,
    VersionConflict,
)
from repositories._generated import project_files as file_queries
from tests.support import Backend, connection_of, new_project

HANG_GUARD_S = 30.0
CODES: dict[type[RepositoryError], str] = {
    RepositoryError: "internal",
    NotFound: "not_found",
    Conflict: "conflict",
    VersionConflict: "version_conflict",
    PathTaken: "path_taken",
    EmailTaken: "email_taken",
    InvalidInput: "invalid_input",
    Unavailable: "unavailable",
    PrivilegedLogin: "privileged_login",
    Contention: "contention",
    Unreadable: "unreadable",
    Timeout: "timeout",
    PoolExhausted: "pool_exhausted",
    UnsafeLoginSettings: "unsafe_login_settings",
    UnitOfWorkMisuse: "unit_of_work_misuse",
    NestedUnitOfWork: "nested_unit_of_work",
    ConcurrentCalls: "concurrent_calls",
}


async def raised_by(call: Awaitable[object]) -> RepositoryError:
    with pytest.raises(RepositoryError) as raised:
        await call
    return raised.value


def assert_coded(error: RepositoryError, cls: type[RepositoryError]) -> None:
    """Exactly `cls`, with its code on the instance and a client-safe
    message that is str(error)."""
    assert type(error) is cls, repr(error)
    assert error.code == CODES[cls] == cls.code
    assert error.public_message == str(error)
    assert error.public_message


def assert_safe(error: RepositoryError, *secrets: str) -> None:
    """None of `secrets` is in the client-safe message; the detail keeps
    them for the logs, and so does a formatted traceback."""
    for secret in secrets:
        assert secret not in str(error), (secret, str(error))
        assert secret not in error.public_message
    assert error.detail is not None
    logged = "".join(traceback.format_exception(error))
    assert error.detail in logged


def test_every_error_class_has_its_own_stable_code() -> None:
    assert len(set(CODES.values())) == len(CODES)
    for cls, code in CODES.items():
        assert cls.code == code, cls
    exported = {
        cls
        for name in repositories.__all__
        if isinstance(cls := getattr(repositories, name), type)
        and issubclass(cls, RepositoryError)
    }
    assert exported == set(CODES)


async def test_a_lock_wait_past_command_timeout_is_timeout(
    app_url: str, user: User, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The server answered all along: `timeout`, not `unavailable`."""
    async with Store.open(app_url, command_timeout=0.5) as impatient:
        project = await new_project(impatient, user)
        async with superuser.transaction():
            await superuser.execute(
                "SELECT FROM projects WHERE id = $1 FOR UPDATE", project.id
            )

            async def put() -> None:
                async with impatient.unit_of_work(user.id) as uow:
                    await uow.files.put(project.id, "a.txt", "a")

            error = await raised_by(asyncio.wait_for(put(), HANG_GUARD_S))
    assert_coded(error, Timeout)
    assert str(error) == ("file: timed out waiting for the database; run it again")
    parts = urlsplit(app_url)
    assert parts.hostname is not None
    assert_safe(error, parts.hostname, str(parts.port), "app_login")


@pytest.mark.parametrize(
    ("limit", "sqlstate"), [("statement_timeout", "57014"), ("lock_timeout", "55P03")]
)
async def test_the_servers_own_time_limits_are_timeout(
    store: Store,
    user: User,
    superuser: asyncpg.Connection[asyncpg.Record],
    limit: str,
    sqlstate: str,
) -> None:
    """A limit set inside the unit of work (white-box: a query of queries/
    could do it) cancels the lock wait on the server: `timeout` too, with
    the server's SQLSTATE."""
    project = await new_project(store, user)

    async def put() -> None:
        async with store.unit_of_work(user.id) as uow:
            await connection_of(uow).execute(f"SET LOCAL {limit} = '100ms'")
            await uow.files.put(project.id, "a.txt", "a")

    async with superuser.transaction():
        await superuser.execute(
            "SELECT FROM projects WHERE id = $1 FOR UPDATE", project.id
        )
        error = await raised_by(asyncio.wait_for(put(), HANG_GUARD_S))
    assert_coded(error, Timeout)
    assert isinstance(error, Timeout)
    assert error.sqlstate == sqlstate
    assert_safe(error, sqlstate)
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.list(project.id)).items == []


async def test_every_connection_in_use_is_pool_exhausted(
    app_url: str, user: User
) -> None:
    async with (
        Store.open(app_url, max_size=1, acquire_timeout=0.2) as tiny,
        tiny.unit_of_work(user.id),
    ):
        error = await raised_by(tiny.unit_of_work(user.id).__aenter__())
    assert_coded(error, PoolExhausted)
    assert str(error) == (
        "the service is at its capacity: no database connection freed up"
    )
    parts = urlsplit(app_url)
    assert parts.hostname is not None
    assert_safe(error, parts.hostname, str(parts.port), "app_login")


async def test_not_found_version_conflict_path_taken_and_invalid_input(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "one")
        await uow.files.put(project.id, "a.txt", "two")  # version 2
        await uow.files.put(project.id, "b.txt", "bee")

        missing = await raised_by(uow.files.get(project.id, "nope.txt"))
        assert_coded(missing, NotFound)
        assert str(missing) == "file not found"

        stale = await raised_by(
            uow.files.put(project.id, "a.txt", "x", expected_version=1)
        )
        assert_coded(stale, VersionConflict)
        assert str(stale) == (
            "file conflict: expected version 1, found 2 (current version: 2)"
        )
        # Create only, onto a path that holds a file: the caller's stated
        # expectation (none exists) did not hold, a version conflict.
        exists = await raised_by(
            uow.files.put(project.id, "a.txt", "x", expected_version=0)
        )
        assert_coded(exists, VersionConflict)

        taken = await raised_by(uow.files.move(project.id, "a.txt", "b.txt"))
        assert_coded(taken, PathTaken)
        assert isinstance(taken, PathTaken)
        assert str(taken) == "file conflict: new_path is taken (current version: 1)"
        assert "expected version" not in str(taken)
        assert taken.current_version == 1

        bad = await raised_by(uow.files.put(project.id, "../up.txt", "x"))
        assert_coded(bad, InvalidInput)
        assert isinstance(bad, InvalidInput)
        assert bad.field == "path"
        assert bad.path is None

        state = await raised_by(
            uow.agent_states.save(project.id, {"x": 1}, expected_version=3)
        )
        assert_coded(state, VersionConflict)


async def test_email_taken(store: Store) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    await store.users.create(email=email, name="Ada")
    taken = await raised_by(store.users.create(email=email.upper(), name="Twin"))
    assert_coded(taken, EmailTaken)
    assert str(taken) == "user conflict: the e-mail address is already registered"
    assert email not in str(taken)


async def test_sync_names_the_offending_path(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        bad_path = await raised_by(
            uow.files.sync(project.id, {"ok.txt": "fine", "src//a.py": "x"})
        )
        assert_coded(bad_path, InvalidInput)
        assert isinstance(bad_path, InvalidInput)
        assert (bad_path.field, bad_path.path) == ("path", "src//a.py")
        assert str(bad_path).startswith('invalid path at files["src//a.py"]: ')

        bad_content = await raised_by(
            uow.files.sync(project.id, {"ok.txt": "fine", "src/a.py": "nul\x00"})
        )
        assert isinstance(bad_content, InvalidInput)
        assert (bad_content.field, bad_content.path) == ("content", "src/a.py")
        assert str(bad_content) == (
            'invalid content at files["src/a.py"]: must not contain NUL characters'
        )

        # A control character or a lone surrogate in the path is quoted
        # escaped: the message stays printable and encodable as UTF-8.
        hostile = await raised_by(uow.files.sync(project.id, {"a\x1b\ud800.txt": "x"}))
        assert isinstance(hostile, InvalidInput)
        assert hostile.path == "a\x1b\ud800.txt"
        assert '"a\\u001b\\ud800.txt"' in str(hostile)
        str(hostile).encode("utf-8")  # no lone surrogate left in it
        assert (await uow.files.list(project.id)).items == []


async def test_a_unique_violation_no_subclass_names_is_conflict(
    store: Store, user: User, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    """uow.run of the generated MoveFile, whose guard cannot see a target
    another transaction inserted and has not committed yet: the unique
    index refuses the move once that transaction commits."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "a")
    backend = Backend()

    async def mover() -> None:
        async with store.unit_of_work(user.id) as uow:
            await backend.is_(uow)
            await uow.run(
                file_queries.move_file,
                new_path="b.txt",
                project_id=project.id,
                owner_id=user.id,
                path="a.txt",
            )

    async with store.unit_of_work(user.id) as inserter:
        await inserter.files.put(project.id, "b.txt", "b")  # not committed yet
        task = asyncio.create_task(mover())
        try:
            await backend.waits_on_a_lock(superuser)
        except BaseException:
            task.cancel()
            raise
    # The inserter committed: the waiting move now hits the unique index.
    error = await raised_by(asyncio.wait_for(task, HANG_GUARD_S))
    assert_coded(error, Conflict)
    assert_safe(error, "project_files_pkey", "23505")
    assert isinstance(error.__cause__, asyncpg.UniqueViolationError)
    assert error.detail is not None
    assert "project_files_pkey" in error.detail


@pytest.mark.not_on_citus(
    reason="Citus does not pass the constraint name of a worker's error on to"
    " the client (constraint_name is None), so detail cannot name it"
)
async def test_a_check_violation_keeps_the_constraint_in_detail(
    store: Store, user: User
) -> None:
    """A generated query run with uow.run skips the repositories' checks;
    the database's CHECK refuses the value, and its name stays out of the
    message. The failed statement then makes leaving the block `internal`."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "a")
    with pytest.raises(RepositoryError) as rolled_back:
        async with store.unit_of_work(user.id) as uow:
            refused = await raised_by(
                uow.run(
                    file_queries.move_file,
                    project_id=project.id,
                    owner_id=user.id,
                    path="a.txt",
                    new_path="/absolute",
                )
            )
    assert_coded(refused, InvalidInput)
    assert isinstance(refused.__cause__, asyncpg.CheckViolationError)
    constraint = refused.__cause__.constraint_name
    assert constraint
    assert_safe(refused, constraint, "23514")
    assert refused.detail is not None
    assert constraint in refused.detail
    assert str(refused) == "invalid move_file: refused by the database"

    assert_coded(rolled_back.value, RepositoryError)
    assert "rolled back" in str(rolled_back.value)


async def test_a_refused_login_is_internal_without_role_host_or_sqlstate(
    database_url: str,
) -> None:
    parts = urlsplit(database_url)
    assert parts.hostname is not None
    assert parts.port is not None
    role = f"no_such_role_{uuid.uuid4().hex[:8]}"
    dsn = f"postgres://{role}@{parts.hostname}:{parts.port}/postgres?sslmode=disable"
    error = await raised_by(asyncio.wait_for(Store.open(dsn), HANG_GUARD_S))
    assert_coded(error, RepositoryError)
    assert str(error) == "database error"
    assert_safe(error, role, parts.hostname, str(parts.port), "28000")
    assert error.detail is not None
    assert role in error.detail
    assert "28000" in error.detail


async def test_a_privileged_login_names_no_role(database_url: str) -> None:
    error = await raised_by(Store.open(database_url))
    assert_coded(error, PrivilegedLogin)
    assert isinstance(error, PrivilegedLogin)
    assert_safe(error, error.role)
    assert error.detail is not None
    assert repr(error.role) in error.detail


async def test_an_unreachable_server_is_unavailable_without_host_or_port() -> None:
    port = cluster.free_port()  # nothing listens there
    dsn = f"postgres://app_login@127.0.0.1:{port}/app?sslmode=disable"
    error = await raised_by(asyncio.wait_for(Store.open(dsn), HANG_GUARD_S))
    assert_coded(error, Unavailable)
    assert str(error) == "the database is unavailable"
    assert_safe(error, "127.0.0.1", str(port), "app_login")
    assert error.detail is not None
    assert str(port) in error.detail  # the driver named the address


async def test_a_stopped_server_is_unavailable_without_host_or_port() -> None:
    """A server of this test's own, stopped under an open Store: the next
    unit of work, and the one after it (which tries to reconnect), are
    Unavailable, and neither message names the server."""
    with cluster.throwaway_cluster(prefix="error-codes-pg-") as server:
        url = server.url()
        # An empty cluster: no migrations, so the cursor key is given.
        async with Store.open(
            url,
            min_size=1,
            max_size=1,
            allow_privileged_login_unsafe=True,
            cursor_key=b"k" * 32,
        ) as store:
            server.stop("fast")
            for _ in range(2):
                with pytest.raises(Unavailable) as raised:
                    async with store.unit_of_work(uuid.uuid4()):
                        pass
                error = raised.value
                assert_coded(error, Unavailable)
                assert_safe(error, "127.0.0.1", str(server.port), "postgres")
