"""Pools for the workloads of many writers: one connection per writer, as
far as the server's max_connections allows (two such pools are open at a
time, the repositories' and the hand-written stack's)."""

from __future__ import annotations

from typing import Any

import asyncpg

from devtools.database import app_login_url
from repositories import Store

# Connections left for everything else on the server (psql, the admin
# connection of the run, a monitoring client).
MARGIN = 10


async def room(admin: asyncpg.Connection[Any]) -> int:
    """How many more client connections the server accepts now."""
    most = int(await admin.fetchval("SHOW max_connections"))
    reserved = int(await admin.fetchval("SHOW superuser_reserved_connections"))
    # PostgreSQL 16 added connections reserved for pg_use_reserved_connections.
    reserved += int(
        await admin.fetchval(
            "SELECT coalesce((SELECT setting FROM pg_settings"
            " WHERE name = 'reserved_connections'), '0')"
        )
    )
    used = int(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        )
    )
    return most - reserved - used


def capped(wanted: int, free: int, pools: int = 2) -> int:
    """`wanted` connections for each of `pools` pools, or what fits in `free`."""
    return max(1, min(wanted, (free - MARGIN) // pools))


async def open_store(url: str, size: int) -> Store:
    """The repositories as the application opens them (app_login), with a
    pool of `size`; no auth pool (the workloads create no user)."""
    return await Store.open(await app_login_url(url), min_size=size, max_size=size)
