"""Contract models are built from database rows without validation (one
construction per row); each must equal what full validation of the same
values gives, with every field of exactly the declared type (strict mode)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from repositories import Store
from repositories._generated import from_database
from repositories.models import FileEntry, User


def assert_as_validated(model: BaseModel) -> None:
    values = {name: getattr(model, name) for name in type(model).model_fields}
    validated = type(model).model_validate(values, strict=True)
    assert validated == model
    assert validated.model_dump() == model.model_dump()
    assert model.model_fields_set == set(type(model).model_fields)
    assert model.model_config.get("frozen") is True


async def test_every_contract_model_read_from_rows(store: Store, user: User) -> None:
    assert_as_validated(user)
    assert_as_validated(await store.users.get(user.id))
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("rows", description=None)
        assert_as_validated(project)
        assert_as_validated(await uow.projects.get(project.id))
        projects = await uow.projects.list()
        assert_as_validated(projects)
        for created in projects.items:
            assert_as_validated(created)
        write = await uow.files.put(project.id, "a/b.txt", "é\n")
        assert_as_validated(write.file)
        assert_as_validated(await uow.files.get(project.id, "a/b.txt"))
        await uow.files.put(project.id, "z.txt", "")
        files = await uow.files.list(project.id, limit=1)
        assert files.next_cursor is not None
        assert_as_validated(files)
        for entry in files.items:
            assert_as_validated(entry)
        assert_as_validated(await uow.files.move(project.id, "a/b.txt", "c.txt"))
        binary = await uow.files.put(project.id, "blob.bin", b"\x00\xff")
        assert_as_validated(binary.file)
        assert_as_validated(await uow.files.get(project.id, "blob.bin"))
        history = await uow.files.history(project.id, "c.txt")
        assert_as_validated(history)
        for version in history.items:
            assert_as_validated(version)
        checkpoint = await uow.checkpoints.create(project.id, "rows")
        assert_as_validated(checkpoint)
        assert_as_validated(await uow.checkpoints.get(project.id, checkpoint.id))
        assert_as_validated(await uow.checkpoints.list(project.id))
        state = await uow.agent_states.save(
            project.id, {"step": 1, "floats": [1.5, 2.0], "nested": {"a": None}}
        )
        assert_as_validated(state)
        assert_as_validated(await uow.agent_states.get(project.id))


def test_a_wrong_value_is_caught() -> None:
    """The check above fails on a model holding a value of another type."""
    wrong = from_database(
        FileEntry,
        {
            "project_id": "not a UUID",
            "path": "p",
            "size_bytes": 1,
            "sha256": "0" * 64,
            "version": 1,
            "created_at": None,
            "updated_at": None,
            "kind": "text",
        },
    )
    with pytest.raises(ValidationError, match="project_id"):
        assert_as_validated(wrong)
