"""What an operator's health check and dashboard read: store.ping() says
the server answers (typed errors otherwise), store.stats() the pools'
connections, from the pools themselves."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from devtools import cluster
from repositories import PoolExhausted, PoolStats, Store, Unavailable, User

from .helpers import HANG_GUARD_S, opened_store

# Bounded waits for a condition, one pass of the event loop each: never a
# speed claim.
LOOP_PASSES = 10_000


async def until_waiting(count: int, store: Store) -> None:
    for _ in range(LOOP_PASSES):
        if store.stats().tenant.waiting == count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"waiting never became {count}: {store.stats()}")


async def test_ping_answers_when_the_server_does(store: Store) -> None:
    await store.ping()  # returns: the server answered


async def test_ping_on_a_stopped_server_is_unavailable() -> None:
    with cluster.throwaway_cluster(prefix="health-pg-") as server:
        async with Store.open(
            server.url(),
            min_size=1,
            max_size=1,
            allow_privileged_login_unsafe=True,
            cursor_key=b"k" * 32,
        ) as store:
            await store.ping()
            server.stop("fast")
            for _ in range(2):  # the broken connection, then a new one
                with pytest.raises(Unavailable) as raised:
                    await asyncio.wait_for(store.ping(), HANG_GUARD_S)
                assert type(raised.value) is Unavailable


async def test_ping_with_every_connection_in_use_is_pool_exhausted(
    app_url: str, user: User
) -> None:
    """The server is fine; this process has no connection to spare. A
    health check can tell the two apart by the class (or the code)."""
    async with opened_store(app_url, max_size=1, acquire_timeout=0.2) as tiny:
        async with tiny.unit_of_work(user.id):
            with pytest.raises(PoolExhausted):
                await asyncio.wait_for(tiny.ping(), HANG_GUARD_S)
        await tiny.ping()


async def test_stats_count_connections_in_use_idle_and_callers_waiting(
    app_url: str, auth_url: str, user: User
) -> None:
    async with opened_store(
        app_url, auth_url, min_size=1, max_size=2, acquire_timeout=HANG_GUARD_S
    ) as store:
        await store.ping()
        stats = store.stats()
        assert stats.tenant == PoolStats(
            max_size=2, size=1, in_use=0, idle=1, waiting=0
        )
        assert stats.auth is not None
        assert stats.auth.max_size == 2
        assert stats.auth.in_use == 0
        async with contextlib.AsyncExitStack() as held:
            for _ in range(2):
                await held.enter_async_context(store.unit_of_work(user.id))
            assert store.stats().tenant == PoolStats(
                max_size=2, size=2, in_use=2, idle=0, waiting=0
            )
            third = asyncio.create_task(store.ping())
            try:
                await until_waiting(1, store)
            except BaseException:
                third.cancel()
                raise
        # Both freed: the waiting caller got one, then gave it back.
        await asyncio.wait_for(third, HANG_GUARD_S)
        assert store.stats().tenant == PoolStats(
            max_size=2, size=2, in_use=0, idle=2, waiting=0
        )


async def test_stats_without_an_auth_pool(app_url: str) -> None:
    async with Store.open(app_url, max_size=3) as store:
        stats = store.stats()
    assert stats.auth is None
    assert stats.tenant.max_size == 3


async def test_the_auth_pool_is_counted_apart(
    app_url: str, auth_url: str, user: User
) -> None:
    async with opened_store(app_url, auth_url, min_size=2, max_size=3) as store:
        assert (await store.users.get(user.id)).id == user.id
        stats = store.stats()
    # Opened when first needed (its one so far checked the login at open).
    assert stats.auth == PoolStats(max_size=3, size=1, in_use=0, idle=1, waiting=0)
    assert stats.tenant == PoolStats(max_size=3, size=2, in_use=0, idle=2, waiting=0)
