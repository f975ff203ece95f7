"""An extra suite over sqlc's own examples (authors, batch, jets) when the
corpus is present (../shared/corpus/sqlc-examples or SQLC_CORPUS_DIR): sqlc
generates with this plugin, the code passes ruff and mypy --strict, and every
generated function runs against a real PostgreSQL loaded with the example's
schema. Without the corpus the module is skipped with one line saying so; the
plugin's own corpus (test_features.py and the others) needs nothing outside
this repository."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import pytest

from plugin_support import (
    CORPUS,
    Example,
    corpus_examples,
    fresh_database,
    generated_packages,
    run_sqlc,
    static_checks,
)

if not CORPUS.is_dir():
    pytest.skip(
        f"extra corpus suite skipped: no sqlc example corpus at {CORPUS}",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("corpus")
    with generated_packages(workdir, corpus_examples()) as generated_dir:
        yield generated_dir


def test_generated_files_per_example(generated: Path) -> None:
    assert sorted(p.name for p in (generated / "authors_gen").iterdir()) == [
        "__init__.py",
        "models.py",
        "py.typed",
        "query.py",
    ]
    assert (generated / "jets_gen" / "query_building.py").exists()


def test_generated_code_passes_ruff_and_mypy_strict(generated: Path) -> None:
    static_checks(generated, [ex.package for ex in corpus_examples()])


def test_generation_is_deterministic(generated: Path, tmp_path: Path) -> None:
    again = run_sqlc(tmp_path, corpus_examples())
    assert again.returncode == 0, again.stderr
    for ex in corpus_examples():
        for file in sorted((generated / ex.package).iterdir()):
            assert (tmp_path / ex.package / file.name).read_bytes() == file.read_bytes()


def _example(name: str) -> Example:
    return next(ex for ex in corpus_examples() if ex.package == name)


@pytest.fixture
async def connect(pg_admin_url: str) -> AsyncIterator[Any]:
    """`await connect(example)`: a connection to a fresh database with its schema."""
    async with AsyncExitStack() as stack:

        async def _connect(
            example: Example, package: ModuleType
        ) -> asyncpg.Connection[asyncpg.Record]:
            url = await stack.enter_async_context(
                fresh_database(pg_admin_url, example.package, example.schema)
            )
            conn = await asyncpg.connect(url)
            stack.push_async_callback(conn.close)
            await package.init_connection(conn)
            return conn

        yield _connect


async def test_authors_runs(generated: Path, connect: Any) -> None:
    pkg = importlib.import_module("authors_gen")
    q = importlib.import_module("authors_gen.query")
    models = importlib.import_module("authors_gen.models")
    conn = await connect(_example("authors_gen"), pkg)

    ada = await q.create_author(conn, name="Ada", bio=None)
    assert isinstance(ada, models.Author)
    assert isinstance(ada.id, int)
    assert ada.bio is None
    bob = await q.create_author(conn, name="Bob", bio="writes")
    assert await q.get_author(conn, id=ada.id) == ada
    assert await q.get_author(conn, id=-1) is None
    assert await q.list_authors(conn) == [ada, bob]
    async with conn.transaction():
        assert [a async for a in q.list_authors_iter(conn, prefetch=1)] == [ada, bob]
    await q.delete_author(conn, id=ada.id)
    assert await q.list_authors(conn) == [bob]


async def test_batch_runs(generated: Path, connect: Any) -> None:
    pkg = importlib.import_module("batch_gen")
    q = importlib.import_module("batch_gen.query")
    models = importlib.import_module("batch_gen.models")
    conn = await connect(_example("batch_gen"), pkg)

    author = await q.create_author(conn, name="Ursula")
    assert isinstance(author, models.Author)
    assert author.biography is None
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    books = await q.create_book(
        conn,
        [
            q.CreateBookParams(
                author.author_id,
                "isbn-1",
                models.BookType.FICTION,
                "A",
                1969,
                when,
                ["sf", "classic"],
            ),
            q.CreateBookParams(
                author.author_id,
                "isbn-2",
                models.BookType.NONFICTION,
                "B",
                1974,
                when,
                [],
            ),
        ],
    )
    assert [b.isbn for b in books] == ["isbn-1", "isbn-2"]
    assert books[0].book_type is models.BookType.FICTION
    assert books[0].tags == ["sf", "classic"]
    assert books[1].tags == []
    assert books[0].available == when
    assert books[0].available.tzinfo is not None

    by_year = await q.books_by_year(
        conn,
        [q.BooksByYearParams(1969), q.BooksByYearParams(1974), q.BooksByYearParams(1)],
    )
    assert [[b.isbn for b in group] for group in by_year] == [
        ["isbn-1"],
        ["isbn-2"],
        [],
    ]

    await q.update_book(conn, [q.UpdateBookParams("A2", ["x"], books[0].book_id)])
    updated = (await q.books_by_year(conn, [q.BooksByYearParams(1969)]))[0][0]
    assert (updated.title, updated.tags) == ("A2", ["x"])

    await conn.execute(
        "UPDATE authors SET biography = $1 WHERE author_id = $2",
        {"born": 1929, "tags": ["sf", None], "ok": True},
        author.author_id,
    )
    fetched = await q.get_author(conn, author_id=author.author_id)
    assert fetched is not None
    assert fetched.biography == {"born": 1929, "tags": ["sf", None], "ok": True}
    assert await q.get_biography(
        conn, [q.GetBiographyParams(author.author_id), q.GetBiographyParams(-5)]
    ) == [
        {"born": 1929, "tags": ["sf", None], "ok": True},
        None,
    ]

    assert await q.delete_book_exec_result(conn, book_id=books[1].book_id) == "DELETE 1"
    await q.delete_book(conn, [q.DeleteBookParams(books[0].book_id)])
    await q.delete_book_named_func(conn, [q.DeleteBookNamedFuncParams(-1)])
    await q.delete_book_named_sign(conn, [q.DeleteBookNamedSignParams(-1)])
    assert await q.books_by_year(conn, [q.BooksByYearParams(1969)]) == [[]]


async def test_jets_runs(generated: Path, connect: Any) -> None:
    pkg = importlib.import_module("jets_gen")
    q = importlib.import_module("jets_gen.query_building")
    models = importlib.import_module("jets_gen.models")
    conn = await connect(_example("jets_gen"), pkg)

    assert await q.count_pilots(conn) == 0
    await conn.executemany(
        "INSERT INTO pilots (id, name) VALUES ($1, $2)", [(1, "Amelia"), (2, "Chuck")]
    )
    count = await q.count_pilots(conn)
    assert count == 2
    assert isinstance(count, int)
    pilots = await q.list_pilots(conn)
    assert pilots == [
        models.Pilot(id=1, name="Amelia"),
        models.Pilot(id=2, name="Chuck"),
    ]
    await q.delete_pilot(conn, id=1)
    assert await q.count_pilots(conn) == 1
