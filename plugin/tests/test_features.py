"""Every type and command the plugin supports, end to end: sqlc generates
plugin/tests/features/ with this plugin, the code passes ruff and mypy
--strict, and each function runs against a fresh PostgreSQL database."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias, get_args, get_origin
from uuid import UUID, uuid4

import asyncpg
import pytest
from pydantic import BaseModel

from feature_payloads import Meta, OwnerCard, OwnerLabel
from plugin_support import (
    Example,
    fresh_database,
    generated_packages,
    static_checks,
)

FEATURES = Path(__file__).parent / "features"
OVERRIDE = {"column": "docs.meta", "python_type": "feature_payloads:Meta"}
EXAMPLE = Example(
    "features_gen",
    FEATURES / "schema.sql",
    FEATURES / "query.sql",
    json.dumps({"overrides": [OVERRIDE]}),
)
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record]"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("features")
    with generated_packages(workdir, [EXAMPLE]) as generated_dir:
        yield generated_dir


def gen(module: str) -> Any:
    return importlib.import_module(f"{EXAMPLE.package}.{module}")


@pytest.fixture
async def conn(generated: Path, pg_admin_url: str) -> AsyncIterator[Conn]:
    async with fresh_database(pg_admin_url, "features", EXAMPLE.schema) as url:
        connection = await asyncpg.connect(url)
        try:
            await importlib.import_module(EXAMPLE.package).init_connection(connection)
            yield connection
        finally:
            await connection.close()


def test_generated_files(generated: Path) -> None:
    names = sorted(p.name for p in (generated / EXAMPLE.package).iterdir())
    assert names == ["__init__.py", "models.py", "py.typed", "query.py"]


def test_generated_code_passes_ruff_and_mypy_strict(generated: Path) -> None:
    static_checks(generated, [EXAMPLE.package])


def test_signatures(generated: Path) -> None:
    q, models = gen("query"), gen("models")

    def returns(name: str) -> Any:
        return inspect.signature(getattr(q, name)).return_annotation

    assert returns("create_owner") == "Owner"  # INSERT … RETURNING: never None
    assert returns("create_thing") == "Thing"
    assert returns("get_thing") == "Thing | None"
    assert returns("shout") == "str | None"
    assert returns("get_moods") == "list[Mood] | None"
    assert returns("get_doc_meta") == "Meta | None"
    assert returns("list_things") == "list[Thing]"
    assert returns("list_things_iter") == "AsyncIterator[Thing]"
    # The cursor variant is opt-in: `-- @iter` on ListThings and ThingsByIds.
    assert [name for name in vars(q) if name.endswith("_iter")] == [
        "list_things_iter",
        "things_by_ids_iter",
    ]
    # `-- @into` adds <name>_into, building the caller's model.
    assert [name for name in vars(q) if name.endswith("_into")] == [
        "get_owner_into",
        "owner_labels_into",
    ]
    assert returns("get_owner_into") == "ModelT | None"
    assert returns("owner_labels_into") == "list[ModelT]"
    assert list(inspect.signature(q.owner_labels_into).parameters) == [
        "conn",
        "row_model",
    ]
    assert q.owner_labels.__doc__ == "Each owner with the length of its name."
    assert returns("lock_one") == "None"
    assert returns("lock_many") == "list[None]"
    assert returns("lock_exec") == "None"
    assert returns("things_by_owners") == "list[list[Thing]]"
    assert returns("get_owners") == "list[Owner | None]"
    assert returns("add_docs") == "list[Doc]"
    assert returns("set_notes") == "None"
    assert returns("rename_owners") == "None"
    assert returns("deactivate") == "int"
    assert returns("copy_owners") == "int"
    assert returns("copy_things") == "int"
    assert returns("delete_thing") == "str"
    # One row whatever the data: EXISTS, aggregates without GROUP BY.
    assert returns("count_owners") == "int"
    assert returns("owner_exists") == "bool"
    assert returns("owner_stats") == "OwnerStatsRow"
    assert returns("first_owner_count") == "int | None"
    assert list(inspect.signature(q.shout).parameters) == ["conn", "dollar_1"]
    narg = inspect.signature(q.find_owners).parameters["name"]
    assert (narg.annotation, narg.default) == ("str | None", None)
    assert (
        inspect.signature(q.things_by_ids).parameters["ids"].annotation == "list[UUID]"
    )
    fields = models.Thing.model_fields
    assert fields["grid"].annotation == list[list[int]]
    moods = fields["moods"].annotation
    assert (get_origin(moods), get_args(moods)) == (list, (models.Mood,))
    assert fields["docb"].annotation == fields["doc"].annotation | None
    assert models.Doc.model_fields["meta"].annotation is Meta
    assert models.Doc.__doc__ == ' "Docs" with a typed meta (a back\\slash too)'
    assert q.shout.__doc__ == ' "Shout" the text back, upper-cased.'
    assert q.__doc__ == (
        "Every command the plugin supports, over features/schema.sql.\n"
        "plugin/tests/test_features.py runs each generated function.\n"
    )
    assert q.list_things.__doc__ == "Every thing, in medium order."
    assert q.create_owner.__doc__ is None  # no comment, no docstring
    assert models.Owner.__doc__ is None
    assert [m.value for m in models.Mood] == ["happy", "sad", "in-between", 'so "so"']


def thing_args(owner_id: int, medium: int, **changes: Any) -> dict[str, Any]:
    mood = gen("models").Mood
    args: dict[str, Any] = {
        "id": uuid4(),
        "owner_id": owner_id,
        "small": -3,
        "medium": medium,
        "big": None,
        "price": Decimal("12.50"),
        "ratio": 0.25,
        "active": True,
        "label": "varchar",
        "code": "ab",
        "note": None,
        "created_at": datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
        "local_at": datetime(2024, 5, 1, 8, 0),
        "day": date(2024, 2, 29),
        "at_time": time(23, 59, 58, 123456),
        "span": timedelta(days=3, seconds=7, microseconds=5),
        "blob": b"\x00\xffbin",
        "doc": {"a": [1, 2, {"b": None}]},
        "docb": None,
        "tags": ["x", "y"],
        "grid": [[1, 2], [3, 4]],
        "mood": mood.IN_BETWEEN,
        "moods": [mood.HAPPY, mood.SO_SO],
    }
    return args | changes


async def test_types_and_values(conn: Conn) -> None:
    q, models = gen("query"), gen("models")
    owner = await q.create_owner(conn, name="Ada")
    assert isinstance(owner, models.Owner)
    assert isinstance(owner.id, int)
    args = thing_args(owner.id, 1)
    thing = await q.create_thing(conn, **args)
    assert isinstance(thing, models.Thing)
    assert thing == models.Thing(**(args | {"code": "ab "}))  # char(3) pads
    assert isinstance(thing.id, UUID)
    assert thing.id == args["id"]
    assert (thing.small, thing.medium, thing.big) == (-3, 1, None)
    assert isinstance(thing.price, Decimal)
    assert str(thing.price) == "12.50"
    assert isinstance(thing.ratio, float)
    assert thing.ratio == 0.25
    assert thing.active is True
    assert (thing.label, thing.code, thing.note) == ("varchar", "ab ", None)
    assert isinstance(thing.created_at, datetime)
    assert thing.created_at.utcoffset() == timedelta(0)
    assert thing.created_at == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert type(thing.local_at) is datetime
    assert thing.local_at.tzinfo is None
    assert thing.local_at == datetime(2024, 5, 1, 8, 0)
    assert type(thing.day) is date
    assert thing.day == date(2024, 2, 29)
    assert isinstance(thing.at_time, time)
    assert thing.at_time == time(23, 59, 58, 123456)
    assert isinstance(thing.span, timedelta)
    assert thing.span == timedelta(days=3, seconds=7, microseconds=5)
    assert isinstance(thing.blob, bytes)
    assert thing.blob == b"\x00\xffbin"
    assert isinstance(thing.doc, dict)
    assert thing.doc == {"a": [1, 2, {"b": None}]}
    assert thing.docb is None
    assert thing.tags == ["x", "y"]
    assert thing.grid == [[1, 2], [3, 4]]
    assert all(isinstance(row, list) for row in thing.grid)
    assert thing.mood is models.Mood.IN_BETWEEN
    assert thing.moods == [models.Mood.HAPPY, models.Mood.SO_SO]
    assert all(isinstance(m, models.Mood) for m in thing.moods)

    other = await q.create_thing(
        conn,
        **thing_args(owner.id, 2, big=9_000_000_000, note="n", docb=["j", 1, True]),
    )
    assert (other.big, other.note, other.docb) == (9_000_000_000, "n", ["j", 1, True])
    await conn.execute(
        "UPDATE things SET docb = $1 WHERE id = $2", {"k": "v"}, other.id
    )
    fetched = await q.get_thing(conn, id=other.id)
    assert isinstance(fetched, models.Thing)
    assert isinstance(fetched.docb, dict)
    assert fetched.docb == {"k": "v"}
    assert await q.get_thing(conn, id=thing.id) == thing
    assert await q.get_thing(conn, id=uuid4()) is None

    moods = await q.get_moods(conn, id=thing.id)
    assert moods == [models.Mood.HAPPY, models.Mood.SO_SO]
    assert all(type(m) is models.Mood for m in moods)
    assert await q.get_moods(conn, id=uuid4()) is None
    assert await q.shout(conn, dollar_1="hey") == "HEY"


async def test_queries_and_commands(conn: Conn) -> None:
    q, models = gen("query"), gen("models")
    owners = [q.CopyOwnersParams(10, "Bo"), q.CopyOwnersParams(11, "Cy")]
    assert await q.copy_owners(conn, owners) == 2
    assert await q.find_owners(conn) == [
        models.Owner(id=10, name="Bo"),
        models.Owner(id=11, name="Cy"),
    ]
    assert await q.find_owners(conn, name="Cy") == [models.Owner(id=11, name="Cy")]
    assert await q.find_owners(conn, name="nobody") == []
    await q.rename_owners(
        conn, [q.RenameOwnersParams("Bob", 10), q.RenameOwnersParams("Cyd", 11)]
    )
    assert await q.get_owners(
        conn, [q.GetOwnersParams(11), q.GetOwnersParams(99), q.GetOwnersParams(10)]
    ) == [
        models.Owner(id=11, name="Cyd"),
        None,
        models.Owner(id=10, name="Bob"),
    ]

    first = await q.create_thing(conn, **thing_args(10, 1, mood=models.Mood.HAPPY))
    second = await q.create_thing(conn, **thing_args(10, 2, mood=models.Mood.SO_SO))
    third = await q.create_thing(conn, **thing_args(11, 3))
    assert await q.list_things(conn) == [first, second, third]
    with pytest.raises(asyncpg.NoActiveSQLTransactionError):
        _ = [t async for t in q.list_things_iter(conn)]
    async with conn.transaction():
        assert [t async for t in q.list_things_iter(conn, prefetch=1)] == [
            first,
            second,
            third,
        ]
        assert [t async for t in q.things_by_ids_iter(conn, ids=[third.id])] == [third]
    assert await q.things_by_ids(conn, ids=[third.id, uuid4(), first.id]) == [
        first,
        third,
    ]
    assert await q.things_by_ids(conn, ids=[]) == []
    by_mood = await q.things_by_moods(
        conn, moods=[models.Mood.SO_SO, models.Mood.IN_BETWEEN]
    )
    assert [(row.id, row.mood) for row in by_mood] == [
        (second.id, models.Mood.SO_SO),
        (third.id, models.Mood.IN_BETWEEN),
    ]
    assert all(type(row.mood) is models.Mood for row in by_mood)

    joined = await q.things_with_owners(conn)
    assert [(r.things, r.owners, r.thing_label) for r in joined] == [
        (first, models.Owner(id=10, name="Bob"), "varchar"),
        (second, models.Owner(id=10, name="Bob"), "varchar"),
        (third, models.Owner(id=11, name="Cyd"), "varchar"),
    ]
    assert all(
        isinstance(r.things, models.Thing) and isinstance(r.owners, models.Owner)
        for r in joined
    )
    grouped = await q.things_by_owners(
        conn,
        [
            q.ThingsByOwnersParams(11),
            q.ThingsByOwnersParams(12),
            q.ThingsByOwnersParams(10),
        ],
    )
    assert grouped == [[third], [], [first, second]]

    assert await q.set_notes(conn, note="hi", owner_id=10) is None
    assert [t.note for t in await q.list_things(conn)] == ["hi", "hi", None]
    await q.set_notes(conn, owner_id=10)  # a nullable parameter defaults to NULL
    assert [t.note for t in await q.list_things(conn)] == [None, None, None]
    affected = await q.deactivate(conn)
    assert type(affected) is int
    assert affected == 3
    assert await q.deactivate(conn) == 0
    assert await q.delete_thing(conn, id=first.id) == "DELETE 1"
    assert await q.delete_thing(conn, id=first.id) == "DELETE 0"
    assert await q.get_thing(conn, id=first.id) is None


async def test_copyfrom_sends_every_type(conn: Conn) -> None:
    q, models = gen("query"), gen("models")
    owner = await q.create_owner(conn, name="Di")
    rows = [
        thing_args(owner.id, 1),
        thing_args(owner.id, 2, big=1, note="n", docb={"k": ["v", 1.5, None]}),
    ]
    params = [q.CopyThingsParams(**row) for row in rows]
    assert await q.copy_things(conn, params) == 2
    expected = [models.Thing(**(row | {"code": "ab "})) for row in rows]
    assert await q.list_things(conn) == expected


async def test_rows_into_the_callers_model(conn: Conn) -> None:
    q, models = gen("query"), gen("models")
    ada = await q.create_owner(conn, name="Ada")
    bo = await q.create_owner(conn, name="Bo")
    labels = await q.owner_labels_into(conn, OwnerLabel)
    assert labels == [
        OwnerLabel(id=ada.id, name="Ada", name_length=3),
        OwnerLabel(id=bo.id, name="Bo", name_length=2),
    ]
    assert all(type(label) is OwnerLabel for label in labels)
    # Built as the generated row would be, so they hold what validation gives.
    for label in labels:
        assert OwnerLabel.model_validate(label.__dict__, strict=True) == label
        assert label.model_fields_set == set(OwnerLabel.model_fields)
    assert [row.__dict__ for row in await q.owner_labels(conn)] == [
        label.__dict__ for label in labels
    ]
    card = await q.get_owner_into(conn, OwnerCard, id=bo.id)
    assert type(card) is OwnerCard
    assert card == OwnerCard(id=bo.id, name="Bo")
    # Rows share their set of field names; changing one row (OwnerCard is
    # not frozen) or copying it changes no other.
    other = await q.get_owner_into(conn, OwnerCard, id=ada.id)
    assert other is not None
    card.name = "Bea"
    renamed = other.model_copy(update={"name": "Abe"})
    assert (card.name, other.name, renamed.name) == ("Bea", "Ada", "Abe")
    for row in (card, other, renamed):
        assert row.model_fields_set == {"id", "name"}
    assert await q.get_owner_into(conn, models.Owner, id=bo.id) == bo
    assert await q.get_owner_into(conn, OwnerCard, id=-1) is None


class _WrongType(BaseModel):
    id: int
    name: int
    name_length: int


class _WrongOrder(BaseModel):
    name: str
    id: int
    name_length: int


class _Missing(BaseModel):
    id: int
    name: str


@pytest.mark.parametrize(
    ("model", "fragment"),
    [
        (_WrongType, "these differ: ['name']"),
        (_WrongOrder, "the order differs"),
        (_Missing, "these differ: ['name_length']"),
    ],
)
async def test_a_model_without_the_rows_fields_is_refused(
    conn: Conn, model: type[BaseModel], fragment: str
) -> None:
    q = gen("query")
    await q.create_owner(conn, name="Ada")
    with pytest.raises(TypeError, match="OwnerLabelsRow") as refused:
        await q.owner_labels_into(conn, model)
    assert fragment in str(refused.value)
    assert "['id', 'name', 'name_length']" in str(refused.value)


async def test_void_results(conn: Conn) -> None:
    q = gen("query")
    assert await q.lock_one(conn, pg_advisory_lock=7) is None
    # This session's locks only: other sessions on the server take their own.
    held = (
        "SELECT count(*) FROM pg_locks"
        " WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
    )
    assert await conn.fetchval(held) == 1
    await q.lock_exec(conn, pg_advisory_unlock=7)
    assert await conn.fetchval(held) == 0
    await q.lock_one(conn, pg_advisory_lock=8)
    assert await q.lock_many(conn, times=2) == [None, None]
    assert await conn.fetchval(held) == 0


async def test_column_override(conn: Conn) -> None:
    q, models = gen("query"), gen("models")
    metas = [
        Meta(author="Ann", pages=3, keywords=["a"]),
        Meta(author="Ben", pages=0, keywords=[]),
    ]
    docs = await q.add_docs(
        conn, [q.AddDocsParams("one", metas[0]), q.AddDocsParams("two", metas[1])]
    )
    assert [(d.title, d.meta) for d in docs] == [("one", metas[0]), ("two", metas[1])]
    assert all(isinstance(d, models.Doc) and type(d.meta) is Meta for d in docs)
    stored = await conn.fetchval(
        "SELECT meta::text FROM docs WHERE id = $1", docs[0].id
    )
    assert json.loads(stored) == {"author": "Ann", "pages": 3, "keywords": ["a"]}
    assert await q.get_doc(conn, id=docs[1].id) == docs[1]
    meta = await q.get_doc_meta(conn, id=docs[0].id)
    assert type(meta) is Meta
    assert meta == metas[0]
    assert await q.get_doc(conn, id=-1) is None
    assert await q.get_doc_meta(conn, id=-1) is None


def test_each_statement_names_its_query(generated: Path) -> None:
    """As sqlc's Go code does: the name is in pg_stat_statements and logs."""
    q = gen("query")
    assert q.CREATE_OWNER == (
        "-- name: CreateOwner :one\nINSERT INTO owners (name) VALUES ($1) RETURNING id, name"
    )
    statements = {
        name: value
        for name, value in vars(q).items()
        if name.isupper() and isinstance(value, str)
    }
    assert len(statements) > 20
    for name, sql in statements.items():
        first, _, rest = sql.partition("\n")
        assert re.fullmatch(r"-- name: \w+ :\w+", first), name
        assert rest == rest.strip(), name


def test_one_converter_per_set_of_fields(generated: Path) -> None:
    code = (generated / EXAMPLE.package / "query.py").read_text()
    converters = re.findall(r"^def (_\w+)\(row: Record", code, re.MULTILINE)
    assert len(converters) == len(set(converters))
    assert "_longest_names_row" not in converters
    assert "return [_owner_labels_row(row, LongestNamesRow) for row in rows]" in code


def test_the_runtime_is_the_plugins_module(generated: Path) -> None:
    """__init__.py holds runtime.py's code, below the package's docstring."""
    runtime = resources.files("sqlc_gen_asyncpg") / "runtime.py"
    code = runtime.read_text()
    body = code[code.index("from __future__") :]
    assert (generated / EXAMPLE.package / "__init__.py").read_text().endswith(body)


async def test_one_row_whatever_the_data(conn: Conn) -> None:
    q = gen("query")
    assert await q.count_owners(conn) == 0
    assert await q.owner_exists(conn, id=1) is False
    stats = await q.owner_stats(conn, name="")
    assert (stats.owners, stats.last_id) == (0, None)
    assert await q.first_owner_count(conn) is None  # GROUP BY: no group, no row
    ada = await q.create_owner(conn, name="Ada")
    await q.create_owner(conn, name="Bo")
    assert await q.count_owners(conn) == 2
    assert await q.owner_exists(conn, id=ada.id) is True
    stats = await q.owner_stats(conn, name="Bo")
    assert (stats.owners, stats.last_id) == (1, ada.id)
    assert await q.first_owner_count(conn) == 1
    assert [row.name for row in await q.longest_names(conn)] == ["Ada", "Bo"]
