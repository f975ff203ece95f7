"""Many units of work at once on one Store: no lost update, no mixed tree,
no stray row, and only the contract's errors.

Every assertion is about the final state and about which outcomes are
possible, never about timing, so a run passes or fails whatever order the
scheduler picks.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from repositories import Conflict, NotFound, Store, SyncResult, User
from tests.support import new_project, new_user

from .helpers import (
    HANG_GUARD_S,
    history_as_superuser,
    opened_store,
    rows_of_project,
    superuser,
    tree_via_repositories,
)


@pytest.fixture(scope="module")
async def wide_store(app_url: str, auth_url: str) -> AsyncIterator[Store]:
    """16 connections, shared by many more tasks."""
    async with opened_store(app_url, auth_url, max_size=16) as opened:
        yield opened


# --------------------------------------------------------------------------
# one path, 64 writers
# --------------------------------------------------------------------------

WRITERS = 64


async def test_concurrent_upserts_of_one_path_count_every_write(
    wide_store: Store, database_url: str
) -> None:
    owner = await new_user(wide_store)
    project = await new_project(wide_store, owner)
    path = "shared/hot.txt"
    contents = [f"writer {n}\n" for n in range(WRITERS)]

    async def write(content: str) -> tuple[str, int]:
        async with wide_store.unit_of_work(owner.id) as uow:
            written = await uow.files.put(project.id, path, content)
        return written.outcome, written.file.version

    results = await asyncio.wait_for(
        asyncio.gather(*(write(content) for content in contents)), HANG_GUARD_S
    )

    outcomes = [outcome for outcome, _ in results]
    assert outcomes.count("created") == 1
    assert outcomes.count("updated") == WRITERS - 1
    # Every write got its own version: the versions are exactly 1..64.
    versions = sorted(version for _, version in results)
    assert versions == list(range(1, WRITERS + 1))

    async with wide_store.unit_of_work(owner.id) as uow:
        page = await uow.files.list(project.id)
        stored = await uow.files.get(project.id, path)
    assert [entry.path for entry in page.items] == [path]
    assert stored.version == sum(o in ("created", "updated") for o in outcomes)
    assert stored.content in contents
    # ... and it is the content of the write that was acknowledged last.
    last = max(range(WRITERS), key=lambda n: results[n][1])
    assert stored.content == contents[last]
    rows = await rows_of_project(database_url, project.id)
    assert rows["project_files"] == 1
    # The history holds every write: version n is the content of the write
    # that got version n, and each distinct content is stored once.
    history = await history_as_superuser(database_url, project.id)
    assert [
        (path, version, sha256) for path, version, _, sha256, _ in history.file_versions
    ] == sorted(
        (path, version, hashlib.sha256(content.encode()).hexdigest())
        for content, (_, version) in zip(contents, results, strict=True)
    )
    assert all(deleted is None for *_, deleted in history.file_versions)
    assert rows["file_versions"] == WRITERS
    assert rows["file_contents"] == WRITERS


# --------------------------------------------------------------------------
# agent-state compare-and-swap under contention
# --------------------------------------------------------------------------

CAS_TASKS = 16
CAS_INCREMENTS = 5
CAS_MAX_ATTEMPTS = 2_000  # per task; contention makes ~N x K the typical worst
CAS_DEADLINE_S = 120.0


@dataclass
class CasTally:
    successes: int = 0
    conflicts: int = 0
    attempts: int = 0
    seen_versions: list[int] = field(default_factory=list)
    # (the version the save expected, the current version the Conflict named)
    conflict_versions: list[tuple[int, int | None]] = field(default_factory=list)


async def test_agent_state_compare_and_swap_loses_no_update(
    wide_store: Store,
) -> None:
    owner = await new_user(wide_store)
    project = await new_project(wide_store, owner)
    deadline = time.monotonic() + CAS_DEADLINE_S

    async def incrementer() -> CasTally:
        tally = CasTally()
        while tally.successes < CAS_INCREMENTS:
            assert tally.attempts < CAS_MAX_ATTEMPTS, "no progress: too many attempts"
            assert time.monotonic() < deadline, "no progress before the deadline"
            tally.attempts += 1
            async with wide_store.unit_of_work(owner.id) as uow:
                try:
                    current = await uow.agent_states.get(project.id)
                    version, counter = current.version, current.state["counter"]
                except NotFound:
                    version, counter = 0, 0  # the first save creates it
                # The version and the counter move together, or an update was lost.
                assert counter == version
                try:
                    saved = await uow.agent_states.save(
                        project.id, {"counter": counter + 1}, expected_version=version
                    )
                except Conflict as conflict:
                    tally.conflicts += 1
                    tally.conflict_versions.append((version, conflict.current_version))
                    continue
            assert saved.version == version + 1
            tally.successes += 1
            tally.seen_versions.append(saved.version)
        return tally

    tallies = await asyncio.gather(*(incrementer() for _ in range(CAS_TASKS)))

    async with wide_store.unit_of_work(owner.id) as uow:
        final = await uow.agent_states.get(project.id)
    expected = CAS_TASKS * CAS_INCREMENTS
    assert final.version == expected
    assert final.state == {"counter": expected}
    # Each version was won by exactly one task.
    won = sorted(v for tally in tallies for v in tally.seen_versions)
    assert won == list(range(1, expected + 1))
    # A Conflict names a newer current version than the one expected.
    for tally in tallies:
        for expected_version, current in tally.conflict_versions:
            assert current is not None
            assert current > expected_version
    attempts = sum(tally.attempts for tally in tallies)
    conflicts = sum(tally.conflicts for tally in tallies)
    print(f"CAS: {expected} increments, {attempts} attempts, {conflicts} conflicts")


async def test_file_compare_and_swap_loses_no_update(wide_store: Store) -> None:
    """The same race on a file, whose content is the counter: rivals that
    lose a round write exactly the winner's content, which must still be a
    Conflict (expected version passed), never "unchanged"."""
    owner = await new_user(wide_store)
    project = await new_project(wide_store, owner)
    deadline = time.monotonic() + CAS_DEADLINE_S
    path = "counter.txt"

    async def incrementer() -> CasTally:
        tally = CasTally()
        while tally.successes < CAS_INCREMENTS:
            assert tally.attempts < CAS_MAX_ATTEMPTS, "no progress: too many attempts"
            assert time.monotonic() < deadline, "no progress before the deadline"
            tally.attempts += 1
            async with wide_store.unit_of_work(owner.id) as uow:
                try:
                    current = await uow.files.get(project.id, path)
                    version, counter = current.version, int(current.content)
                except NotFound:
                    version, counter = 0, 0
                assert counter == version
                try:
                    written = await uow.files.put(
                        project.id, path, str(counter + 1), expected_version=version
                    )
                except Conflict as conflict:
                    tally.conflicts += 1
                    tally.conflict_versions.append((version, conflict.current_version))
                    continue
            assert (written.outcome, written.file.version) == (
                "created" if version == 0 else "updated",
                version + 1,
            )
            tally.successes += 1
            tally.seen_versions.append(written.file.version)
        return tally

    tallies = await asyncio.gather(*(incrementer() for _ in range(CAS_TASKS)))

    expected = CAS_TASKS * CAS_INCREMENTS
    async with wide_store.unit_of_work(owner.id) as uow:
        final = await uow.files.get(project.id, path)
    assert (final.version, final.content) == (expected, str(expected))
    won = sorted(v for tally in tallies for v in tally.seen_versions)
    assert won == list(range(1, expected + 1))
    for tally in tallies:
        for expected_version, current in tally.conflict_versions:
            assert current is not None
            assert current > expected_version


# --------------------------------------------------------------------------
# two syncs of one project at once
# --------------------------------------------------------------------------

SYNC_ROUNDS = 5
SHARED = 50  # paths in both trees, different content
SAME = 10  # paths in both trees (and the initial one), same content
OWN = 140  # paths only in one tree
INITIAL_ONLY = 30


def tree(label: str) -> dict[str, str]:
    files = {f"shared/{n:03d}.txt": f"{label} shared {n}\n" for n in range(SHARED)}
    files |= {f"same/{n:03d}.txt": f"same {n}\n" for n in range(SAME)}
    files |= {f"{label}/{n:03d}.py": f"# {label} own {n}\n" for n in range(OWN)}
    return files


def initial_tree() -> dict[str, str]:
    files = {f"shared/{n:03d}.txt": f"initial {n}\n" for n in range(SHARED)}
    files |= {f"same/{n:03d}.txt": f"same {n}\n" for n in range(SAME)}
    files |= {f"initial/{n:03d}.md": f"initial only {n}\n" for n in range(INITIAL_ONLY)}
    return files


async def test_concurrent_syncs_leave_one_whole_tree(
    wide_store: Store, database_url: str
) -> None:
    owner = await new_user(wide_store)
    trees = {"alpha": tree("alpha"), "beta": tree("beta")}
    assert all(len(files) == 200 for files in trees.values())
    winners: list[str] = []

    for _ in range(SYNC_ROUNDS):
        project = await new_project(wide_store, owner)
        async with wide_store.unit_of_work(owner.id) as uow:
            await uow.files.sync(project.id, initial_tree())

        async def sync(files: dict[str, str], project_id: uuid.UUID) -> SyncResult:
            async with wide_store.unit_of_work(owner.id) as uow:
                return await uow.files.sync(project_id, files)

        results = await asyncio.wait_for(
            asyncio.gather(*(sync(files, project.id) for files in trees.values())),
            HANG_GUARD_S,
        )
        final = await tree_via_repositories(wide_store, owner, project.id)
        matches = [label for label, files in trees.items() if final == files]
        assert len(matches) == 1, "the final tree is a mix of the two syncs"
        winner = matches[0]
        winners.append(winner)

        # The syncs took turns: the first ran over the initial tree, the
        # winner over the first one's tree.
        by_label = dict(zip(trees, results, strict=True))
        first = by_label["beta" if winner == "alpha" else "alpha"]
        assert first == SyncResult(
            created=OWN, updated=SHARED, unchanged=SAME, deleted=INITIAL_ONLY
        )
        assert by_label[winner] == SyncResult(
            created=OWN, updated=SHARED, unchanged=SAME, deleted=OWN
        )
        async with wide_store.unit_of_work(owner.id) as uow:
            assert (await uow.files.get(project.id, "shared/000.txt")).version == 3
            assert (await uow.files.get(project.id, "same/000.txt")).version == 1
        rows = await rows_of_project(database_url, project.id)
        assert rows["project_files"] == 200
        # Each sync added a version per path it created or updated, and
        # marked (did not add) one per path it deleted; the history stores
        # each distinct content once.
        history = await history_as_superuser(database_url, project.id)
        written = sum(result.created + result.updated for result in results)
        assert rows["file_versions"] == len(initial_tree()) + written
        assert sum(deleted is not None for *_, deleted in history.file_versions) == sum(
            result.deleted for result in results
        )
        every_content = {
            *initial_tree().values(),
            *(content for files in trees.values() for content in files.values()),
        }
        assert rows["file_contents"] == len(every_content)

    assert len(winners) == SYNC_ROUNDS


# --------------------------------------------------------------------------
# deleting a project while it is being written
# --------------------------------------------------------------------------

FILE_WRITERS = 8
WRITES_BEFORE_DELETE = 40  # in total, so the delete lands mid-load
MAX_WRITES_PER_WRITER = 2_000
NOT_FOUND_STREAK = 3  # a writer stops after this many NotFound in a row
DELETE_DEADLINE_S = 60.0


@dataclass
class WriterLog:
    kind: str
    # (started after the delete committed?, "ok" | "not found" | repr(error))
    events: list[tuple[bool, str]] = field(default_factory=list)


async def test_deleting_a_project_under_writers_leaves_nothing_behind(
    wide_store: Store, database_url: str
) -> None:
    owner = await new_user(wide_store)
    project = await new_project(wide_store, owner)
    async with wide_store.unit_of_work(owner.id) as uow:
        await uow.agent_states.save(project.id, {"step": 0})
        await uow.files.put(project.id, "seed.txt", "seed\n")

    deleted = asyncio.Event()  # set once the deleting unit of work committed
    enough_writes = asyncio.Event()
    successes = 0
    deadline = time.monotonic() + DELETE_DEADLINE_S

    async def write_once(kind: str, writer: int, n: int) -> None:
        async with wide_store.unit_of_work(owner.id) as uow:
            if kind == "put":
                await uow.files.put(
                    project.id, f"w{writer}/{n % 7}.txt", f"{writer}:{n}\n"
                )
            elif kind == "save":
                await uow.agent_states.save(project.id, {"step": n})
            else:
                await uow.files.sync(
                    project.id, {f"s/{n % 5}.txt": f"{n}\n"}, delete_missing=False
                )

    async def writer(kind: str, number: int) -> WriterLog:
        nonlocal successes
        log = WriterLog(kind)
        streak = 0
        for n in range(MAX_WRITES_PER_WRITER):
            if streak >= NOT_FOUND_STREAK or time.monotonic() > deadline:
                break
            after_delete = deleted.is_set()
            try:
                await write_once(kind, number, n)
            except NotFound:
                log.events.append((after_delete, "not found"))
                streak += 1
                continue
            except Exception as error:  # recorded; the assertions name it
                log.events.append((after_delete, repr(error)))
                break
            log.events.append((after_delete, "ok"))
            streak = 0
            successes += 1
            if successes >= WRITES_BEFORE_DELETE:
                enough_writes.set()
            await asyncio.sleep(0)  # let the others (and the deleter) in
        return log

    async def deleter() -> None:
        await enough_writes.wait()
        async with wide_store.unit_of_work(owner.id) as uow:
            await uow.projects.delete(project.id)
        deleted.set()

    kinds = ["put"] * FILE_WRITERS + ["save", "sync"]
    writers = [asyncio.create_task(writer(kind, n)) for n, kind in enumerate(kinds)]
    await asyncio.wait_for(
        asyncio.gather(*writers, deleter()), DELETE_DEADLINE_S + HANG_GUARD_S
    )
    logs = [task.result() for task in writers]

    assert deleted.is_set()
    print(
        "delete under load:",
        [
            (log.kind, sum(o == "ok" for _, o in log.events), len(log.events))
            for log in logs
        ],
    )
    for log in logs:
        outcomes = [outcome for _, outcome in log.events]
        assert set(outcomes) <= {"ok", "not found"}, (log.kind, outcomes)
        # Once NotFound, always NotFound: no write lands after the delete.
        if "not found" in outcomes:
            first_missing = outcomes.index("not found")
            assert "ok" not in outcomes[first_missing:], (log.kind, outcomes)
        assert outcomes[-NOT_FOUND_STREAK:] == ["not found"] * NOT_FOUND_STREAK, (
            log.kind,
            outcomes[-10:],
        )
        # Whatever started after the delete committed was refused.
        assert all(outcome == "not found" for after, outcome in log.events if after)
        assert "ok" in outcomes, f"{log.kind} writer never wrote before the delete"

    # Nothing of the project is left, its history and contents included.
    assert await rows_of_project(database_url, project.id) == {
        "projects": 0,
        "project_files": 0,
        "agent_states": 0,
        "file_contents": 0,
        "file_versions": 0,
        "agent_state_versions": 0,
        "checkpoints": 0,
    }
    async with wide_store.unit_of_work(owner.id) as uow:
        with pytest.raises(NotFound):
            await uow.files.list(project.id)
        with pytest.raises(NotFound):
            await uow.agent_states.get(project.id)


async def test_store_is_usable_after_the_load(wide_store: Store, user: User) -> None:
    """The pool came out of the contention above healthy."""
    project = await new_project(wide_store, user)
    async with wide_store.unit_of_work(user.id) as uow:
        written = await uow.files.put(project.id, "after.txt", "after\n")
    assert written.outcome == "created"


# --------------------------------------------------------------------------
# races on one name: one winner, the others a Conflict they can go on from
# --------------------------------------------------------------------------

RACERS = 16


async def test_concurrent_moves_onto_one_path_have_one_winner(
    wide_store: Store, database_url: str
) -> None:
    owner = await new_user(wide_store)
    project = await new_project(wide_store, owner)
    async with wide_store.unit_of_work(owner.id) as uow:
        await uow.files.sync(
            project.id, {f"src/{n:02d}.txt": f"source {n}\n" for n in range(RACERS)}
        )

    async def mover(n: int) -> tuple[str, int | None]:
        """Moves its file onto the contested path; on Conflict the unit of
        work goes on (the contract) and commits a file of its own."""
        async with wide_store.unit_of_work(owner.id) as uow:
            try:
                moved = await uow.files.move(
                    project.id, f"src/{n:02d}.txt", "target.txt"
                )
            except Conflict as conflict:
                outcome: tuple[str, int | None] = ("conflict", conflict.current_version)
            else:
                outcome = ("moved", moved.version)
            await uow.files.put(project.id, f"after/{n:02d}.txt", "went on\n")
        return outcome

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(mover(n) for n in range(RACERS))), HANG_GUARD_S
    )

    winners = [n for n, (kind, _) in enumerate(outcomes) if kind == "moved"]
    assert len(winners) == 1
    winner = winners[0]
    tree = await tree_via_repositories(wide_store, owner, project.id)
    expected = {f"src/{n:02d}.txt": f"source {n}\n" for n in range(RACERS)}
    del expected[f"src/{winner:02d}.txt"]
    expected["target.txt"] = f"source {winner}\n"
    expected |= {f"after/{n:02d}.txt": "went on\n" for n in range(RACERS)}
    assert tree == expected
    # Each loser's Conflict names the version the taken path holds (the
    # errors module: "what the database holds now; None when the row does
    # not exist") - and the row did exist when each loser was refused.
    target_version = outcomes[winner][1]
    assert target_version == 2
    reported = [v for kind, v in outcomes if kind == "conflict"]
    assert reported == [target_version] * (RACERS - 1), (
        f"losers' Conflict.current_version: {reported}"
    )


async def test_concurrent_create_only_puts_have_one_winner(wide_store: Store) -> None:
    owner = await new_user(wide_store)
    project = await new_project(wide_store, owner)

    async def creator(n: int) -> tuple[str, int | None]:
        async with wide_store.unit_of_work(owner.id) as uow:
            try:
                written = await uow.files.put(
                    project.id, "claimed.txt", f"claim {n}\n", expected_version=0
                )
            except Conflict as conflict:
                outcome: tuple[str, int | None] = ("conflict", conflict.current_version)
            else:
                outcome = (written.outcome, written.file.version)
            await uow.files.put(project.id, f"after/{n:02d}.txt", "went on\n")
        return outcome

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(creator(n) for n in range(RACERS))), HANG_GUARD_S
    )
    assert sorted(outcomes) == [("conflict", 1)] * (RACERS - 1) + [("created", 1)]
    winner = outcomes.index(("created", 1))
    async with wide_store.unit_of_work(owner.id) as uow:
        assert (await uow.files.get(project.id, "claimed.txt")).content == (
            f"claim {winner}\n"
        )
        page = await uow.files.list(project.id, prefix="after/")
    assert len(page.items) == RACERS


async def test_concurrent_last_writer_wins_saves_count_every_save(
    wide_store: Store,
) -> None:
    owner = await new_user(wide_store)
    project = await new_project(wide_store, owner)

    async def saver(n: int) -> int:
        async with wide_store.unit_of_work(owner.id) as uow:
            saved = await uow.agent_states.save(project.id, {"writer": n})
        return saved.version

    versions = await asyncio.wait_for(
        asyncio.gather(*(saver(n) for n in range(WRITERS))), HANG_GUARD_S
    )
    assert sorted(versions) == list(range(1, WRITERS + 1))
    async with wide_store.unit_of_work(owner.id) as uow:
        final = await uow.agent_states.get(project.id)
    assert final.version == WRITERS
    assert final.state == {"writer": versions.index(WRITERS)}


async def test_concurrent_sign_ups_with_one_address_make_one_user(
    wide_store: Store, database_url: str
) -> None:
    local = uuid.uuid4().hex
    spellings = [
        f"{local}@example.com" if n % 2 else f"{local.upper()}@Example.COM"
        for n in range(RACERS)
    ]

    async def sign_up(email: str) -> str:
        try:
            await wide_store.users.create(email=email, name="Twin")
        except Conflict:
            return "conflict"
        return "created"

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(sign_up(email) for email in spellings)), HANG_GUARD_S
    )
    assert sorted(outcomes) == ["conflict"] * (RACERS - 1) + ["created"]
    async with superuser(database_url) as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM users WHERE lower(email) = lower($1)", spellings[0]
        )
    assert count == 1
