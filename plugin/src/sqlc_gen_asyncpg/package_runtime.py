"""The generated package's own runtime: the body of its __init__.py.

Kept as text because it is written into every generated package; the tests
run it there (mypy --strict, ruff, and against PostgreSQL)."""

INIT_BODY = '''from __future__ import annotations

import json
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel

Executor: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
)
"""What every query function takes: a connection, or one acquired from a pool."""


class NoRowReturned(RuntimeError):
    """An INSERT … RETURNING that always yields a row yielded none."""


def _json_default(value: object) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_json(value: object) -> str:
    """Compact JSON; NaN and Infinity are refused (PostgreSQL would reject them)."""
    return json.dumps(
        value,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


async def init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Decode json/jsonb to Python values (and encode them back) on `conn`."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=encode_json, decoder=json.loads, schema="pg_catalog"
        )


def rows_affected(status: str) -> int:
    """The row count from a command status such as `UPDATE 3` or `INSERT 0 1`."""
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0
'''
