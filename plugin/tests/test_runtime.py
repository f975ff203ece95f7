"""The runtime every generated package gets (runtime.py), without a
database: rows become models through pydantic's public API only, and those
models behave as validated ones do."""

from __future__ import annotations

import ast
import pickle
from datetime import UTC, datetime
from importlib import resources

import pytest
from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from sqlc_gen_asyncpg import runtime


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str | None
    at: datetime
    state: JsonValue


VALUES = {"id": 1, "name": None, "at": datetime(2026, 12, 7, tzinfo=UTC), "state": [1]}


def test_a_row_is_the_model_validation_would_build() -> None:
    built = runtime.from_database(Row, dict(VALUES))
    validated = Row.model_validate(VALUES)
    assert type(built) is Row
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert built.model_fields_set == validated.model_fields_set == set(VALUES)
    assert built.model_extra is None
    assert pickle.loads(pickle.dumps(built)) == built
    assert built.model_copy(update={"id": 2}).id == 2
    with pytest.raises(ValidationError):
        built.id = 3  # frozen


class ScalarRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str | None
    at: datetime


SCALARS = {key: VALUES[key] for key in ("id", "name", "at")}


def test_a_row_of_scalars_is_the_model_validation_builds() -> None:
    built = runtime.from_database(ScalarRow, dict(SCALARS))
    assert built == ScalarRow.model_validate(SCALARS)
    assert built.model_fields_set == set(SCALARS)
    with pytest.raises(ValidationError):
        built.id = 3  # frozen


def test_a_value_its_type_does_not_fit_is_kept_as_it_came() -> None:
    # An aggregate sqlc types NOT NULL, over no rows: NULL, as before.
    built = runtime.from_database(ScalarRow, {**SCALARS, "id": None})
    assert built.id is None
    assert built.model_fields_set == set(SCALARS)


def test_the_rows_of_a_model_share_one_fields_set() -> None:
    first = runtime.from_database(Row, dict(VALUES))
    second = runtime.from_database(Row, dict(VALUES))
    assert first.model_fields_set is second.model_fields_set


def _private_names(tree: ast.AST) -> list[str]:
    """Dunder attributes and `__dict__` lookups the code makes, besides a
    module's own `__name__`: pydantic's internals, which any 2.x minor may
    change."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value if node.value.startswith("__pydantic") else ""
        else:
            continue
        if name.startswith("__") and name != "__name__":
            found.append(name)
    return found


def test_the_runtime_uses_no_internals_of_pydantic() -> None:
    source = (resources.files("sqlc_gen_asyncpg") / "runtime.py").read_text()
    assert _private_names(ast.parse(source)) == []


def test_internals_are_found() -> None:
    source = (
        "x = BaseModel.__dict__['__pydantic_extra__'].__set__\n"
        "object.__setattr__(m, '__dict__', {})\n"
        "n = model.__name__\n"
    )
    assert sorted(_private_names(ast.parse(source))) == [
        "__dict__",
        "__pydantic_extra__",
        "__set__",
        "__setattr__",
    ]
