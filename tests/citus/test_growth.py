"""Growing a Citus cluster under load (`nox -s citus_growth`).

A coordinator and one worker serve 16 writers and readers calling the
repositories (puts, syncs, agent-state saves, file and project listings,
each writer on projects of its own). A second worker is added and Citus's
rebalancer moves shard groups to it with non-blocking moves (logical
replication) while the load runs. Then, read back through the coordinator:
no acknowledged write lost, no version repeated, no row on a wrong shard or
left behind, and shards on both workers.
"""

from __future__ import annotations

import time

import pytest

from devtools import citus, database
from repositories import Store

from . import load, nodes

pytestmark = pytest.mark.citus_growth

WRITERS = 16
# Calls the load makes before the change and after it: enough that every
# writer has run each kind of call on the cluster as it was and as it is.
CALLS_BEFORE = 300
CALLS_AFTER = 300
# A bound on the wait only, so that a stuck rebalance fails the test within
# pytest's timeout; it takes about a minute (docs/scaling.md).
REBALANCE_TIMEOUT_S = 240.0


# Who owns the tenant tables: the superuser that applied the migrations
# (as here), or a role of their own that bypasses row-level security, as
# docs/scaling.md asks of a cluster whose migrations do not run as a
# superuser. The moves' apply workers write the shards as that owner, and
# Citus connects to the workers as the owner to create the shards' copies
# (so it logs in, the clusters trusting 127.0.0.1, and may create tables in
# the schema, as a migrations role does).
OWNED_BY_A_BYPASSRLS_ROLE = [
    "CREATE ROLE tenant_tables_owner LOGIN BYPASSRLS",
    "GRANT CREATE ON SCHEMA public TO tenant_tables_owner",
    *(
        f"ALTER TABLE {table} OWNER TO tenant_tables_owner"
        for table in nodes.TENANT_TABLES
    ),
]


@pytest.mark.parametrize(
    "ownership",
    [
        pytest.param([], id="superuser"),
        pytest.param(OWNED_BY_A_BYPASSRLS_ROLE, id="bypassrls-role"),
    ],
)
async def test_a_worker_added_and_shards_rebalanced_under_load(
    citus_build: citus.Installation, ownership: list[str]
) -> None:
    with nodes.started(citus_build.bins, servers=2) as grown:
        await nodes.prepare(grown, joined=1)
        print(grown.coordinator.load_schema().rstrip(), flush=True)
        for statement in ownership:
            await nodes.execute(grown.url(), statement)
        writers = await load.seed(grown.url(), WRITERS)
        projects = [p for w in writers for p in w.projects]
        first, added = grown.workers
        before = await nodes.placements(grown.url(), projects)
        assert set(before.by_port) == {first.port}

        app_url = await database.app_login_url(grown.url())
        async with (
            Store.open(app_url, max_size=WRITERS + 4) as store,
            load.running(store, writers) as ledger,
        ):
            await load.wait_for(
                lambda: ledger.succeeded() >= CALLS_BEFORE, "the load running"
            )
            changed = time.monotonic()
            await nodes.execute(
                grown.url(), "SELECT citus_add_node('127.0.0.1', $1)", added.port
            )
            done = await nodes.rebalance(grown, added, REBALANCE_TIMEOUT_S)
            finished = time.monotonic()
            await load.wait_for(
                lambda: ledger.succeeded(finished) >= CALLS_AFTER,
                "the load going on after the rebalance",
            )

        after = await nodes.placements(grown.url(), projects)
        read = await load.read_back(grown.url(), ledger)
        shards = await nodes.audit(grown)

    during = ledger.failures(changed, finished)
    print(
        f"\nrebalance: {done.state} in {done.seconds:.1f} s, {done.moves} shard-group moves;"
        f" placements before {before.spread()}, after {after.spread()}\n"
        f"load during the rebalance: {load.summary(ledger, changed, finished)}\n"
        f"failed calls while it ran, by code: {dict(during) or 'none'}\n"
        f"read back: {read.keys} keys written, {len(read.lost)} acknowledged writes lost,"
        f" {len(read.repeated)} versions repeated; shards: {len(shards.orphaned)} orphaned,"
        f" {len(shards.wrong_shard)} with rows on the wrong shard,"
        f" {len(shards.missing)} missing",
        flush=True,
    )
    for call in ledger.calls:
        if call.error is not None:
            print(f"failed: {call.kind} {call.error}: {call.detail}", flush=True)
    assert done.state == "finished", done.details
    assert read.lost == []
    assert read.repeated == []
    assert shards.problems() == []
    assert set(after.by_port) == {first.port, added.port}
    assert min(after.by_port.values()) > 0
    failed = [c for c in ledger.calls if c.error is not None]
    assert failed == [], load.summary(ledger)
