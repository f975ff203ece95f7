"""SQL names that are not Python names: quoted names with dashes, spaces and
leading digits, keywords, names of builtins and of the types the code uses,
and attributes of pydantic's BaseModel or a NamedTuple. Each becomes a
valid, stable Python name after sqlc's Go naming; the code passes ruff and
mypy --strict, imports without pydantic warnings and runs."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from plugin_support import (
    Example,
    connected,
    generated_packages,
    static_checks,
)
from sqlc_gen_asyncpg.naming import (
    MODEL_ATTRIBUTES,
    enum_member,
    pascal,
    singular,
    snake,
)

CORPUS = Path(__file__).parent / "names"
EXAMPLE = Example("names_gen", CORPUS / "schema.sql", CORPUS / "query.sql")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("names")
    with generated_packages(workdir, [EXAMPLE]) as generated_dir:
        yield generated_dir


def gen(module: str) -> Any:
    return importlib.import_module(f"{EXAMPLE.package}.{module}")


@pytest.mark.parametrize(
    ("sql", "cls", "name"),
    [
        ("x-venues", "XVenue", "x_venues"),
        ("2fa codes", "_2faCode", "n_2fa_codes"),
        ("GetAuthorByID", "GetAuthorByID", "get_author_by_id"),
        ("order status", "OrderStatus", "order_status"),
        ("createdAt", "CreatedAt", "created_at"),
        ("--", "", ""),
    ],
)
def test_go_naming(sql: str, cls: str, name: str) -> None:
    assert pascal(singular(sql)) == cls
    assert snake(sql) == name


@pytest.mark.parametrize(
    ("value", "position", "member"),
    [
        ("in-progress", 0, "IN_PROGRESS"),
        ("2nd try", 1, "V_2ND_TRY"),
        ("-1", 2, "V_1"),
        ("#", 10, "VALUE_10"),  # no letter or digit: by position, as sqlc does
        ("*", 11, "VALUE_11"),
        ("", 3, "EMPTY"),
    ],
)
def test_enum_members(value: str, position: int, member: str) -> None:
    assert enum_member(value, position) == member


def test_model_attributes_match_pydantic() -> None:
    assert {n for n in dir(BaseModel) if not n.startswith("_")} == MODEL_ATTRIBUTES


def test_generated_code_passes_ruff_and_mypy_strict(generated: Path) -> None:
    static_checks(generated, [EXAMPLE.package])


def test_names(generated: Path) -> None:
    models, q = gen("models"), gen("query")
    assert list(models.XVenue.model_fields) == [
        "id",
        "venue_name",
        "class_",
        "n_2fa_code",
        "list_",
        "date_",
        "status",
    ]
    assert models._2faCode.__name__ == "_2faCode"
    assert [(m.name, m.value) for m in models.OrderStatus] == [
        ("IN_PROGRESS", "in-progress"),
        ("V_2ND_TRY", "2nd try"),
        ("CLASS", "class"),
    ]
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
    # Functions never hide a builtin or an imported type for the module.
    assert callable(q.list_)
    assert callable(q.datetime_)
    assert list(inspect.signature(q.add_venue).parameters) == [
        "conn",
        "id",
        "venue_name",
        "class_",
        "n_2fa_code",
        "list",
        "date",
        "status",
    ]
    assert list(q.SetCountsParams._fields) == ["count_", "index_", "json", "id"]
    assert list(q.ByCountRow.model_fields) == ["json_", "schema_", "count"]
    assert list(q.PairRow.model_fields) == ["id", "id_2"]
    # Names the generated functions take themselves get a trailing `_`.
    own = ["conn_", "row_model_", "prefetch_", "timeout_", "params_"]
    plain = inspect.signature(q.counters_named_like_arguments).parameters
    assert list(plain) == ["conn", *own]
    into = inspect.signature(q.counters_named_like_arguments_into).parameters
    assert list(into) == ["conn", "row_model", *own]
    cursor = inspect.signature(q.counters_named_like_arguments_iter).parameters
    assert list(cursor) == ["conn", *own, "prefetch"]


async def test_runs(generated: Path, pg_admin_url: str) -> None:
    models, q = gen("models"), gen("query")
    async with connected(pg_admin_url, EXAMPLE) as conn:
        venue = await q.add_venue(
            conn,
            id=1,
            venue_name="Hall",
            class_="A",
            n_2fa_code="123",
            list=3,
            date=date(2024, 1, 2),
            status=models.OrderStatus.V_2ND_TRY,
        )
        assert venue == models.XVenue(
            id=1,
            venue_name="Hall",
            class_="A",
            n_2fa_code="123",
            list_=3,
            date_=date(2024, 1, 2),
            status=models.OrderStatus.V_2ND_TRY,
        )
        assert venue.status is models.OrderStatus.V_2ND_TRY
        assert await q.list_(conn) == [venue]
        assert await q.get_code(conn, id=5) is None
        assert (await q.datetime_(conn)).tzinfo is not None
        assert await q.pair(conn) == q.PairRow(id=1, id_2=1)
        rows = [q.AddCountersParams(1, 5, 0), q.AddCountersParams(2, 5, 1)]
        assert await q.add_counters(conn, rows) == 2
        await q.set_counts(conn, [q.SetCountsParams(7, 3, "j", 2)])
        counter = await q.get_counter(conn, id=2)
        assert (counter.count, counter.index, counter.json_) == (7, 3, "j")
        assert counter.schema_ is None
        found = await q.by_count(conn, count=5)
        assert [(r.json_, r.schema_, r.count) for r in found] == [(None, None, 5)]
        args: dict[str, int | str] = {"conn_": 5, "row_model_": 0, "prefetch_": 0}
        args |= {"timeout_": "none", "params_": "none"}
        rows_ = await q.counters_named_like_arguments(conn, **args)
        assert [(r.id, r.count) for r in rows_] == [(1, 5)]
        into = await q.counters_named_like_arguments_into(
            conn, q.CountersNamedLikeArgumentsRow, **args
        )
        assert into == rows_


async def test_names_of_any_length(generated: Path, pg_admin_url: str) -> None:
    """Names longer than a line: ruff format lays out the code around them
    (test_generated_code_passes_ruff_and_mypy_strict), and it runs."""
    q = gen("query")
    tail = (
        "under_a_name_far_longer_than_any_line_ruff_format_would_leave_on_its_own"
        "_even_at_the_deepest_indent"
    )
    module_tail = f"{tail}_of_this_module"
    copy = getattr(q, f"copy_the_counters_{module_tail}")
    read = getattr(q, f"read_the_counters_{module_tail}")
    read_into = getattr(q, f"read_the_counters_{module_tail}_into")
    listed = getattr(q, f"list_the_counters_{module_tail}")
    listed_iter = getattr(q, f"list_the_counters_{module_tail}_iter")
    find = getattr(q, f"find_the_counters_{module_tail}")
    by_count = getattr(q, f"list_the_counters_by_count_{tail}")
    params = getattr(q, pascal(f"copy_the_counters_{module_tail}") + "Params")
    async with connected(pg_admin_url, EXAMPLE) as conn:
        assert await copy(conn, [params(1, 5, 0), params(2, 7, 1)]) == 2
        row = await read(conn, id=2)
        assert (row.id, row.count) == (2, 7)
        assert await read_into(conn, type(row), id=2) == row
        limit = "at_least_this_many_counted_which_is_a_long_parameter_name_too"
        assert [r.id for r in await listed(conn, **{limit: 6})] == [2]
        async with conn.transaction():
            assert [r.id async for r in listed_iter(conn, **{limit: 0})] == [1, 2]
        found = await find(conn, [(2,), (3,)])
        assert [None if r is None else r.id for r in found] == [2, None]
        assert [[r.id for r in rows] for rows in await by_count(conn, [(5,)])] == [[1]]
