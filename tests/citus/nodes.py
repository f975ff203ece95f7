"""The Citus cluster of these tests and what its nodes hold: which worker
has each shard, the shard tables each worker really has, rows outside
their shard's hash range, and shard tables left behind by a move."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg

from devtools import citus, citusdb, cluster
from repositories._database import TENANT_TABLES as PACKAGE_TENANT_TABLES

# Every tenant table of the package, with its distribution column: projects
# by its id, the others (co-located with it) by their project_id.
TENANT_TABLES = {
    table: "id" if table == "projects" else "project_id"
    for table in PACKAGE_TENANT_TABLES
}
# Non-blocking shard moves replicate logically: every node may publish
# (wal_level) and subscribe; the rebalancer's background tasks need
# worker processes of their own.
LOGICAL_SETTINGS = {
    **citus.WORKER_SETTINGS,
    "wal_level": "'logical'",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    "max_logical_replication_workers": "8",
}


@dataclass(frozen=True)
class Cluster:
    coordinator: cluster.ThrowawayCluster
    workers: tuple[cluster.ThrowawayCluster, ...]

    def url(self) -> str:
        return self.coordinator.url()

    def node(self, worker: cluster.ThrowawayCluster) -> citusdb.Node:
        return citusdb.Node("127.0.0.1", worker.port)


@contextmanager
def started(bins: Path, servers: int) -> Iterator[Cluster]:
    """A coordinator and `servers` more servers with Citus installed and
    logical replication on; none is a worker yet (`join`)."""
    with ExitStack() as stack:
        nodes = [
            stack.enter_context(
                cluster.throwaway_cluster(
                    bins=bins,
                    settings=LOGICAL_SETTINGS,
                    hba=citus.HBA,
                    prefix=f"citus-grow-{n}-",
                )
            )
            for n in range(servers + 1)
        ]
        yield Cluster(nodes[0], tuple(nodes[1:]))


async def execute(url: str, statement: str, *args: object) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def prepare(grown: Cluster, joined: int) -> None:
    """The extension on every server, the coordinator registered, the first
    `joined` servers added as workers."""
    for worker in grown.workers:
        await execute(worker.url(), "CREATE EXTENSION citus")
    await citusdb.register(
        grown.url(),
        citusdb.Nodes(
            citusdb.Node("127.0.0.1", grown.coordinator.port),
            tuple(grown.node(w) for w in grown.workers[:joined]),
        ),
    )


@dataclass(frozen=True)
class Placements:
    """Where each shard of the tenant tables is, by worker port."""

    by_port: dict[int, int]
    of_project: dict[UUID, int]

    def spread(self) -> str:
        return ", ".join(f"{port}: {n}" for port, n in sorted(self.by_port.items()))


async def placements(coordinator_url: str, projects: list[UUID]) -> Placements:
    conn = await asyncpg.connect(coordinator_url)
    try:
        rows = await conn.fetch(
            "SELECT n.nodeport, count(*) AS shards FROM pg_dist_shard s"
            " JOIN pg_dist_placement p USING (shardid)"
            " JOIN pg_dist_node n USING (groupid)"
            " WHERE s.logicalrelid = ANY($1::regclass[]) GROUP BY n.nodeport",
            list(TENANT_TABLES),
        )
        where = await conn.fetch(
            "SELECT id, (SELECT n.nodeport FROM pg_dist_placement p"
            "  JOIN pg_dist_node n USING (groupid)"
            "  WHERE p.shardid = get_shard_id_for_distribution_column('projects', id))"
            " AS nodeport FROM unnest($1::uuid[]) AS id",
            projects,
        )
    finally:
        await conn.close()
    return Placements(
        {r["nodeport"]: r["shards"] for r in rows},
        {r["id"]: r["nodeport"] for r in where},
    )


@dataclass(frozen=True)
class ShardAudit:
    """Rows on a shard that is not where the metadata puts it (orphaned: a
    shard table on a worker without a placement there), rows outside
    their shard's hash range (wrong shard), shards the metadata places on
    a worker that lacks the table (missing), and the rows the placed shards
    hold against what the coordinator counts."""

    orphaned: list[str]
    wrong_shard: list[str]
    missing: list[str]
    placed_rows: dict[str, int]
    counted_rows: dict[str, int]

    def problems(self) -> list[str]:
        counts = [
            f"{table}: {self.placed_rows.get(table)} rows in placed shards, "
            f"{n} through the coordinator"
            for table, n in self.counted_rows.items()
            if self.placed_rows.get(table) != n
        ]
        return [*self.orphaned, *self.wrong_shard, *self.missing, *counts]


SHARD_TABLES = f"""
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND c.relname ~ '^({"|".join(TENANT_TABLES)})_[0-9]+$'
"""


async def audit(grown: Cluster) -> ShardAudit:
    """Every worker's shard tables checked against the coordinator's
    metadata, after the coordinator removed what moves left behind
    (citus_cleanup_orphaned_resources)."""
    conn = await asyncpg.connect(grown.url())
    try:
        await conn.execute("CALL citus_cleanup_orphaned_resources()")
        shards = await conn.fetch(
            "SELECT s.shardid, s.logicalrelid::text AS tbl,"
            " s.shardminvalue::int AS lo, s.shardmaxvalue::int AS hi,"
            " array_agg(n.nodeport) FILTER (WHERE n.nodeport IS NOT NULL) AS ports"
            " FROM pg_dist_shard s LEFT JOIN pg_dist_placement p USING (shardid)"
            " LEFT JOIN pg_dist_node n USING (groupid)"
            " WHERE s.logicalrelid = ANY($1::regclass[])"
            " GROUP BY s.shardid, s.logicalrelid, s.shardminvalue, s.shardmaxvalue",
            list(TENANT_TABLES),
        )
        counted = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in TENANT_TABLES
        }
    finally:
        await conn.close()
    by_id = {r["shardid"]: r for r in shards}
    orphaned, wrong, missing = [], [], []
    placed: Counter[str] = Counter()
    for worker in grown.workers:
        if not worker.is_running():
            continue
        conn = await asyncpg.connect(worker.url())
        try:
            await conn.execute("SET citus.override_table_visibility = off")
            present = {r["relname"] for r in await conn.fetch(SHARD_TABLES)}
            for name in sorted(present):
                table, _, number = name.rpartition("_")
                shard = by_id.get(int(number))
                rows = await conn.fetchval(f"SELECT count(*) FROM {name}")
                if shard is None or worker.port not in (shard["ports"] or []):
                    orphaned.append(
                        f"{name} on {worker.port}: {rows} rows, no placement there"
                    )
                    continue
                placed[table] += rows
                outside = await conn.fetchval(
                    f"SELECT count(*) FROM {name}"
                    f" WHERE worker_hash({TENANT_TABLES[table]}) NOT BETWEEN $1 AND $2",
                    shard["lo"],
                    shard["hi"],
                )
                if outside:
                    wrong.append(
                        f"{name} on {worker.port}: {outside} rows outside its range"
                    )
            for shard in shards:
                name = f"{shard['tbl']}_{shard['shardid']}"
                if worker.port in (shard["ports"] or []) and name not in present:
                    missing.append(
                        f"{name}: placed on {worker.port}, no such table there"
                    )
        finally:
            await conn.close()
    for shard in shards:
        if len(shard["ports"] or []) != 1:
            missing.append(f"shard {shard['shardid']}: placements on {shard['ports']}")
    return ShardAudit(orphaned, wrong, missing, dict(placed), counted)


@dataclass(frozen=True)
class Rebalance:
    state: str
    seconds: float
    moves: int
    details: str


class ApplyRefused(AssertionError):
    """A shard move's logical-replication apply worker failed on the target."""


async def apply_errors(worker: cluster.ThrowawayCluster) -> int:
    conn = await asyncpg.connect(worker.url())
    try:
        errors: int = await conn.fetchval(
            "SELECT coalesce(sum(apply_error_count + sync_error_count), 0)::int"
            " FROM pg_stat_subscription_stats"
            " WHERE subname LIKE 'citus_shard_move_subscription_%'"
        )
    finally:
        await conn.close()
    return errors


def error_lines(node: cluster.ThrowawayCluster) -> list[str]:
    text = node.log.read_text(errors="replace") if node.log.exists() else ""
    return [
        line
        for line in text.splitlines()
        if ("ERROR:" in line or "FATAL:" in line) and "prepared transaction" not in line
    ]


async def rebalance(
    grown: Cluster, target: cluster.ThrowawayCluster, within_s: float
) -> Rebalance:
    """citus_rebalance_start(), then citus_rebalance_status() until the job
    ends. A move that failed once (the job would retry it with a backoff,
    for ever) or an apply error on the target (the apply worker would
    retry it every few seconds) ends the wait at once: ApplyRefused with
    the job's details and the target's log lines, after
    citus_rebalance_stop()."""
    conn = await asyncpg.connect(grown.url())
    started = time.monotonic()
    try:
        await conn.execute("SELECT citus_rebalance_start()")
        while True:
            status = await conn.fetchrow(
                "SELECT state::text, details::text FROM citus_rebalance_status()"
            )
            assert status is not None
            if status["state"] not in ("scheduled", "running"):
                break
            tasks = json.loads(status["details"] or "{}").get("tasks", [])
            retried = [t for t in tasks if t.get("retried") or t.get("message")]
            if (
                retried
                or await apply_errors(target)
                or time.monotonic() - started > within_s
            ):
                await conn.execute("SELECT citus_rebalance_stop()")
                lines = error_lines(target) + error_lines(grown.coordinator)
                raise ApplyRefused(
                    f"the rebalance did not finish ({status['state']}, "
                    f"{time.monotonic() - started:.0f} s): {status['details']}\n"
                    + "\n".join(lines[-5:])
                )
            await asyncio.sleep(0.5)
        moves = await conn.fetchval(
            "SELECT count(*) FROM pg_dist_background_task t"
            " JOIN pg_dist_background_job j USING (job_id)"
            " WHERE j.job_id = (SELECT max(job_id) FROM pg_dist_background_job)"
            " AND t.command LIKE '%citus_move_shard_placement%'"
        )
    finally:
        await conn.close()
    return Rebalance(
        status["state"], time.monotonic() - started, moves, status["details"] or ""
    )
