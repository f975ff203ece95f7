"""Store.open as an application calls it: awaited (twice, or by two tasks at
once, it opens one Store), entered with `async with` (closed on exit),
given options that make no sense (each refused, naming it, with nothing
opened), and failing or cancelled half-way (whatever it had opened is
closed). What is open is counted on the server: the backends whose
application_name is the test's own tag, which each test puts in the URLs
it opens a Store on."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

import asyncpg
import pytest

from repositories import InvalidInput, PrivilegedLogin, Store
from tests.support import wait_until_waiting_on_a_lock

GUARD_S = 30.0
# What an open Store holds: the connection its tenant pool opens at once
# (min_size=1), and with an auth_dsn the one the auth pool opened for its
# login check (it opens connections when first needed, and keeps them).
TENANT_ONLY = 1
WITH_AUTH = 2


def tagged(url: str, tag: str) -> str:
    """`url` whose connections carry `tag` as their application_name."""
    return f"{url}{'&' if '?' in url else '?'}application_name={tag}"


def new_tag() -> str:
    return f"open-{uuid.uuid4().hex[:12]}"


async def open_connections(
    admin: asyncpg.Connection[asyncpg.Record], tag: str
) -> list[int]:
    """The server processes of the connections tagged `tag`."""
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
        tag,
    )
    return [row["pid"] for row in rows]


async def all_closed(admin: asyncpg.Connection[asyncpg.Record], tag: str) -> None:
    """Wait (bounded) until no connection tagged `tag` is left: a closed
    connection's backend leaves pg_stat_activity when it has read the
    client's goodbye, just after the client closed it."""
    for _ in range(int(GUARD_S / 0.01)):
        if not await open_connections(admin, tag):
            return
        await asyncio.sleep(0.01)
    left = await open_connections(admin, tag)
    raise AssertionError(f"connections left open: backends {left}")


async def test_awaiting_the_opener_twice_opens_one_store(
    app_url: str, auth_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    tag = new_tag()
    opener = Store.open(tagged(app_url, tag), auth_dsn=tagged(auth_url, tag))
    first = await opener
    try:
        second = await opener
        assert second is first
        # One Store's pools, not two Stores': the second would hold its own.
        assert len(await open_connections(superuser, tag)) == WITH_AUTH
        await first.ping()
    finally:
        await first.close()
    await all_closed(superuser, tag)


async def test_two_tasks_awaiting_it_at_once_get_one_store(
    app_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    tag = new_tag()
    opener = Store.open(tagged(app_url, tag))
    # Two tasks (gather given the same object twice would await it once).
    tasks = [asyncio.ensure_future(opener), asyncio.ensure_future(opener)]
    first, second = await asyncio.gather(*tasks)
    try:
        assert second is first
        assert len(await open_connections(superuser, tag)) == TENANT_ONLY
    finally:
        await first.close()
    await all_closed(superuser, tag)


async def test_async_with_closes_the_store_it_opened(
    app_url: str, auth_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    tag = new_tag()
    async with Store.open(
        tagged(app_url, tag), auth_dsn=tagged(auth_url, tag)
    ) as store:
        user = await store.users.create(email=f"{tag}@example.com", name="Ada")
        async with store.unit_of_work(user.id) as uow:
            await uow.projects.create("demo")
        assert len(await open_connections(superuser, tag)) == WITH_AUTH
    await all_closed(superuser, tag)


async def test_entering_after_awaiting_gives_that_store_and_closes_it(
    app_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    tag = new_tag()
    opener = Store.open(tagged(app_url, tag))
    awaited = await opener
    async with opener as entered:
        assert entered is awaited
        assert len(await open_connections(superuser, tag)) == TENANT_ONLY
    await all_closed(superuser, tag)


# Each argument of Store.open given a value that makes no sense, and the name
# InvalidInput gives: every one is refused by the same check.
BAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"auth_dsn": b"postgres://"}, "auth_dsn"),
    ({"min_size": -1}, "min_size"),
    ({"min_size": 1.0}, "min_size"),
    ({"max_size": 0}, "max_size"),
    ({"min_size": 3, "max_size": 2}, "min_size"),
    ({"acquire_timeout": 0}, "acquire_timeout"),
    ({"acquire_timeout": math.inf}, "acquire_timeout"),
    ({"command_timeout": -1}, "command_timeout"),
    ({"command_timeout": "30"}, "command_timeout"),
    ({"statement_cache_size": -1}, "statement_cache_size"),
    ({"max_content_bytes": 0}, "max_content_bytes"),
    ({"max_content_bytes": -1}, "max_content_bytes"),
    ({"max_content_bytes": False}, "max_content_bytes"),
    ({"max_sync_files": 0}, "max_sync_files"),
    ({"max_sync_bytes": -1}, "max_sync_bytes"),
    ({"cursor_key": b"too short"}, "cursor_key"),
    ({"cursor_key": "0" * 64}, "cursor_key"),
    ({"allow_privileged_login_unsafe": 1}, "allow_privileged_login_unsafe"),
    ({"slow_unit_of_work": -0.5}, "slow_unit_of_work"),
    ({"slow_unit_of_work": math.nan}, "slow_unit_of_work"),
    ({"server_settings": "application_name=x"}, "server_settings"),
    ({"server_settings": {"work_mem": 64}}, "server_settings"),
    ({"init": print}, "init"),
    ({"reset": print}, "reset"),
]


@pytest.mark.parametrize(
    ("options", "name"),
    BAD_OPTIONS,
    ids=[f"{name}={options!r}" for options, name in BAD_OPTIONS],
)
async def test_each_bad_option_is_refused_with_nothing_opened(
    app_url: str,
    superuser: asyncpg.Connection[asyncpg.Record],
    options: dict[str, Any],
    name: str,
) -> None:
    tag = new_tag()
    with pytest.raises(InvalidInput) as refused:
        await Store.open(tagged(app_url, tag), **options)
    assert refused.value.field == name
    assert name in str(refused.value)
    assert await open_connections(superuser, tag) == []


async def test_options_asyncpg_refuses_are_refused_before_connecting(
    app_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    """asyncpg checks some of its own options when the pool is made, before
    it connects: they are named as pool options, not as the URL."""
    tag = new_tag()
    with pytest.raises(InvalidInput) as refused:
        await Store.open(tagged(app_url, tag), max_queries=0)
    assert refused.value.field == "pool_options"
    assert refused.value.detail is not None
    assert "max_queries" in refused.value.detail
    assert await open_connections(superuser, tag) == []


async def test_a_refused_auth_login_closes_the_tenant_pool(
    app_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The tenant pool opened and passed its check; the auth login (here
    the tenant's, which can act as any tenant) is refused after it."""
    tag = new_tag()
    with pytest.raises(PrivilegedLogin):
        await Store.open(tagged(app_url, tag), auth_dsn=tagged(app_url, tag))
    await all_closed(superuser, tag)


async def test_a_malformed_auth_dsn_is_named_and_closes_the_tenant_pool(
    app_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    tag = new_tag()
    with pytest.raises(InvalidInput) as refused:
        await Store.open(
            tagged(app_url, tag), auth_dsn="postgres://app@127.0.0.1:notaport/app"
        )
    assert refused.value.field == "auth_dsn"
    await all_closed(superuser, tag)


async def test_a_refused_tenant_login_leaves_nothing_open(
    database_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    tag = new_tag()
    with pytest.raises(PrivilegedLogin):
        await Store.open(tagged(database_url, tag))
    await all_closed(superuser, tag)


async def test_an_opening_cancelled_half_way_closes_both_pools_and_can_be_awaited_again(
    app_url: str,
    auth_url: str,
    database_url: str,
    superuser: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Both pools are open and checked when the Store reads the cursor key;
    a lock held on the key's table keeps it there until the opening is
    cancelled. The next await opens the Store."""
    tag = new_tag()
    opener = Store.open(tagged(app_url, tag), auth_dsn=tagged(auth_url, tag))
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute(
                "LOCK TABLE cursor_signing_key IN ACCESS EXCLUSIVE MODE"
            )
            opening = asyncio.ensure_future(opener)
            reader = await wait_for_a_backend(superuser, tag, opening)
            await wait_until_waiting_on_a_lock(superuser, reader)
            # Both pools are open, and checked.
            assert len(await open_connections(superuser, tag)) == WITH_AUTH
            opening.cancel()
            with pytest.raises(asyncio.CancelledError):
                await opening
        await all_closed(superuser, tag)
    finally:
        await holder.close()
    store = await opener
    try:
        assert await opener is store
        await store.ping()
    finally:
        await store.close()
    await all_closed(superuser, tag)


async def wait_for_a_backend(
    admin: asyncpg.Connection[asyncpg.Record],
    tag: str,
    opening: asyncio.Future[Store],
) -> int:
    """The tenant pool's backend (the first connection tagged `tag`), once
    it runs a statement that reads the cursor key."""
    for _ in range(int(GUARD_S / 0.01)):
        assert not opening.done(), opening
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
            " AND query LIKE '%cursor_signing_key%' AND state = 'active'",
            tag,
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.01)
    raise AssertionError("the opening never read the cursor key")
