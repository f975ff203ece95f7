"""Repository errors keep the database error they replace as `__cause__`, so
a logged traceback still shows PostgreSQL's SQLSTATE, message and detail; the
error types routes catch stay the contract's."""

from __future__ import annotations

import asyncio
import traceback
import uuid

import asyncpg
import pytest

from repositories import (
    Conflict,
    InvalidInput,
    NotFound,
    RepositoryError,
    Store,
    Unavailable,
)
from repositories._translate import translated

HANG_GUARD_S = 30.0


async def refused(
    conn: asyncpg.Connection[asyncpg.Record], statement: str, *args: object
) -> RepositoryError:
    """The repository error a statement the server refuses becomes."""
    with pytest.raises(RepositoryError) as raised, translated("thing"):
        await conn.execute(statement, *args)
    return raised.value


def assert_caused_by(
    error: BaseException, cause: type[BaseException], sqlstate: str | None = None
) -> None:
    assert isinstance(error.__cause__, cause), repr(error.__cause__)
    if sqlstate is not None:
        assert isinstance(error.__cause__, asyncpg.PostgresError)
        assert error.__cause__.sqlstate == sqlstate
    logged = "".join(traceback.format_exception(error))
    assert "direct cause of the following exception" in logged
    assert type(error.__cause__).__name__ in logged


async def test_each_database_refusal_keeps_its_sqlstate(
    superuser: asyncpg.Connection[asyncpg.Record],
) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    await superuser.execute("INSERT INTO users (email, name) VALUES ($1, 'Ada')", email)
    taken = await refused(
        superuser,
        "INSERT INTO users (email, name) VALUES ($1, 'Twin')",
        email.upper(),
    )
    assert type(taken) is Conflict
    assert_caused_by(taken, asyncpg.UniqueViolationError, "23505")

    orphan = await refused(
        superuser,
        "INSERT INTO projects (owner_id, name) VALUES ($1, 'orphan')",
        uuid.uuid4(),
    )
    assert type(orphan) is NotFound
    assert_caused_by(orphan, asyncpg.ForeignKeyViolationError, "23503")
    assert isinstance(orphan.__cause__, asyncpg.ForeignKeyViolationError)
    assert orphan.__cause__.detail is not None  # the key PostgreSQL names

    owner = await superuser.fetchval("SELECT id FROM users WHERE email = $1", email)
    nameless = await refused(
        superuser, "INSERT INTO projects (owner_id, name) VALUES ($1, '')", owner
    )
    assert type(nameless) is InvalidInput
    assert_caused_by(nameless, asyncpg.CheckViolationError, "23514")

    other = await refused(superuser, "SELECT 1 / 0")
    assert type(other) is RepositoryError
    assert_caused_by(other, asyncpg.DivisionByZeroError, "22012")


async def test_a_lost_connection_is_unavailable_caused_by_the_driver_error(
    database_url: str,
) -> None:
    conn = await asyncpg.connect(database_url)
    await conn.close()
    with pytest.raises(Unavailable) as raised, translated("thing"):
        await conn.execute("SELECT 1")
    assert_caused_by(raised.value, asyncpg.InterfaceError)


async def test_open_keeps_the_reason_of_a_refused_login(database_url: str) -> None:
    server = database_url.split("//", 1)[1].split("@", 1)[1].split("/", 1)[0]
    cases = {
        f"postgres://no_such_role_{uuid.uuid4().hex[:8]}@{server}/postgres": (
            asyncpg.InvalidAuthorizationSpecificationError,
            "28000",
        ),
        f"postgres://postgres@{server}/no_such_db_{uuid.uuid4().hex[:8]}": (
            asyncpg.InvalidCatalogNameError,
            "3D000",
        ),
    }
    for dsn, (cause, sqlstate) in cases.items():
        with pytest.raises(RepositoryError) as raised:
            await asyncio.wait_for(Store.open(f"{dsn}?sslmode=disable"), HANG_GUARD_S)
        assert type(raised.value) is RepositoryError
        assert_caused_by(raised.value, cause, sqlstate)


async def test_open_keeps_the_reason_of_a_malformed_or_unreachable_dsn() -> None:
    with pytest.raises(InvalidInput) as malformed:
        await Store.open("postgres://app@127.0.0.1:notaport/app")
    assert malformed.value.field == "dsn"
    assert_caused_by(malformed.value, ValueError)

    with pytest.raises(Unavailable) as unreachable:
        await asyncio.wait_for(
            Store.open("postgres://nobody@127.0.0.1:1/x"), HANG_GUARD_S
        )
    assert_caused_by(unreachable.value, OSError)
