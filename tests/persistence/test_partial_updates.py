"""Partial updates as a PATCH route writes them, typed end to end, and a
contract model that a regenerated row model no longer fits refused at
Store.open."""

from __future__ import annotations

from datetime import datetime

import pydantic
import pytest

from repositories import UNSET, InvalidInput, Project, Store, User
from repositories import store as store_module
from repositories._generated import projects as project_queries
from repositories.models import RowModels
from tests.support import new_project


class ProjectPatch(pydantic.BaseModel):
    """A PATCH body: a field the client left out is not in model_fields_set."""

    name: str | None = None
    description: str | None = None


async def patch_project(
    store: Store, user: User, project: Project, body: ProjectPatch
) -> Project:
    """What a route does, with no dict[str, Any]: mypy --strict checks it."""
    given = body.model_fields_set
    async with store.unit_of_work(user.id) as uow:
        return await uow.projects.update(
            project.id,
            name=body.name if "name" in given and body.name is not None else UNSET,
            description=body.description if "description" in given else UNSET,
        )


async def test_a_field_left_out_keeps_its_value(store: Store, user: User) -> None:
    project = await new_project(store, user, "before")
    async with store.unit_of_work(user.id) as uow:
        await uow.projects.update(project.id, description="kept")
    patched = await patch_project(
        store, user, project, ProjectPatch.model_validate({"name": "after"})
    )
    assert (patched.name, patched.description) == ("after", "kept")


async def test_an_explicit_null_clears_the_description(
    store: Store, user: User
) -> None:
    project = await new_project(store, user, "named")
    async with store.unit_of_work(user.id) as uow:
        await uow.projects.update(project.id, description="to clear")
    patched = await patch_project(
        store, user, project, ProjectPatch.model_validate({"description": None})
    )
    assert (patched.name, patched.description) == ("named", None)


async def test_none_is_not_a_name(store: Store, user: User) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as refused:
            await uow.projects.update(project.id, name=None)  # type: ignore[arg-type]  # the refusal is the point
    assert refused.value.field == "name"


def test_unset_reads_as_itself() -> None:
    assert repr(UNSET) == "UNSET"
    assert UNSET is type(UNSET).UNSET


class RegeneratedProject(project_queries.ListProjectsFirstRow):
    """The row model after `ALTER TABLE projects ADD COLUMN archived_at
    timestamptz NULL` and `nox -s generate`."""

    archived_at: datetime | None


async def test_a_row_model_the_contract_does_not_fit_fails_at_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        store_module,
        "ROW_MODELS",
        (RowModels(filled_directly=((Project, RegeneratedProject),)),),
    )
    # Refused before any connection: the URL leads nowhere.
    with pytest.raises(TypeError) as refused:
        await Store.open("postgres://nobody@127.0.0.1:1/nowhere")
    message = str(refused.value)
    assert "repositories.models.Project" in message
    assert "RegeneratedProject" in message
    assert "archived_at" in message


async def test_a_missing_row_field_is_named_at_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Shrunk(pydantic.BaseModel):
        id: int

    monkeypatch.setattr(
        store_module,
        "ROW_MODELS",
        (RowModels(picked_from=((Project, Shrunk, frozenset()),)),),
    )
    with pytest.raises(TypeError, match=r"Shrunk: these fields .*'name'"):
        await Store.open("postgres://nobody@127.0.0.1:1/nowhere")


def test_the_declared_row_models_fit() -> None:
    """The control: what the repositories declare fits today."""
    from repositories.models import check_row_models

    check_row_models(store_module.ROW_MODELS)
