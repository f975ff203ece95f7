"""Checkpoints: a named state of a project's files and agent state, made in
O(1) (no file is copied), listed newest first, compared (`diff`) and
restored in one write that brings back every file and the agent state as
they were, with versions that keep growing so no version token from before
the restore matches what it wrote."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

import asyncpg
import pytest

from repositories import (
    Checkpoint,
    InvalidInput,
    NotFound,
    Store,
    User,
    VersionConflict,
)
from tests.persistence.helpers import (
    checkpoints_all,
    history_all,
    project_rows,
    snapshot,
)
from tests.support import new_project

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"

Tree = dict[str, str | bytes]


async def tree_of(store: Store, user: User, project_id: uuid.UUID) -> Tree:
    return {
        path: file.content
        for path, file in (await snapshot(store, user, project_id)).items()
    }


async def state_of(
    store: Store, user: User, project_id: uuid.UUID
) -> dict[str, Any] | None:
    async with store.unit_of_work(user.id) as uow:
        try:
            return (await uow.agent_states.get(project_id)).state
        except NotFound:
            return None


# ---------------------------------------------------------------------------
# create, list, get, delete
# ---------------------------------------------------------------------------


async def test_create_get_list_and_delete(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        first = await uow.checkpoints.create(project.id, "first")
    async with store.unit_of_work(user.id) as uow:
        second = await uow.checkpoints.create(project.id)
    async with store.unit_of_work(user.id) as uow:
        third = await uow.checkpoints.create(project.id, "  third  ")
    assert isinstance(first, Checkpoint)
    assert (first.project_id, first.label) == (project.id, "first")
    assert second.label is None
    assert third.label == "third"  # trimmed
    assert len({first.id, second.id, third.id}) == 3
    assert first.created_at <= second.created_at <= third.created_at

    async with store.unit_of_work(user.id) as uow:
        assert await uow.checkpoints.get(project.id, second.id) == second
        listed = await checkpoints_all(uow, project.id)
        assert listed == [third, second, first]
        paged = await checkpoints_all(uow, project.id, limit=1)
        assert paged == listed
        await uow.checkpoints.delete(project.id, second.id)
    async with store.unit_of_work(user.id) as uow:
        assert await checkpoints_all(uow, project.id) == [third, first]
        with pytest.raises(NotFound) as gone:
            await uow.checkpoints.get(project.id, second.id)
        assert gone.value.resource == "checkpoint"
        with pytest.raises(NotFound):
            await uow.checkpoints.delete(project.id, second.id)
        with pytest.raises(NotFound):
            await uow.checkpoints.restore(project.id, second.id)
        with pytest.raises(NotFound):
            await uow.checkpoints.diff(project.id, second.id)
        with pytest.raises(NotFound):
            await uow.checkpoints.diff(project.id, first.id, second.id)


async def test_a_checkpoint_of_another_project_of_the_same_user_is_not_found(
    store: Store, user: User, superuser: Admin
) -> None:
    here = await new_project(store, user, "here")
    there = await new_project(store, user, "there")
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(there.id, "there.txt", "there")
        elsewhere = await uow.checkpoints.create(there.id, "there")
        mine = await uow.checkpoints.create(here.id, "here")
    before = await project_rows(superuser, here.id)
    async with store.unit_of_work(user.id) as uow:
        for call in (
            uow.checkpoints.get(here.id, elsewhere.id),
            uow.checkpoints.delete(here.id, elsewhere.id),
            uow.checkpoints.restore(here.id, elsewhere.id),
            uow.checkpoints.diff(here.id, elsewhere.id),
            uow.checkpoints.diff(here.id, mine.id, elsewhere.id),
            uow.checkpoints.diff(here.id, elsewhere.id, mine.id),
        ):
            with pytest.raises(NotFound) as refused:
                await call
            assert refused.value.resource == "checkpoint"
    assert await project_rows(superuser, here.id) == before
    async with store.unit_of_work(user.id) as uow:
        assert await uow.checkpoints.get(there.id, elsewhere.id) == elsewhere


async def test_checkpoints_of_a_missing_project_are_not_found(
    store: Store, user: User
) -> None:
    """Calls on the project name it; calls on one of its checkpoints may
    name the checkpoint, as a delete of a file names the file."""
    missing = uuid.uuid4()
    async with store.unit_of_work(user.id) as uow:
        for create_or_list in (
            uow.checkpoints.create(missing, "x"),
            uow.checkpoints.list(missing),
        ):
            with pytest.raises(NotFound) as refused:
                await create_or_list
            assert refused.value.resource == "project"
        for call in (
            uow.checkpoints.get(missing, uuid.uuid4()),
            uow.checkpoints.delete(missing, uuid.uuid4()),
            uow.checkpoints.restore(missing, uuid.uuid4()),
            uow.checkpoints.diff(missing, uuid.uuid4()),
        ):
            with pytest.raises(NotFound) as refused:
                await call
            assert refused.value.resource in ("project", "checkpoint")


async def test_a_checkpoint_copies_no_file(
    store: Store, user: User, superuser: Admin
) -> None:
    """O(1) whatever the project's size: making one adds a checkpoint row
    and writes no file, version or content row."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, {f"f{n}": f"{n}" for n in range(50)})
        await uow.agent_states.save(project.id, {"n": 1})
    before = await project_rows(superuser, project.id)
    async with store.unit_of_work(user.id) as uow:
        await uow.checkpoints.create(project.id, "cheap")
    after = await project_rows(superuser, project.id)
    assert after["checkpoints"].startswith("1:")
    del before["checkpoints"], after["checkpoints"]
    assert after == before


LABELS_REFUSED: list[Any] = [
    "",
    "   ",
    "x" * 201,
    "a\nb",
    "a\tb",
    "a\x00b",
    "a\x7fb",
    "a\x85b",
    "\ud800",
    5,
    b"label",
]


@pytest.mark.parametrize("label", LABELS_REFUSED)
async def test_a_label_that_breaks_the_name_rules_is_refused(
    store: Store, user: User, superuser: Admin, label: Any
) -> None:
    project = await new_project(store, user)
    before = await project_rows(superuser, project.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.checkpoints.create(project.id, label)
        assert refused.value.field == "label"
        assert (await uow.checkpoints.list(project.id)).items == []
    assert await project_rows(superuser, project.id) == before


@pytest.mark.parametrize("label", ["x" * 200, " " + "é" * 200 + " ", "😀", "a b"])
async def test_labels_at_the_edges_are_accepted(
    store: Store, user: User, label: str
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        made = await uow.checkpoints.create(project.id, label)
        assert made.label == label.strip()
        assert await uow.checkpoints.get(project.id, made.id) == made


@pytest.mark.parametrize(
    "checkpoint_id",
    ["not-a-uuid", 5, None, str(uuid.uuid4())],
    ids=["text", "int", "none", "uuid-as-str"],
)
async def test_a_checkpoint_id_that_is_no_uuid_is_refused(
    store: Store, user: User, checkpoint_id: Any
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for call in (
            uow.checkpoints.get(project.id, checkpoint_id),
            uow.checkpoints.delete(project.id, checkpoint_id),
            uow.checkpoints.restore(project.id, checkpoint_id),
            uow.checkpoints.diff(project.id, checkpoint_id),
        ):
            with pytest.raises(InvalidInput) as refused:
                await call
            assert refused.value.field in ("checkpoint_id", "a")


# ---------------------------------------------------------------------------
# restore
# ---------------------------------------------------------------------------


async def test_restore_brings_back_files_and_agent_state(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    saved: Tree = {
        "keep.txt": "keep",
        "change.txt": "before",
        "gone.bin": b"\x00gone\xff",
        "kind.txt": "same bytes",
    }
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, saved)
        state = await uow.agent_states.save(project.id, {"step": 1, "notes": ["a"]})
        checkpoint = await uow.checkpoints.create(project.id, "saved")
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "change.txt", "after")
        await uow.files.delete(project.id, "gone.bin")
        await uow.files.put(project.id, "new.txt", "new")
        await uow.files.put(project.id, "kind.txt", b"same bytes")
        later = await uow.agent_states.save(project.id, {"step": 2})
        before_restore = {
            e.path: e.version for e in (await uow.files.list(project.id)).items
        }
    async with store.unit_of_work(user.id) as uow:
        result = await uow.checkpoints.restore(project.id, checkpoint.id)
    assert (result.created, result.updated, result.unchanged, result.deleted) == (
        1,  # gone.bin
        2,  # change.txt, kind.txt
        1,  # keep.txt
        1,  # new.txt
    )
    assert result.agent_state == "restored"
    assert await tree_of(store, user, project.id) == saved
    restored = await snapshot(store, user, project.id)
    assert restored["kind.txt"].kind == "text"
    assert restored["gone.bin"].kind == "binary"
    async with store.unit_of_work(user.id) as uow:
        now = await uow.agent_states.get(project.id)
    assert now.state == state.state
    assert now.version > later.version

    # Versions grow: a restored path is above where it was, an untouched one
    # keeps its version.
    assert restored["keep.txt"].version == before_restore["keep.txt"]
    assert restored["change.txt"].version == before_restore["change.txt"] + 1
    assert restored["kind.txt"].version == before_restore["kind.txt"] + 1
    assert restored["gone.bin"].version > 1


async def test_an_expected_version_from_before_a_restore_is_stale(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, {"a": "1", "b": "1"})
        await uow.agent_states.save(project.id, {"n": 1})
        checkpoint = await uow.checkpoints.create(project.id)
        a = await uow.files.put(project.id, "a", "2")
        state = await uow.agent_states.save(project.id, {"n": 2})
        await uow.checkpoints.restore(project.id, checkpoint.id)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(VersionConflict):
            await uow.files.put(project.id, "a", "3", expected_version=a.file.version)
        with pytest.raises(VersionConflict):
            await uow.files.delete(project.id, "a", expected_version=a.file.version)
        with pytest.raises(VersionConflict):
            await uow.agent_states.save(
                project.id, {"n": 3}, expected_version=state.version
            )
        # Even the version the checkpoint held: the restore wrote a new one.
        with pytest.raises(VersionConflict):
            await uow.files.put(project.id, "a", "3", expected_version=1)
        # The path the restore did not change keeps its token.
        kept = await uow.files.put(project.id, "b", "2", expected_version=1)
        assert (kept.outcome, kept.file.version) == ("updated", 2)
        assert (await uow.files.get(project.id, "a")).content == "1"


async def test_restore_deletes_an_agent_state_the_checkpoint_did_not_have(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        checkpoint = await uow.checkpoints.create(project.id)
        state = await uow.agent_states.save(project.id, {"n": 1})
        result = await uow.checkpoints.restore(project.id, checkpoint.id)
        with pytest.raises(NotFound):
            await uow.agent_states.get(project.id)
        again = await uow.agent_states.save(project.id, {"n": 2})
    assert result.agent_state == "deleted"
    assert again.version > state.version


async def test_restore_leaves_an_unchanged_agent_state_alone(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        state = await uow.agent_states.save(project.id, {"n": 1})
        checkpoint = await uow.checkpoints.create(project.id)
        await uow.files.put(project.id, "a", "after")
        result = await uow.checkpoints.restore(project.id, checkpoint.id)
        now = await uow.agent_states.get(project.id)
    assert result.agent_state == "unchanged"
    assert now == state
    assert (result.created, result.updated, result.unchanged, result.deleted) == (
        0,
        0,
        0,
        1,
    )


async def test_restore_brings_back_an_agent_state_deleted_since(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        state = await uow.agent_states.save(project.id, {"keep": [1, 2, 3]})
        checkpoint = await uow.checkpoints.create(project.id)
        await uow.agent_states.delete(project.id)
        result = await uow.checkpoints.restore(project.id, checkpoint.id)
        now = await uow.agent_states.get(project.id)
    assert result.agent_state == "restored"
    assert now.state == {"keep": [1, 2, 3]}
    assert now.version > state.version


async def test_restore_to_a_checkpoint_after_files_were_deleted_and_recreated(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a", "one")
        await uow.files.put(project.id, "b", b"\x00b")
        old = await uow.checkpoints.create(project.id, "old")
        await uow.files.delete(project.id, "a")
        await uow.files.delete(project.id, "b")
        a2 = await uow.files.put(project.id, "a", "two")
        await uow.files.put(project.id, "a", "three")
        await uow.files.move(project.id, "a", "b")
        await uow.files.put(project.id, "a", "four")
        newer = await uow.checkpoints.create(project.id, "newer")
        history_before = await history_all(uow, project.id, "a")
    assert a2.file.version > 1
    async with store.unit_of_work(user.id) as uow:
        result = await uow.checkpoints.restore(project.id, old.id)
    assert (result.created, result.updated, result.unchanged, result.deleted) == (
        0,
        2,
        0,
        0,
    )
    assert await tree_of(store, user, project.id) == {"a": "one", "b": b"\x00b"}
    async with store.unit_of_work(user.id) as uow:
        history = await history_all(uow, project.id, "a")
        # Back to the newer one, then to the old one once more.
        forward = await uow.checkpoints.restore(project.id, newer.id)
        assert (forward.updated, forward.created, forward.deleted) == (2, 0, 0)
    assert await tree_of(store, user, project.id) == {"a": "four", "b": "three"}
    assert history[0].version == history_before[0].version + 1
    versions = [v.version for v in history]
    assert versions == sorted(set(versions), reverse=True)


async def test_files_deleted_moved_or_synced_away_before_a_checkpoint_are_not_in_it(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(
            project.id, {"deleted": "d", "moved": b"m", "synced": "s", "kept": "k"}
        )
        await uow.files.delete(project.id, "deleted")
        await uow.files.move(project.id, "moved", "target")
        await uow.files.sync(
            project.id, {"kept": "k", "target": b"m"}, delete_missing=True
        )
        checkpoint = await uow.checkpoints.create(project.id)
        for path in ("deleted", "moved", "synced"):
            await uow.files.put(project.id, path, "back")
        diff = await uow.checkpoints.diff(project.id, checkpoint.id)
        result = await uow.checkpoints.restore(project.id, checkpoint.id)
    assert (diff.added, diff.changed, diff.removed) == (
        ["deleted", "moved", "synced"],
        [],
        [],
    )
    assert (result.created, result.updated, result.unchanged, result.deleted) == (
        0,
        0,
        2,
        3,
    )
    assert await tree_of(store, user, project.id) == {"kept": "k", "target": b"m"}


async def test_restore_of_an_empty_checkpoint_deletes_every_file(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        empty = await uow.checkpoints.create(project.id, "empty")
        await uow.files.sync(project.id, {"a": "1", "b": b"2", "c/d": "3"})
        result = await uow.checkpoints.restore(project.id, empty.id)
        assert (await uow.files.list(project.id)).items == []
        for path in ("a", "b", "c/d"):
            history = await history_all(uow, project.id, path)
            assert history[0].deleted_at is not None, path
    assert (result.created, result.updated, result.unchanged, result.deleted) == (
        0,
        0,
        0,
        3,
    )


async def test_a_restore_is_undone_with_its_unit_of_work(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a", "1")
        checkpoint = await uow.checkpoints.create(project.id)
        await uow.files.put(project.id, "a", "2")
        await uow.files.put(project.id, "b", "2")
    before = await project_rows(superuser, project.id)

    class Undo(Exception):
        pass

    async def restore_then_raise() -> None:
        async with store.unit_of_work(user.id) as uow:
            await uow.checkpoints.restore(project.id, checkpoint.id)
            raise Undo

    with pytest.raises(Undo):
        await restore_then_raise()
    assert await project_rows(superuser, project.id) == before
    assert await tree_of(store, user, project.id) == {"a": "2", "b": "2"}


async def test_a_restored_tree_can_be_checkpointed_and_restored_again(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    trees: list[Tree] = [
        {"a": "1"},
        {"a": b"2", "b": "b"},
        {"b": "b", "c": ""},
        {},
        {"a": "1", "c": b""},
    ]
    checkpoints: list[Checkpoint] = []
    async with store.unit_of_work(user.id) as uow:
        for tree in trees:
            await uow.files.sync(project.id, tree)
            checkpoints.append(await uow.checkpoints.create(project.id))
    for index in (0, 3, 1, 4, 2, 2, 0):
        async with store.unit_of_work(user.id) as uow:
            await uow.checkpoints.restore(project.id, checkpoints[index].id)
        assert await tree_of(store, user, project.id) == trees[index], index
    # A checkpoint taken of a restored tree names the same tree.
    async with store.unit_of_work(user.id) as uow:
        of_restored = await uow.checkpoints.create(project.id)
        diff = await uow.checkpoints.diff(project.id, checkpoints[0].id, of_restored.id)
    assert (diff.added, diff.changed, diff.removed) == ([], [], [])


# ---------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------


async def test_diff_names_added_changed_and_removed_paths_sorted(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(
            project.id,
            {"z": "same", "b": "old", "a/x": "gone", "k": "kind", "é": "x"},
        )
        a = await uow.checkpoints.create(project.id)
        await uow.files.sync(
            project.id,
            {"z": "same", "b": "new", "k": b"kind", "y": "added", "c/d": b"", "é": "x"},
        )
        b = await uow.checkpoints.create(project.id)
        diff = await uow.checkpoints.diff(project.id, a.id, b.id)
        backwards = await uow.checkpoints.diff(project.id, b.id, a.id)
        itself = await uow.checkpoints.diff(project.id, a.id, a.id)
    assert diff.added == ["c/d", "y"]
    assert diff.changed == ["b", "k"]
    assert diff.removed == ["a/x"]
    assert (backwards.added, backwards.changed, backwards.removed) == (
        ["a/x"],
        ["b", "k"],
        ["c/d", "y"],
    )
    assert (itself.added, itself.changed, itself.removed) == ([], [], [])


async def test_diff_against_now(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, {"a": "1", "b": "1", "c": "1"})
        checkpoint = await uow.checkpoints.create(project.id)
        assert await uow.checkpoints.diff(project.id, checkpoint.id) == (
            await uow.checkpoints.diff(project.id, checkpoint.id, None)
        )
        unchanged = await uow.checkpoints.diff(project.id, checkpoint.id)
        assert (unchanged.added, unchanged.changed, unchanged.removed) == ([], [], [])
        await uow.files.put(project.id, "a", "2")
        await uow.files.delete(project.id, "b")
        await uow.files.put(project.id, "d", "1")
        await uow.files.put(project.id, "c", "1")  # unchanged
        now = await uow.checkpoints.diff(project.id, checkpoint.id)
    assert (now.added, now.changed, now.removed) == (["d"], ["a"], ["b"])


async def test_diff_sorts_paths_bytewise(store: Store, user: User) -> None:
    project = await new_project(store, user)
    paths = ["b", "B", "a/b", "a.b", "é", "z", "Z", "😀", "a-b"]
    async with store.unit_of_work(user.id) as uow:
        empty = await uow.checkpoints.create(project.id)
        await uow.files.sync(project.id, {path: path for path in paths})
        diff = await uow.checkpoints.diff(project.id, empty.id)
    assert diff.added == sorted(paths, key=lambda p: p.encode("utf-8"))
