"""What the generator decides about a query before writing code for it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlc_gen_asyncpg.pytypes import PyType
from sqlc_gen_asyncpg.request import Table

# Commands whose function takes an iterable of <Name>Params.
BATCH = frozenset({":batchexec", ":batchone", ":batchmany", ":copyfrom"})


@dataclass(frozen=True)
class Field:
    """One attribute of a result model and where its value comes from."""

    name: str
    type: PyType
    embed: Table | None  # an sqlc.embed: built from several row positions


@dataclass(frozen=True)
class Param:
    name: str
    number: int
    type: PyType
    optional: bool


@dataclass
class Result:
    model: str  # class name, or the scalar annotation for one-column results
    fields: list[Field] | None  # None: a scalar result
    scalar: PyType | None
    reused_table: bool
