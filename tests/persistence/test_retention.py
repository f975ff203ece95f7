"""Retention: `retention.prune` removes a file version only when it is not
its path's current version, is beyond the newest `keep_versions` of its
path, is older than `keep_for` and no checkpoint needs it (agent-state
versions alike); checkpoints go only under a checkpoint limit; content no
remaining version references is reclaimed, and every remaining version and
checkpoint still reads back byte for byte.

Ages are made by moving `created_at` into the past as the database's owner,
never by waiting.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import asyncpg
import pydantic
import pytest

from repositories import (
    Checkpoint,
    FileVersion,
    InvalidInput,
    NotFound,
    PathTaken,
    PruneResult,
    RetentionPolicy,
    Store,
    User,
)
from tests.persistence.helpers import (
    checkpoints_all,
    content_bytes,
    history_all,
    project_rows,
    snapshot,
)
from tests.support import new_project

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
OLD = timedelta(days=60)  # older than every keep_for below
KEEP_FOR = timedelta(days=30)


def policy(keep_versions: int, **limits: Any) -> RetentionPolicy:
    return RetentionPolicy(keep_versions=keep_versions, keep_for=KEEP_FOR, **limits)


def ago(by: timedelta) -> datetime:
    """A moment `by` before now. Rows are aged by setting this moment, not
    by subtracting from their own time: Citus refuses an UPDATE that
    computes with a STABLE operator (timestamptz minus interval) and a
    column."""
    return datetime.now(UTC) - by


async def age_versions(
    admin: Admin,
    project_id: uuid.UUID,
    path: str,
    versions: Iterable[int] | None = None,
    by: timedelta = OLD,
) -> None:
    """Move the created_at of a path's versions (all, or those listed) back."""
    chosen = None if versions is None else list(versions)
    await admin.execute(
        "UPDATE file_versions SET created_at = $4::timestamptz"
        " WHERE project_id = $1 AND path = $2"
        " AND ($3::bigint[] IS NULL OR version = ANY($3::bigint[]))",
        project_id,
        path,
        chosen,
        ago(by),
    )


async def age_all(admin: Admin, project_id: uuid.UUID, by: timedelta = OLD) -> None:
    """Every file version, agent-state version and checkpoint of the project."""
    for table in ("file_versions", "agent_state_versions", "checkpoints"):
        await admin.execute(
            f"UPDATE {table} SET created_at = $2::timestamptz WHERE project_id = $1",
            project_id,
            ago(by),
        )


async def age_checkpoint(admin: Admin, checkpoint: Checkpoint, by: timedelta) -> None:
    await admin.execute(
        "UPDATE checkpoints SET created_at = $3::timestamptz"
        " WHERE project_id = $1 AND id = $2",
        checkpoint.project_id,
        checkpoint.id,
        ago(by),
    )


async def versions_of(
    store: Store, user: User, project_id: uuid.UUID, path: str
) -> list[int]:
    async with store.unit_of_work(user.id) as uow:
        return [v.version for v in await history_all(uow, project_id, path)]


async def prune(
    store: Store, user: User, project_id: uuid.UUID, chosen: RetentionPolicy
) -> PruneResult:
    async with store.unit_of_work(user.id) as uow:
        return await uow.retention.prune(project_id, chosen)


async def contents_of(admin: Admin, project_id: uuid.UUID) -> dict[str, int]:
    """sha256 -> size of every stored content of the project."""
    rows = await admin.fetch(
        "SELECT sha256, size_bytes FROM file_contents WHERE project_id = $1",
        project_id,
    )
    return {row["sha256"]: row["size_bytes"] for row in rows}


def sha(content: str | bytes) -> str:
    return hashlib.sha256(content_bytes(content)).hexdigest()


# ---------------------------------------------------------------------------
# what prune keeps, one reason at a time
# ---------------------------------------------------------------------------


async def test_nothing_young_is_pruned(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(5):
            await uow.files.put(project.id, "f", f"{n}")
            await uow.agent_states.save(project.id, {"n": n})
    before = await project_rows(superuser, project.id)
    result = await prune(store, user, project.id, policy(1))
    assert result == PruneResult(
        versions_removed=0,
        agent_state_versions_removed=0,
        checkpoints_removed=0,
        contents_reclaimed=0,
        bytes_reclaimed=0,
    )
    assert await project_rows(superuser, project.id) == before
    async with store.unit_of_work(user.id) as uow:
        # The default policy keeps 20 versions for 30 days.
        await uow.retention.prune(project.id)
    assert await project_rows(superuser, project.id) == before


async def test_the_current_version_and_the_newest_are_kept(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(6):
            await uow.files.put(project.id, "f", f"content {n}")
    await age_all(superuser, project.id)
    result = await prune(store, user, project.id, policy(3))
    assert result.versions_removed == 3
    assert result.contents_reclaimed == 3
    assert result.bytes_reclaimed == 3 * len("content 0")
    assert await versions_of(store, user, project.id, "f") == [6, 5, 4]
    result = await prune(store, user, project.id, policy(1))
    assert result.versions_removed == 2
    assert await versions_of(store, user, project.id, "f") == [6]
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.get(project.id, "f")).content == "content 5"
        assert (await uow.files.get(project.id, "f", version=6)).content == "content 5"
        for gone in range(1, 6):
            with pytest.raises(NotFound):
                await uow.files.get(project.id, "f", version=gone)
    assert set(await contents_of(superuser, project.id)) == {sha("content 5")}


async def test_versions_younger_than_keep_for_are_kept(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(6):
            await uow.files.put(project.id, "f", f"{n}")
    await age_versions(superuser, project.id, "f", [1, 2, 3])
    # Just inside the window: a day short of keep_for.
    await age_versions(superuser, project.id, "f", [4], KEEP_FOR - timedelta(days=1))
    result = await prune(store, user, project.id, policy(1))
    assert result.versions_removed == 3
    assert await versions_of(store, user, project.id, "f") == [6, 5, 4]


async def test_versions_a_checkpoint_needs_are_kept_and_no_others(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", b"\x001")
        await uow.files.put(project.id, "f", b"\x002")  # the checkpoint's
        await uow.files.put(project.id, "g", "g1")  # the checkpoint's, then gone
        await uow.files.put(project.id, "h", "h1")
        await uow.files.put(project.id, "h", "h2")
        await uow.files.delete(project.id, "h")  # gone before: not needed
        checkpoint = await uow.checkpoints.create(project.id)
        await uow.files.put(project.id, "f", b"\x003")
        await uow.files.put(project.id, "f", b"\x004")
        await uow.files.delete(project.id, "g")
        await uow.files.put(project.id, "g", "g2")
        g3 = await uow.files.put(project.id, "g", "g3")
    await age_all(superuser, project.id)
    result = await prune(store, user, project.id, policy(1))
    assert await versions_of(store, user, project.id, "f") == [4, 2]
    # g's versions after its delete start above the project's floor.
    assert await versions_of(store, user, project.id, "g") == [g3.file.version, 1]
    assert await versions_of(store, user, project.id, "h") == [2]
    assert result.versions_removed == 2 + 1 + 1
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.get(project.id, "f", version=2)).content == b"\x002"
        assert (await uow.files.get(project.id, "g", version=1)).content == "g1"
        restored = await uow.checkpoints.restore(project.id, checkpoint.id)
    assert restored.updated == 2
    assert {
        p: f.content for p, f in (await snapshot(store, user, project.id)).items()
    } == {
        "f": b"\x002",
        "g": "g1",
    }


async def test_deleting_a_checkpoint_then_pruning_frees_its_versions(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    big = bytes(range(256)) * 16
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", big)
        await uow.agent_states.save(project.id, {"at": "checkpoint"})
        checkpoint = await uow.checkpoints.create(project.id)
        await uow.files.put(project.id, "f", "after")
        await uow.agent_states.save(project.id, {"at": "after"})
    await age_all(superuser, project.id)
    kept = await prune(store, user, project.id, policy(1))
    assert (kept.versions_removed, kept.agent_state_versions_removed) == (0, 0)
    async with store.unit_of_work(user.id) as uow:
        await uow.checkpoints.delete(project.id, checkpoint.id)
    freed = await prune(store, user, project.id, policy(1))
    assert freed == PruneResult(
        versions_removed=1,
        agent_state_versions_removed=1,
        checkpoints_removed=0,
        contents_reclaimed=1,
        bytes_reclaimed=len(big),
    )
    assert await versions_of(store, user, project.id, "f") == [2]
    assert set(await contents_of(superuser, project.id)) == {sha("after")}


async def test_agent_state_versions_are_pruned_alike(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.agent_states.save(project.id, {"n": 1})
        await uow.agent_states.save(project.id, {"n": 2})
        checkpoint = await uow.checkpoints.create(project.id)
        for n in range(3, 8):
            await uow.agent_states.save(project.id, {"n": n})
    await age_all(superuser, project.id)
    result = await prune(store, user, project.id, policy(2))
    # Kept: 7 (current), 6 (the newest two), 2 (the checkpoint's).
    assert result.agent_state_versions_removed == 4
    versions = await superuser.fetch(
        "SELECT version FROM agent_state_versions WHERE project_id = $1"
        " ORDER BY version DESC",
        project.id,
    )
    assert [row["version"] for row in versions] == [7, 6, 2]
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.agent_states.get(project.id)).state == {"n": 7}
        await uow.checkpoints.restore(project.id, checkpoint.id)
        assert (await uow.agent_states.get(project.id)).state == {"n": 2}


async def test_a_deleted_agent_states_last_version_follows_the_same_rules(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(4):
            await uow.agent_states.save(project.id, {"n": n})
        await uow.agent_states.delete(project.id)
    await age_all(superuser, project.id)
    result = await prune(store, user, project.id, policy(1))
    assert result.agent_state_versions_removed == 3
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(NotFound):
            await uow.agent_states.get(project.id)
        again = await uow.agent_states.save(project.id, {"n": "again"})
    assert again.version > 4  # the floor outlives the pruned versions


def test_the_policy_refuses_what_it_cannot_mean() -> None:
    """Counts and ages below zero are refused; no checkpoint age means any
    age (timedelta(0)), the default."""
    assert RetentionPolicy().keep_checkpoints_for == timedelta(0)
    for bad in (
        {"keep_versions": -1},
        {"keep_for": timedelta(seconds=-1)},
        {"keep_checkpoints": -1},
        {"keep_checkpoints_for": timedelta(seconds=-1)},
    ):
        with pytest.raises(pydantic.ValidationError):
            RetentionPolicy(**bad)


async def test_a_checkpoint_keeps_the_deletion_of_a_path_not_its_older_versions(
    store: Store, user: User, superuser: Admin
) -> None:
    """A path deleted before a checkpoint: the checkpoint keeps the version
    whose deletion it records (the newest before it), so that a restore
    leaves the path empty rather than bring an older version back; the
    versions below it go. Once the checkpoint is gone, so is that one."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "gone", b"\x00first")
        last = await uow.files.put(project.id, "gone", b"\x00gone before")
        await uow.files.delete(project.id, "gone")
        kept = await uow.files.put(project.id, "kept", "kept")
        checkpoint = await uow.checkpoints.create(project.id)
        later = await uow.files.put(project.id, "kept", "later")
        await uow.files.put(project.id, "gone", "back after the checkpoint")
    await age_all(superuser, project.id)
    result = await prune(store, user, project.id, policy(0))
    gone = await versions_of(store, user, project.id, "gone")
    assert gone[1:] == [last.file.version]
    assert await versions_of(store, user, project.id, "kept") == [
        later.file.version,
        kept.file.version,
    ]
    assert (result.versions_removed, result.contents_reclaimed) == (1, 1)
    async with store.unit_of_work(user.id) as uow:
        await uow.checkpoints.restore(project.id, checkpoint.id)
    assert {
        p: f.content for p, f in (await snapshot(store, user, project.id)).items()
    } == {"kept": "kept"}
    async with store.unit_of_work(user.id) as uow:
        await uow.checkpoints.delete(project.id, checkpoint.id)
    await age_all(superuser, project.id)
    result = await prune(store, user, project.id, policy(0))
    # Left: the current version of "kept"; "gone" has none, nothing needs any.
    assert await versions_of(store, user, project.id, "gone") == []
    assert len(await versions_of(store, user, project.id, "kept")) == 1


async def test_a_pruned_history_still_counts_its_versions_on(
    store: Store, user: User, superuser: Admin
) -> None:
    """Pruning history never lets a version number come back."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(5):
            await uow.files.put(project.id, "f", f"{n}")
        await uow.files.delete(project.id, "f")
    await age_all(superuser, project.id)
    await prune(store, user, project.id, policy(1))
    assert await versions_of(store, user, project.id, "f") == [5]
    async with store.unit_of_work(user.id) as uow:
        again = await uow.files.put(project.id, "f", "again")
    assert again.file.version > 5


# ---------------------------------------------------------------------------
# checkpoint limits
# ---------------------------------------------------------------------------


async def four_checkpoints(
    store: Store, user: User, project_id: uuid.UUID
) -> list[Checkpoint]:
    made: list[Checkpoint] = []
    for n in range(4):
        async with store.unit_of_work(user.id) as uow:
            await uow.files.put(project_id, "f", f"{n}")
            made.append(await uow.checkpoints.create(project_id, f"c{n}"))
    return made


async def remaining(
    store: Store, user: User, project_id: uuid.UUID
) -> list[str | None]:
    async with store.unit_of_work(user.id) as uow:
        return [c.label for c in await checkpoints_all(uow, project_id)]


async def test_without_a_checkpoint_limit_no_checkpoint_is_pruned(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    await four_checkpoints(store, user, project.id)
    await age_all(superuser, project.id, timedelta(days=3650))
    result = await prune(store, user, project.id, policy(1))
    assert result.checkpoints_removed == 0
    assert await remaining(store, user, project.id) == ["c3", "c2", "c1", "c0"]


async def test_checkpoints_beyond_the_newest_and_older_than_the_age_are_pruned(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    made = await four_checkpoints(store, user, project.id)
    for checkpoint in made[:2]:
        await age_checkpoint(superuser, checkpoint, timedelta(days=10))
    # c2 is beyond the newest one but young; c0 and c1 are both.
    result = await prune(
        store,
        user,
        project.id,
        policy(20, keep_checkpoints=1, keep_checkpoints_for=timedelta(days=1)),
    )
    assert result.checkpoints_removed == 2
    assert await remaining(store, user, project.id) == ["c3", "c2"]
    # The newest are kept however old.
    await age_all(superuser, project.id, timedelta(days=10))
    result = await prune(
        store,
        user,
        project.id,
        policy(20, keep_checkpoints=2, keep_checkpoints_for=timedelta(days=1)),
    )
    assert result.checkpoints_removed == 0
    assert await remaining(store, user, project.id) == ["c3", "c2"]


async def test_a_count_limit_alone_keeps_the_newest(store: Store, user: User) -> None:
    project = await new_project(store, user)
    await four_checkpoints(store, user, project.id)
    result = await prune(store, user, project.id, policy(20, keep_checkpoints=2))
    assert result.checkpoints_removed == 2
    assert await remaining(store, user, project.id) == ["c3", "c2"]


async def test_an_age_limit_alone_prunes_no_checkpoint(
    store: Store, user: User, superuser: Admin
) -> None:
    """RetentionPolicy's docstring: checkpoints go only when keep_checkpoints
    is set; an age alone is no limit."""
    project = await new_project(store, user)
    made = await four_checkpoints(store, user, project.id)
    for checkpoint in (made[0], made[2]):
        await age_checkpoint(superuser, checkpoint, timedelta(days=10))
    result = await prune(
        store, user, project.id, policy(20, keep_checkpoints_for=timedelta(days=1))
    )
    assert result.checkpoints_removed == 0
    assert await remaining(store, user, project.id) == ["c3", "c2", "c1", "c0"]
    # With a count as well, the old ones beyond it go.
    result = await prune(
        store,
        user,
        project.id,
        policy(20, keep_checkpoints=0, keep_checkpoints_for=timedelta(days=1)),
    )
    assert result.checkpoints_removed == 2
    assert await remaining(store, user, project.id) == ["c3", "c1"]


@pytest.mark.parametrize(
    "options",
    [
        {"keep_versions": -1},
        {"keep_for": timedelta(days=-1)},
        {"keep_checkpoints": -1},
        {"keep_checkpoints_for": timedelta(days=-1)},
    ],
)
async def test_a_policy_out_of_range_is_refused_before_anything_is_written(
    store: Store, user: User, superuser: Admin, options: dict[str, Any]
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for n in range(3):
            await uow.files.put(project.id, "f", f"{n}")
    await age_all(superuser, project.id)
    before = await project_rows(superuser, project.id)

    async def prune_with_options() -> None:
        await prune(store, user, project.id, RetentionPolicy(**options))

    with pytest.raises((pydantic.ValidationError, InvalidInput)):
        await prune_with_options()
    assert await project_rows(superuser, project.id) == before


async def test_the_policy_is_frozen() -> None:
    chosen = RetentionPolicy()
    assert (chosen.keep_versions, chosen.keep_for) == (20, timedelta(days=30))
    assert chosen.keep_checkpoints is None
    field_name = "keep_versions"
    with pytest.raises(pydantic.ValidationError):
        setattr(chosen, field_name, 0)


# ---------------------------------------------------------------------------
# reclaim
# ---------------------------------------------------------------------------


async def test_reclaim_removes_only_content_no_version_references(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "f", b"orphan to be")
        await uow.files.put(project.id, "f", "current")
        await uow.files.put(project.id, "g", b"shared")
        await uow.files.put(project.id, "g", "g2")
        await uow.files.put(project.id, "h", b"shared")
    # Around the API: the version holding "orphan to be" goes, its content stays;
    # g's first version goes too, but h still holds its content.
    await superuser.execute(
        "DELETE FROM file_versions WHERE project_id = $1 AND version = 1"
        " AND path IN ('f', 'g')",
        project.id,
    )
    async with store.unit_of_work(user.id) as uow:
        result = await uow.retention.reclaim(project.id)
        again = await uow.retention.reclaim(project.id)
    assert result == PruneResult(
        versions_removed=0,
        agent_state_versions_removed=0,
        checkpoints_removed=0,
        contents_reclaimed=1,
        bytes_reclaimed=len(b"orphan to be"),
    )
    assert again.contents_reclaimed == again.bytes_reclaimed == 0
    assert set(await contents_of(superuser, project.id)) == {
        sha("current"),
        sha("g2"),
        sha(b"shared"),
    }
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.get(project.id, "h")).content == b"shared"


# ---------------------------------------------------------------------------
# a random history, pruned: exactly the versions the rules keep remain, and
# every one of them, and every checkpoint, reads back byte for byte
# ---------------------------------------------------------------------------

PATHS = ["a", "b", "c/d", "c/e", "f.bin"]
CONTENTS: list[str | bytes] = [
    "alpha",
    "beta",
    "",
    b"",
    b"alpha",
    b"\x00\xff" * 40,
    bytes(range(256)),
    "gamma " * 30,
    "δ",
]


@dataclass
class Walk:
    contents: dict[tuple[str, int], str | bytes] = field(default_factory=dict)
    checkpoints: list[tuple[Checkpoint, dict[str, tuple[int, str | bytes]]]] = field(
        default_factory=list
    )
    paths: set[str] = field(default_factory=set)
    # Per checkpoint, each path's newest version when it was made: its file
    # then, or the version whose deletion says the path was empty.
    newest_at: list[set[tuple[str, int]]] = field(default_factory=list)


async def observe(
    store: Store, user: User, project_id: uuid.UUID, walk: Walk
) -> dict[str, tuple[int, str | bytes]]:
    """The tree now (path -> (version, content)); every version seen is one
    content for good."""
    tree = {
        path: (file.version, file.content)
        for path, file in (await snapshot(store, user, project_id)).items()
    }
    for path, (version, content) in tree.items():
        walk.paths.add(path)
        known = walk.contents.setdefault((path, version), content)
        assert known == content, (path, version)
        assert type(known) is type(content), (path, version)
    return tree


async def random_history(
    store: Store, user: User, project_id: uuid.UUID, rng: random.Random
) -> Walk:
    walk = Walk()
    for step in range(80):
        move = rng.randrange(10)
        made: Checkpoint | None = None
        async with store.unit_of_work(user.id) as uow:
            try:
                if move < 5:
                    await uow.files.put(
                        project_id, rng.choice(PATHS), rng.choice(CONTENTS)
                    )
                elif move == 5:
                    await uow.files.delete(project_id, rng.choice(PATHS))
                elif move == 6:
                    await uow.files.move(project_id, *rng.sample(PATHS, 2))
                elif move == 7:
                    synced = {p: rng.choice(CONTENTS) for p in rng.sample(PATHS, 3)}
                    await uow.files.sync(
                        project_id, synced, delete_missing=rng.random() < 0.5
                    )
                elif move == 8:
                    made = await uow.checkpoints.create(project_id, f"step {step}")
                else:
                    if walk.checkpoints:
                        back = rng.choice(walk.checkpoints)[0]
                        await uow.checkpoints.restore(project_id, back.id)
            except (NotFound, PathTaken):
                pass
        tree = await observe(store, user, project_id, walk)
        if made is not None:
            walk.checkpoints.append((made, tree))
            async with store.unit_of_work(user.id) as uow:
                newest = set()
                for path in PATHS:
                    history = await history_all(uow, project_id, path)
                    if history:
                        newest.add((path, history[0].version))
            walk.newest_at.append(newest)
    return walk


def expected_kept(
    history: dict[str, list[FileVersion]],
    current: dict[str, tuple[int, str | bytes]],
    walk: Walk,
    keep_versions: int,
    young_after: datetime,
) -> set[tuple[str, int]]:
    kept = {(path, version) for path, (version, _) in current.items()}
    for (_, tree), newest in zip(walk.checkpoints, walk.newest_at, strict=True):
        files = {(path, version) for path, (version, _) in tree.items()}
        assert files <= newest
        kept |= newest
    for path, versions in history.items():
        kept |= {(path, v.version) for v in versions[:keep_versions]}
        kept |= {(path, v.version) for v in versions if v.created_at > young_after}
    return kept


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_prune_keeps_exactly_what_the_rules_keep_and_it_all_reads_back(
    store: Store, user: User, superuser: Admin, seed: int
) -> None:
    rng = random.Random(seed)
    project = await new_project(store, user)
    walk = await random_history(store, user, project.id, rng)
    assert walk.checkpoints, "the walk made no checkpoint"
    # About two thirds of the versions become old.
    rows = await superuser.fetch(
        "SELECT path, version FROM file_versions WHERE project_id = $1 ORDER BY 1, 2",
        project.id,
    )
    for row in rows:
        if rng.random() < 0.66:
            await age_versions(superuser, project.id, row["path"], [row["version"]])

    async with store.unit_of_work(user.id) as uow:
        history = {
            path: await history_all(uow, project.id, path) for path in walk.paths
        }
        now = await superuser.fetchval("SELECT now()")
    current = await observe(store, user, project.id, walk)
    keep_versions = 2
    kept = expected_kept(history, current, walk, keep_versions, now - KEEP_FOR)
    everything = {(p, v.version) for p, versions in history.items() for v in versions}
    contents_before = await contents_of(superuser, project.id)

    result = await prune(store, user, project.id, policy(keep_versions))

    async with store.unit_of_work(user.id) as uow:
        after = {path: await history_all(uow, project.id, path) for path in walk.paths}
        remaining_versions = {(p, v.version) for p, vs in after.items() for v in vs}
        assert remaining_versions == kept
        assert result.versions_removed == len(everything - kept)
        # Every remaining version reads back as it was written (one a delete
        # removed may read as NotFound, never as other content).
        for path, versions in after.items():
            for found in versions:
                expected = walk.contents[(path, found.version)]
                assert found.sha256 == sha(expected)
                try:
                    read = await uow.files.get(project.id, path, version=found.version)
                except NotFound:
                    assert found.deleted_at is not None, (path, found.version)
                    continue
                assert type(read.content) is type(expected)
                assert read.content == expected, (path, found.version)
    # Exactly the contents the remaining versions hold are stored.
    contents_after = await contents_of(superuser, project.id)
    assert set(contents_after) == {v.sha256 for vs in after.values() for v in vs}
    gone = set(contents_before) - set(contents_after)
    assert result.contents_reclaimed == len(gone)
    assert result.bytes_reclaimed == sum(contents_before[s] for s in gone)
    # Every checkpoint restores its tree byte for byte.
    for checkpoint, tree in walk.checkpoints:
        async with store.unit_of_work(user.id) as uow:
            await uow.checkpoints.restore(project.id, checkpoint.id)
        restored = await snapshot(store, user, project.id)
        assert {p: f.content for p, f in restored.items()} == {
            p: content for p, (_, content) in tree.items()
        }, checkpoint.label
        assert all(
            type(restored[p].content) is type(content)
            for p, (_, content) in tree.items()
        )
