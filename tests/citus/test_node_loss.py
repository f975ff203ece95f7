"""Losing a Citus worker under load (`nox -s citus_growth`).

A coordinator and two workers serve 16 writers and readers. One worker is
stopped the hard way (`pg_ctl stop -m immediate`: a crash, no shutdown)
while they run, then started again. While it is down, the calls on the
projects whose shards it holds fail with a typed error; the calls on the
other worker's projects go on. Once it is back, the same Store (no restart
of the application) serves its projects again, and no acknowledged write
is lost, no version repeated.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from devtools import citus, database
from repositories import Store

from . import load, nodes

pytestmark = pytest.mark.citus_growth

WRITERS = 16
CALLS_BEFORE = 300
# Calls of each kind of project counted while the worker is down, and
# successes on its projects once it is back.
CALLS_WHILE_DOWN = 100
CALLS_AFTER = 100
# A call that touches every shard: it fails wherever its project is.
FAN_OUT = {"projects"}


async def test_a_worker_lost_and_brought_back_under_load(
    citus_build: citus.Installation,
) -> None:
    with nodes.started(citus_build.bins, servers=2) as grown:
        await nodes.prepare(grown, joined=2)
        print(grown.coordinator.load_schema().rstrip(), flush=True)
        writers = await load.seed(grown.url(), WRITERS)
        projects = [p for w in writers for p in w.projects]
        victim = grown.workers[1]
        where = await nodes.placements(grown.url(), projects)
        lost = {p for p, port in where.of_project.items() if port == victim.port}
        assert lost, where.of_project
        assert len(lost) < len(projects), where.of_project

        def count(*, on_lost: bool, ok: bool, since: float) -> int:
            """Single-project calls since `since` that succeeded (ok) or
            failed, on the lost worker's projects or on the others'."""
            return sum(
                1
                for c in ledger.calls
                if c.started >= since
                and (c.error is None) == ok
                and c.kind not in FAN_OUT
                and (c.project in lost) == on_lost
            )

        app_url = await database.app_login_url(grown.url())
        async with (
            Store.open(app_url, max_size=WRITERS + 4) as store,
            load.running(store, writers) as ledger,
        ):
            await load.wait_for(
                lambda: ledger.succeeded() >= CALLS_BEFORE, "the load running"
            )
            down = time.monotonic()
            await asyncio.to_thread(victim.stop, "immediate")
            stopped = time.monotonic()
            await load.wait_for(
                lambda: (
                    count(on_lost=True, ok=False, since=stopped) >= CALLS_WHILE_DOWN
                    and count(on_lost=False, ok=True, since=stopped) >= CALLS_WHILE_DOWN
                ),
                "calls failing on the lost worker's projects and going on elsewhere",
            )
            await asyncio.to_thread(victim.start)
            up = time.monotonic()
            await load.wait_for(
                lambda: count(on_lost=True, ok=True, since=up) >= CALLS_AFTER,
                "the lost worker's projects served again",
            )
            recovered = min(
                c.started + c.seconds
                for c in ledger.calls
                if c.started >= up and c.error is None and c.project in lost
            )
            settled = time.monotonic()
            await load.wait_for(
                lambda: ledger.succeeded(settled) >= CALLS_AFTER,
                "the load going on",
            )

        read = await load.read_back(grown.url(), ledger)
        shards = await nodes.audit(grown)

    while_down = [c for c in ledger.calls if stopped <= c.started < up]
    failed_down = [c for c in while_down if c.error is not None]
    elsewhere = [
        c for c in failed_down if c.project not in lost and c.kind not in FAN_OUT
    ]
    after = [c for c in ledger.calls if c.started >= settled and c.error is not None]
    print(
        f"\nworker {victim.port} holds {len(lost)} of {len(projects)} projects; "
        f"stopped in {stopped - down:.1f} s, down {up - stopped:.1f} s, "
        f"its projects served again {recovered - up:.2f} s after its start\n"
        f"while down: {load.summary(ledger, stopped, up)}\n"
        f"once back: {load.summary(ledger, up)}\n"
        f"failed while down, by code: {dict(Counter(c.error for c in failed_down))};"
        f" by kind: {dict(Counter(c.kind for c in failed_down))}\n"
        f"read back: {read.keys} keys written, {len(read.lost)} acknowledged writes lost,"
        f" {len(read.repeated)} versions repeated; shards: {shards.problems() or 'as placed'}",
        flush=True,
    )
    for detail in sorted({str(c.detail)[:300] for c in ledger.calls if c.error})[:8]:
        print(f"  {detail}", flush=True)
    assert elsewhere == []
    # Every failure of the run, the calls cut off by the crash included.
    assert {c.error for c in ledger.calls if c.error} == {"unavailable"}
    assert failed_down
    assert after == []
    assert read.lost == []
    assert read.repeated == []
    assert shards.problems() == []
