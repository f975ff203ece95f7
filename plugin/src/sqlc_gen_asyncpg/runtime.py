"""The runtime of every generated package, copied verbatim below the package
docstring into its __init__.py (render.init_file): a module of its own here,
so that mypy --strict and ruff check it as they check any other. It needs
asyncpg and pydantic, as the generated code does; the plugin itself only
reads its text and never imports it."""

from __future__ import annotations

import json
import types
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar, Union, get_args, get_origin
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel, ValidationError

Executor: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
)
"""What every query function takes: a connection, or one acquired from a pool."""

ModelT = TypeVar("ModelT", bound=BaseModel)
_JSONB_VERSION = b"\x01"  # jsonb's binary format: a version byte, then the text
_EVERY_FIELD: dict[type[BaseModel], set[str]] = {}
# Types pydantic checks in well under a microsecond, without copying. A
# model of these alone (or None) is built by model_validate, which beats
# model_construct's loop over the fields in Python (1.8 µs against 5.2 µs
# for a seven-field row, measured in one process on 2026-12-07): the rows
# of a listing are built three times as fast. A model with any other field
# (a JSON value, whose validation would walk the document) is constructed.
_SCALARS = frozenset(
    {UUID, str, int, bool, float, Decimal, bytes, datetime, date, time, timedelta}
)
_VALIDATED: dict[type[BaseModel], bool] = {}


def _scalar(annotation: object) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return all(arg is type(None) or arg in _SCALARS for arg in get_args(annotation))
    return annotation in _SCALARS


def _validated(model: type[BaseModel]) -> bool:
    """Whether `model`'s rows are built by model_validate: every field one
    of `_SCALARS`, or None."""
    validated = _VALIDATED.get(model)
    if validated is None:
        validated = _VALIDATED[model] = all(
            _scalar(field.annotation) for field in model.model_fields.values()
        )
    return validated


class NoRowReturned(RuntimeError):
    """A statement that always yields a row (INSERT … VALUES … RETURNING,
    SELECT EXISTS, an aggregate without GROUP BY) yielded none."""


def from_database(model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """`model` holding `values` that asyncpg already decoded into their
    Python types, without validating them a second time: pydantic's
    model_construct, its public way to build a model from trusted data.
    Every field is in `values`; the model stays frozen.

    The instances of one model share one set of field names as their
    `model_fields_set` (model_construct's `_fields_set`, which it keeps as
    given): every field is set in each, and pydantic only ever adds field
    names to it, which it holds already. One set less per row.

    A model of scalars alone is built by model_validate instead, the faster
    public way for those (`_SCALARS`); when a value does not fit its field's
    type (sqlc types an aggregate such as max() NOT NULL, and over no rows
    it is NULL), the row is constructed as it came, as any other is."""
    if _validated(model):
        try:
            return model.model_validate(values)
        except ValidationError:
            pass
    fields_set = _EVERY_FIELD.get(model)
    if fields_set is None:
        fields_set = _EVERY_FIELD[model] = set(model.model_fields)
    return model.model_construct(fields_set, **values)


_MATCHING_ROW_MODELS: set[tuple[type[BaseModel], type[BaseModel]]] = set()


def check_row_model(model: type[BaseModel], row: type[BaseModel]) -> None:
    """Refuse `model` as a stand-in for the generated `row` model unless its
    fields are `row`'s: the same names in the same order, with the same
    types. Then from_database fills it as soundly as it fills `row` (the
    model's own validators do not run). Checked once per pair; a TypeError
    names the difference."""
    if (model, row) in _MATCHING_ROW_MODELS:
        return
    wanted = {name: f.annotation for name, f in row.model_fields.items()}
    found = {name: f.annotation for name, f in model.model_fields.items()}
    if list(found.items()) != list(wanted.items()):
        differing = sorted(
            name
            for name in wanted.keys() | found.keys()
            if name not in wanted or name not in found or wanted[name] != found[name]
        )
        raise TypeError(
            f"{model.__name__} cannot hold {row.__name__}'s rows: its fields must "
            f"be {list(wanted)}, in that order, with the same types; "
            + (f"these differ: {differing}" if differing else "the order differs")
        )
    _MATCHING_ROW_MODELS.add((model, row))


def _json_default(value: object) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# One encoder for every value: json.dumps with options builds one per call.
_JSON_ENCODER = json.JSONEncoder(
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    default=_json_default,
)


def encode_json(value: object) -> str:
    """Compact JSON; NaN and Infinity are refused (PostgreSQL would reject them)."""
    return _JSON_ENCODER.encode(value)


def _encode_json_binary(value: object) -> bytes:
    return encode_json(value).encode()


def _encode_jsonb_binary(value: object) -> bytes:
    return _JSONB_VERSION + encode_json(value).encode()


def _decode_jsonb_binary(data: bytes) -> Any:
    return json.loads(data[1:])


async def init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Decode json/jsonb to Python values (and encode them back) on `conn`.

    The codecs use the binary format, so binary COPY (`:copyfrom`) carries
    json and jsonb too."""
    await conn.set_type_codec(
        "json",
        encoder=_encode_json_binary,
        decoder=json.loads,
        schema="pg_catalog",
        format="binary",
    )
    await conn.set_type_codec(
        "jsonb",
        encoder=_encode_jsonb_binary,
        decoder=_decode_jsonb_binary,
        schema="pg_catalog",
        format="binary",
    )


def rows_affected(status: str) -> int:
    """The row count from a command status such as `UPDATE 3` or `INSERT 0 1`."""
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0
