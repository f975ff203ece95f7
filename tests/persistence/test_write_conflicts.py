"""A write that matched nothing is NotFound or VersionConflict by one rule, and
every VersionConflict words the versions the same way: "expected version N,
found M" (version 0: none may exist yet; "none": there is no row). A move
onto a taken path is a PathTaken, not a stale version."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable

import pytest

from repositories import (
    Conflict,
    NotFound,
    PathTaken,
    Store,
    UnitOfWork,
    User,
    VersionConflict,
)


async def conflict_of(call: Awaitable[object]) -> VersionConflict:
    with pytest.raises(VersionConflict) as raised:
        await call
    return raised.value


async def not_found_of(call: Awaitable[object]) -> NotFound:
    with pytest.raises(NotFound) as raised:
        await call
    return raised.value


def assert_conflict(
    conflict: Conflict, resource: str, reason: str, current: int | None
) -> None:
    assert (conflict.resource, conflict.reason, conflict.current_version) == (
        resource,
        reason,
        current,
    )
    held = "" if current is None else f" (current version: {current})"
    assert str(conflict) == f"{resource} conflict: {reason}{held}"
    assert conflict.public_message == str(conflict)


async def setup(uow: UnitOfWork) -> uuid.UUID:
    project = await uow.projects.create("conflicts")
    await uow.files.put(project.id, "a.txt", "one")
    await uow.files.put(project.id, "a.txt", "two")  # version 2
    await uow.files.put(project.id, "b.txt", "bee")  # version 1
    await uow.agent_states.save(project.id, {"step": 1})
    await uow.agent_states.save(project.id, {"step": 2})  # version 2
    return project.id


async def test_file_conflicts_name_expected_and_found(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        project = await setup(uow)
        files = uow.files
        assert_conflict(
            await conflict_of(files.put(project, "a.txt", "x", expected_version=5)),
            "file",
            "expected version 5, found 2",
            2,
        )
        assert_conflict(
            await conflict_of(files.put(project, "a.txt", "x", expected_version=0)),
            "file",
            "expected version 0, found 2",
            2,
        )
        assert_conflict(
            await conflict_of(files.put(project, "new.txt", "x", expected_version=3)),
            "file",
            "expected version 3, found none",
            None,
        )
        assert_conflict(
            await conflict_of(files.delete(project, "a.txt", expected_version=1)),
            "file",
            "expected version 1, found 2",
            2,
        )
        with pytest.raises(PathTaken) as taken:
            await files.move(project, "a.txt", "b.txt")
        assert_conflict(taken.value, "file", "new_path is taken", 1)
        assert taken.value.code == "path_taken"
        assert not isinstance(taken.value, VersionConflict)
        # Nothing changed.
        assert (await files.get(project, "a.txt")).version == 2
        assert (await files.get(project, "b.txt")).content == "bee"


async def test_agent_state_conflicts_name_expected_and_found(
    store: Store, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        project = await setup(uow)
        states = uow.agent_states
        assert_conflict(
            await conflict_of(states.save(project, {"x": 1}, expected_version=5)),
            "agent state",
            "expected version 5, found 2",
            2,
        )
        assert_conflict(
            await conflict_of(states.save(project, {"x": 1}, expected_version=0)),
            "agent state",
            "expected version 0, found 2",
            2,
        )
        await states.delete(project)
        assert_conflict(
            await conflict_of(states.save(project, {"x": 1}, expected_version=2)),
            "agent state",
            "expected version 2, found none",
            None,
        )


async def test_no_row_is_not_found_of_the_row_or_its_project(
    store: Store, user: User, other_user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        project = await setup(uow)
    missing = uuid.uuid4()
    async with store.unit_of_work(user.id) as uow:
        files, states = uow.files, uow.agent_states
        # Writes that need the row: the row is not found.
        assert (
            await not_found_of(files.delete(project, "gone.txt"))
        ).resource == "file"
        assert (
            await not_found_of(files.delete(project, "gone.txt", expected_version=1))
        ).resource == "file"
        assert (
            await not_found_of(files.move(project, "gone.txt", "c.txt"))
        ).resource == "file"
        # Writes that create rows in a project: the project is not found.
        for call in (
            files.put(missing, "a.txt", "x"),
            files.put(missing, "a.txt", "x", expected_version=0),
            files.put(missing, "a.txt", "x", expected_version=2),
            states.save(missing, {"x": 1}),
            states.save(missing, {"x": 1}, expected_version=0),
            states.save(missing, {"x": 1}, expected_version=2),
        ):
            assert (await not_found_of(call)).resource == "project"
    # Another user's project is the same as a missing one.
    async with store.unit_of_work(other_user.id) as uow:
        for call in (
            uow.files.put(project, "a.txt", "x", expected_version=2),
            uow.agent_states.save(project, {"x": 1}, expected_version=2),
        ):
            assert (await not_found_of(call)).resource == "project"
        assert (
            await not_found_of(uow.files.delete(project, "a.txt", expected_version=2))
        ).resource == "file"
