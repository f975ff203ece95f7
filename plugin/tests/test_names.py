"""Column names that would shadow attributes of pydantic's BaseModel (json,
schema, model_config) or of a NamedTuple's tuple (count, index) get a
trailing `_`; the code passes ruff and mypy --strict, imports without
pydantic warnings and runs."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from pydantic import BaseModel

from devtools import testdb
from plugin.tests.helpers import Example, run_sqlc, static_checks
from sqlc_gen_asyncpg.naming import MODEL_ATTRIBUTES

SCHEMA = """
CREATE TABLE counters (
    id int PRIMARY KEY,
    count int NOT NULL,
    index int NOT NULL,
    json text,
    schema text,
    model_config text,
    model_name text,
    class text
);
"""
QUERIES = """
-- name: AddCounters :copyfrom
INSERT INTO counters (id, count, index) VALUES ($1, $2, $3);

-- name: SetCounts :batchexec
UPDATE counters SET count = $1, index = $2, json = $3 WHERE id = $4;

-- name: GetCounter :one
SELECT * FROM counters WHERE id = $1;

-- name: ByCount :many
SELECT json, schema, count FROM counters WHERE count = $1 ORDER BY id;
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Example]:
    root = tmp_path_factory.mktemp("names")
    (root / "schema.sql").write_text(SCHEMA)
    (root / "query.sql").write_text(QUERIES)
    example = Example("names_gen", root / "schema.sql", root / "query.sql")
    workdir = root / "work"
    workdir.mkdir()
    result = run_sqlc(workdir, [example])
    assert result.returncode == 0, result.stderr
    static_checks(workdir, [example.package])
    sys.path.insert(0, str(workdir))
    yield example
    sys.path.remove(str(workdir))
    for name in list(sys.modules):
        if name.split(".")[0] == example.package:
            del sys.modules[name]


def test_model_attributes_match_pydantic() -> None:
    assert {n for n in dir(BaseModel) if not n.startswith("_")} == MODEL_ATTRIBUTES


def test_shadowing_names_get_an_underscore(example: Example) -> None:
    models: Any = importlib.import_module("names_gen.models")
    q: Any = importlib.import_module("names_gen.query")
    assert list(models.Counter.model_fields) == [
        "id",
        "count",
        "index",
        "json_",
        "schema_",
        "model_config_",
        "model_name",
        "class_",
    ]
    assert list(q.SetCountsParams._fields) == ["count_", "index_", "json", "id"]
    assert list(q.ByCountRow.model_fields) == ["json_", "schema_", "count"]
    assert list(inspect.signature(q.by_count).parameters) == ["conn", "count"]


async def test_runs(example: Example, pg_admin_url: str) -> None:
    q: Any = importlib.import_module("names_gen.query")
    url, drop = await testdb.create_database(pg_admin_url, "names")
    try:
        testdb.load_sql(url, example.schema)
        conn = await asyncpg.connect(url)
        try:
            rows = [q.AddCountersParams(1, 5, 0), q.AddCountersParams(2, 5, 1)]
            assert await q.add_counters(conn, rows) == 2
            await q.set_counts(conn, [q.SetCountsParams(7, 3, "j", 2)])
            counter = await q.get_counter(conn, id=2)
            assert (counter.count, counter.index, counter.json_) == (7, 3, "j")
            assert counter.schema_ is None
            found = await q.by_count(conn, count=5)
            assert [(r.json_, r.schema_, r.count) for r in found] == [(None, None, 5)]
        finally:
            await conn.close()
    finally:
        await drop()
