"""The server restarted under a write load (soak: `nox -s soak`).

Runs on a throwaway cluster of its own (tests/reliability/cluster.py), never
on the shared embedded server. Writers put files through one Store and
record each write the Store acknowledged (the unit of work committed without
an exception); on Unavailable they retry the same write. Mid-load the server
is restarted, several times, with `pg_ctl restart -m fast` (and, as a crash,
`-m immediate`). Afterwards every acknowledged write must be in the
database, and the Store, never reopened, must have gone on acknowledging
writes after each restart. Any exception other than Unavailable is a
finding and fails the test.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from devtools import database
from repositories import Store, Unavailable
from tests.support import new_project, new_user

from .cluster import ThrowawayCluster, throwaway_cluster
from .helpers import HANG_GUARD_S, files_as_superuser

pytestmark = pytest.mark.soak

WRITERS = 4
RESTARTS = 3
ACKS_BETWEEN_RESTARTS = 200  # before the first, between two, after the last
MAX_WRITES_PER_WRITER = 10_000
MAX_ATTEMPTS_PER_WRITE = 2_000
RETRY_PAUSE_S = 0.05
LOAD_DEADLINE_S = 180.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayCluster]:
    with throwaway_cluster() as started:
        yield started


@dataclass
class Load:
    """What the writers saw. A write's phase is the phase it started in:
    "before" the first restart, "during" a restart, "after" one."""

    phase: str = "before"
    acked: list[tuple[str, str, str]] = field(default_factory=list)
    unavailable: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)
    restart_returned_at: float = 0.0
    waiting_for_first_ack: bool = False
    first_ack_after_restart_s: list[float] = field(default_factory=list)

    def acked_in(self, phase: str) -> int:
        return sum(1 for *_, acked_phase in self.acked if acked_phase == phase)


async def wait_until(condition: Callable[[], bool], deadline: float, what: str) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def app_login(cluster: ThrowawayCluster) -> str:
    """The application's URL on the cluster: app_login, which the cluster's
    migrations created and its loopback trusts."""
    return database.as_role(cluster.url(), database.APP_LOGIN_ROLE)


def auth_login(cluster: ThrowawayCluster) -> str:
    """The auth layer's URL on the cluster: app_auth_login, likewise."""
    return database.as_role(cluster.url(), database.AUTH_LOGIN_ROLE)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_acknowledged_writes_survive_restarts_under_load(
    cluster: ThrowawayCluster, mode: str
) -> None:
    deadline = time.monotonic() + LOAD_DEADLINE_S
    token = secrets.token_hex(4)
    load = Load()
    stop = asyncio.Event()
    restart_seconds: list[float] = []

    async with Store.open(
        app_login(cluster),
        auth_dsn=auth_login(cluster),
        max_size=WRITERS,
        acquire_timeout=5.0,
        command_timeout=10.0,
    ) as store:
        owner = await new_user(store)
        project = await new_project(store, owner, f"restart {mode}")

        async def write(path: str, content: str) -> bool:
            """Retries the same write until acknowledged; False if out of time."""
            for _ in range(MAX_ATTEMPTS_PER_WRITE):
                if time.monotonic() > deadline:
                    return False
                phase = load.phase
                try:
                    async with store.unit_of_work(owner.id) as uow:
                        await uow.files.put(project.id, path, content)
                except Unavailable:
                    load.unavailable[phase] = load.unavailable.get(phase, 0) + 1
                    await asyncio.sleep(RETRY_PAUSE_S)
                    continue
                except Exception as error:  # anything else is a finding
                    load.unexpected.append(f"{phase}: {error!r}")
                    load.traces.append("".join(traceback.format_exception(error)))
                    await asyncio.sleep(RETRY_PAUSE_S)
                    continue
                load.acked.append((path, content, phase))
                if load.waiting_for_first_ack and load.phase == "after":
                    load.waiting_for_first_ack = False
                    load.first_ack_after_restart_s.append(
                        time.monotonic() - load.restart_returned_at
                    )
                return True
            return False

        async def writer(number: int) -> None:
            for n in range(MAX_WRITES_PER_WRITER):
                if stop.is_set():
                    return
                path = f"{mode}/w{number}/{n:05d}.txt"
                if not await write(path, f"{token} {number} {n}\n"):
                    return
                await asyncio.sleep(0)

        def acknowledged_at_least(target: int) -> Callable[[], bool]:
            return lambda: len(load.acked) >= target

        writers = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
        try:
            for restart in range(RESTARTS + 1):
                await wait_until(
                    acknowledged_at_least(len(load.acked) + ACKS_BETWEEN_RESTARTS),
                    deadline,
                    f"{ACKS_BETWEEN_RESTARTS} acknowledged writes after "
                    f"{restart} restart(s): the Store did not recover",
                )
                if restart == RESTARTS:
                    break
                load.phase = "during"
                started = time.monotonic()
                await asyncio.to_thread(cluster.restart, mode)
                restart_seconds.append(time.monotonic() - started)
                load.restart_returned_at = time.monotonic()
                load.waiting_for_first_ack = True
                load.phase = "after"
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*writers), HANG_GUARD_S * 4)

        # Seen through the same, never reopened, Store.
        listed = 0
        async with store.unit_of_work(owner.id) as uow:
            cursor: str | None = None
            for _ in range(1_000):
                page = await uow.files.list(project.id, limit=500, cursor=cursor)
                listed += len(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break

    stored = {
        path: content
        for path, (content, _) in (
            await files_as_superuser(cluster.url(), project.id)
        ).items()
    }
    acked = {path: content for path, content, _ in load.acked}
    lost = sorted(
        path for path, content in acked.items() if stored.get(path) != content
    )
    stored_unacknowledged = sorted(set(stored) - set(acked))

    print(
        f"\nrestart -m {mode} x{RESTARTS}: {len(load.acked)} writes acknowledged "
        f"({load.acked_in('before')} before the first restart, "
        f"{load.acked_in('during')} started during one, "
        f"{load.acked_in('after')} after), {len(lost)} lost; "
        f"Unavailable by phase {load.unavailable}; "
        f"stored but never acknowledged: {len(stored_unacknowledged)}; "
        f"pg_ctl restart took {[round(s, 2) for s in restart_seconds]} s; "
        f"first acknowledged write "
        f"{[round(s, 3) for s in load.first_ack_after_restart_s]} s after each; "
        f"unexpected errors ({len(load.unexpected)}): {load.unexpected[:3]}"
    )
    # Durability first: nothing acknowledged is missing.
    assert lost == []
    assert len(acked) == len(load.acked), "one path acknowledged twice"
    assert listed == len(stored)
    # Writes were retried until acknowledged, so only the ones in flight when
    # the load stopped can be stored without an acknowledgement.
    assert len(stored_unacknowledged) <= WRITERS
    # The restarts broke connections, and the writers only ever heard
    # Unavailable about it.
    assert sum(load.unavailable.values()) >= RESTARTS
    assert load.unexpected == [], load.traces[0]


async def test_stopped_server_is_unavailable_then_the_store_recovers(
    cluster: ThrowawayCluster,
) -> None:
    async with Store.open(
        app_login(cluster),
        auth_dsn=auth_login(cluster),
        max_size=2,
        acquire_timeout=5.0,
        command_timeout=10.0,
    ) as store:
        owner = await new_user(store)
        project = await new_project(store, owner, "stopped")
        await asyncio.to_thread(cluster.stop, "fast")
        try:
            with pytest.raises(Unavailable):
                await asyncio.wait_for(write_once(store, owner.id, project.id), 60)
            with pytest.raises(Unavailable):
                await asyncio.wait_for(store.users.get(owner.id), HANG_GUARD_S)
            with pytest.raises(Unavailable):
                await asyncio.wait_for(Store.open(app_login(cluster)), HANG_GUARD_S)
        finally:
            await asyncio.to_thread(cluster.start)

        # The same Store, never reopened, serves again.
        async with store.unit_of_work(owner.id) as uow:
            written = await uow.files.put(project.id, "after.txt", "up\n")
        assert written.outcome == "created"
        async with store.unit_of_work(owner.id) as uow:
            page = await uow.files.list(project.id)
        assert [entry.path for entry in page.items] == ["after.txt"]


async def write_once(store: Store, owner_id: uuid.UUID, project_id: uuid.UUID) -> None:
    async with store.unit_of_work(owner_id) as uow:
        await uow.files.put(project_id, "while-down.txt", "down\n")


def test_soak_tests_run_on_their_own_cluster(cluster: ThrowawayCluster) -> None:
    """Guard: the cluster these tests restart is never the shared one."""
    from devtools import embedded

    shared = embedded.read_state()
    assert shared is None or cluster.port != shared.port
    assert cluster.root.name.startswith("reliability-pg-")
    assert cluster.is_running()
