"""Settings stored on the login role or its database (`ALTER ROLE … SET`,
`ALTER DATABASE … SET`) that would change every unit of work: the Store
pins those it can at connection start, so a planted one changes nothing;
the others make Store.open refuse the login, naming them. A planted
`statement_timeout = '1ms'` used to make every unit of work of every new
Store fail, across restarts, as `unavailable`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from repositories import Store, UnsafeLoginSettings
from tests.support import new_project, new_user

HANG_GUARD_S = 30.0

Plant = Callable[[str, str], Awaitable[None]]


@pytest.fixture
async def plant(
    superuser: asyncpg.Connection[asyncpg.Record],
) -> AsyncIterator[Plant]:
    """`await plant(scope, "name = value")`: a setting stored on this test
    database for `scope` (a role, or "database"), reset afterwards."""
    database = await superuser.fetchval("SELECT current_database()")
    planted: list[str] = []

    def target(scope: str) -> str:
        if scope == "database":
            return f'ALTER DATABASE "{database}"'
        return f'ALTER ROLE {scope} IN DATABASE "{database}"'

    async def planter(scope: str, setting: str) -> None:
        await superuser.execute(f"{target(scope)} SET {setting}")
        planted.append(scope)

    try:
        yield planter
    finally:
        for scope in set(planted):
            await superuser.execute(f"{target(scope)} RESET ALL")


@pytest.mark.parametrize(
    "setting",
    [
        "statement_timeout = '1ms'",
        "lock_timeout = '1ms'",
        "idle_in_transaction_session_timeout = '1ms'",
        "row_security = off",
    ],
)
async def test_a_planted_setting_the_store_pins_changes_nothing(
    plant: Plant, app_url: str, auth_url: str, setting: str
) -> None:
    await plant("app_login", setting)
    async with Store.open(app_url, auth_dsn=auth_url) as store:
        owner = await new_user(store)
        project = await new_project(store, owner)
        async with store.unit_of_work(owner.id) as uow:
            await uow.files.put(project.id, "a.txt", "a")
            # Idle in the transaction for longer than the planted limit.
            await asyncio.sleep(0.05)
            await uow.files.sync(project.id, {f"{i}.txt": "x" for i in range(100)})
            await uow.agent_states.save(project.id, {"step": 1})
        async with store.unit_of_work(owner.id) as uow:
            assert len((await uow.files.list(project.id)).items) == 100
        async with store._pool.acquire() as conn:  # white-box: the session
            row = await conn.fetchrow(
                "SELECT current_setting('statement_timeout') AS statement_timeout,"
                " current_setting('lock_timeout') AS lock_timeout,"
                " current_setting('idle_in_transaction_session_timeout') AS idle,"
                " current_setting('row_security') AS row_security"
            )
    assert row is not None
    assert dict(row) == {
        "statement_timeout": "0",
        "lock_timeout": "0",
        "idle": "0",
        "row_security": "on",
    }


async def test_a_planted_setting_the_store_cannot_pin_refuses_the_login(
    plant: Plant, app_url: str
) -> None:
    """idle_session_timeout (PostgreSQL 14) ends a pooled connection that
    waits in the pool, and the next unit of work on it fails: the Store
    cannot pin it at connection start on every supported server."""
    await plant("app_login", "idle_session_timeout = '10min'")
    with pytest.raises(UnsafeLoginSettings) as refused:
        await asyncio.wait_for(Store.open(app_url), HANG_GUARD_S)
    error = refused.value
    assert error.code == "unsafe_login_settings"
    assert error.role == "app_login"
    assert error.settings == [
        "idle_session_timeout = 600000ms (ALTER ROLE … IN DATABASE … SET)"
    ]
    assert "app_login" not in str(error)  # the role is for the logs
    assert error.detail is not None
    assert "idle_session_timeout = 600000ms" in error.detail
    assert "'app_login'" in error.detail


async def test_a_setting_stored_on_the_database_or_the_auth_login_is_named(
    plant: Plant, app_url: str, auth_url: str
) -> None:
    await plant("database", "idle_session_timeout = '1h'")
    with pytest.raises(UnsafeLoginSettings) as tenant:
        await Store.open(app_url)
    assert tenant.value.settings == [
        "idle_session_timeout = 3600000ms (ALTER DATABASE … SET)"
    ]
    await plant("app_auth_login", "idle_session_timeout = '2h'")
    await plant("app_login", "idle_session_timeout = 0")
    with pytest.raises(UnsafeLoginSettings) as auth:
        await Store.open(app_url, auth_dsn=auth_url)
    assert auth.value.role == "app_auth_login"
    assert auth.value.settings == [
        "idle_session_timeout = 7200000ms (ALTER ROLE … IN DATABASE … SET)"
    ]


async def test_harmless_stored_settings_are_accepted(
    plant: Plant, app_url: str
) -> None:
    """The control: a stored value that changes no unit of work (a time
    limit of 0, a memory setting) does not refuse the login."""
    await plant("app_login", "idle_session_timeout = 0")
    await plant("app_login", "work_mem = '8MB'")
    async with Store.open(app_url) as store:
        await store.ping()
