"""New databases on a Citus coordinator, ready for migrations/.

Citus keeps its metadata per database: a database created on the
coordinator knows no workers and has no `citus` extension, and the workers
do not have it at all. When ``CITUS_CLUSTER=1`` (set by `nox -s citus`,
devtools.citus), `migrate.create_migrated_database` creates each database
here instead: the same name on the coordinator and on every worker,
`CREATE EXTENSION citus` in each, and the coordinator and the workers
registered in the new database as they are in the admin URL's database
(`pg_dist_node`). The migrations then distribute its tables as on any
cluster. Dropping it drops it on every node.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from devtools import database

CLUSTER_VARIABLE = "CITUS_CLUSTER"

NODES = """
SELECT nodename, nodeport, groupid = 0 AS is_coordinator
FROM pg_dist_node
WHERE isactive AND noderole = 'primary'
ORDER BY groupid, nodeid
"""


@dataclass(frozen=True)
class Node:
    host: str
    port: int


@dataclass(frozen=True)
class Nodes:
    coordinator: Node
    workers: tuple[Node, ...]


def enabled() -> bool:
    """Whether this process creates its test databases on a Citus cluster."""
    return os.environ.get(CLUSTER_VARIABLE, "").strip() == "1"


def on_node(url: str, node: Node, name: str) -> str:
    """`url`'s login, on `node`, database `name`."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    host = f"{node.host}:{node.port}"
    netloc = f"{userinfo}@{host}" if userinfo else host
    return parts._replace(netloc=netloc, path=f"/{name}").geturl()


async def _execute(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url, timeout=database.CONNECT_TIMEOUT_S)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def nodes(admin_url: str) -> Nodes:
    """The coordinator and workers registered in `admin_url`'s database."""
    conn = await asyncpg.connect(admin_url, timeout=database.CONNECT_TIMEOUT_S)
    rows: list[asyncpg.Record] = []
    try:
        rows = await conn.fetch(NODES)
    except asyncpg.UndefinedTableError:
        pass  # no citus extension in that database
    finally:
        await conn.close()
    coordinators = [
        Node(r["nodename"], r["nodeport"]) for r in rows if r["is_coordinator"]
    ]
    if not coordinators:
        raise database.DatabaseUnreachable(
            f"{CLUSTER_VARIABLE}=1, but {database.redact(admin_url)} is not a "
            "Citus coordinator with its own node registered "
            "(citus_set_coordinator_host)"
        )
    workers = tuple(
        Node(r["nodename"], r["nodeport"]) for r in rows if not r["is_coordinator"]
    )
    return Nodes(coordinators[0], workers)


async def register(url: str, cluster: Nodes) -> None:
    """In the coordinator's database at `url`: the extension, then the
    coordinator and the workers as nodes."""
    conn = await asyncpg.connect(url, timeout=database.CONNECT_TIMEOUT_S)
    try:
        await conn.execute("CREATE EXTENSION citus")
        await conn.execute(
            "SELECT citus_set_coordinator_host($1, $2)",
            cluster.coordinator.host,
            cluster.coordinator.port,
        )
        for worker in cluster.workers:
            await conn.execute(
                "SELECT citus_add_node($1, $2)", worker.host, worker.port
            )
    finally:
        await conn.close()


async def create_database(
    admin_url: str, prefix: str
) -> tuple[str, Callable[[], Coroutine[Any, Any, None]]]:
    """As `database.create_database`, on every node of the Citus cluster
    whose coordinator `admin_url` names, with Citus set up in it. The
    workers are reached at their `pg_dist_node` addresses with `admin_url`'s
    login, from its database."""
    cluster = await nodes(admin_url)
    name = f"{prefix}_{secrets.token_hex(5)}"
    admin_database = urlsplit(admin_url).path.lstrip("/") or "postgres"
    admins = [
        admin_url,
        *(on_node(admin_url, node, admin_database) for node in cluster.workers),
    ]
    url = database.with_database(admin_url, name)

    async def drop() -> None:
        await asyncio.gather(
            *(
                _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                for admin in admins
            )
        )

    try:
        await asyncio.gather(
            *(_execute(admin, f'CREATE DATABASE "{name}"') for admin in admins)
        )
        await asyncio.gather(
            *(
                _execute(on_node(admin_url, node, name), "CREATE EXTENSION citus")
                for node in cluster.workers
            )
        )
        await register(url, cluster)
    except BaseException:
        await drop()
        raise
    return url, drop
