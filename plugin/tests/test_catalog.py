"""What sqlc's catalog holds besides tables of built-in types (catalog/):
an extension's types (ltree, lquery: `str`, sent and read in their text
form), enum values with no letter or digit (named by position, as sqlc
does), and views whose unaliased column has no name (no model, noted in
models.py; the run goes on). The code passes ruff and mypy --strict and
round-trips its values on the real server, which needs the ltree extension
(a contrib module, shipped with PostgreSQL's own packages and images)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugin_support import (
    Example,
    connected,
    generated_packages,
    static_checks,
)

CORPUS = Path(__file__).parent / "catalog"
EXAMPLE = Example("catalog_gen", CORPUS / "schema.sql", CORPUS / "query.sql")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("catalog")
    with generated_packages(workdir, [EXAMPLE]) as generated_dir:
        yield generated_dir


def gen(module: str) -> Any:
    return importlib.import_module(f"{EXAMPLE.package}.{module}")


def test_generated_code_passes_ruff_and_mypy_strict(generated: Path) -> None:
    static_checks(generated, [EXAMPLE.package])


def test_extension_types_are_str(generated: Path) -> None:
    models, q = gen("models"), gen("query")
    fields = models.Node.model_fields
    assert fields["path"].annotation is str
    assert fields["aliases"].annotation == list[str]
    assert fields["pattern"].annotation == str | None
    subtree = inspect.signature(q.subtree)
    assert subtree.parameters["root"].annotation == "str"
    assert inspect.signature(q.parent).return_annotation == "str | None"


def test_enum_values_without_letters_are_named_by_position(generated: Path) -> None:
    models = gen("models")
    assert [(m.name, m.value) for m in models.Op] == [
        ("VALUE_0", "#"),
        ("VALUE_1", "*"),
        ("MINUS", "minus"),
        ("V_1", "-1"),
    ]


def test_views_with_an_unnamed_column_have_no_model(generated: Path) -> None:
    models_py = (generated / EXAMPLE.package / "models.py").read_text()
    assert (
        "Tables without a model (queries using them fail to generate):\n"
        "- table one, column 1: no name (an expression without AS in the view)\n"
        "- table node_depths, column 2: no name (an expression without AS in "
        "the view)\n"
    ) in models_py
    assert [name for name in vars(gen("models")) if name in {"One", "NodeDepth"}] == []


async def test_runs(generated: Path, pg_admin_url: str) -> None:
    models, q = gen("models"), gen("query")
    op = models.Op
    async with connected(pg_admin_url, EXAMPLE) as conn:
        top = await q.add_node(
            conn, id=1, path="top", aliases=[], pattern=None, op=op.VALUE_0
        )
        leaf = await q.add_node(
            conn,
            id=2,
            path="top.mid.leaf",
            aliases=["a.b", "c"],
            pattern="top.*",
            op=op.VALUE_1,
        )
        assert leaf == models.Node(
            id=2,
            path="top.mid.leaf",
            aliases=["a.b", "c"],
            pattern="top.*",
            op=op.VALUE_1,
        )
        # What asyncpg handed back is exactly what the model says.
        assert models.Node.model_validate(dict(leaf), strict=True) == leaf
        assert leaf.op is op.VALUE_1
        await q.add_node(
            conn, id=3, path="other", aliases=["x"], pattern=None, op=op.V_1
        )
        assert await q.subtree(conn, root="top") == [top, leaf]
        assert await q.subtree(conn, root="top.mid") == [leaf]
        assert await q.parent(conn, id=2) == "top.mid"
        assert await q.matching(conn, pattern="*.leaf") == [2]
        rows = await q.by_ops(conn, ops=[op.VALUE_0, op.VALUE_1])
        assert rows == [
            q.ByOpsRow(id=1, op=op.VALUE_0),
            q.ByOpsRow(id=2, op=op.VALUE_1),
        ]
        assert [row.op.value for row in rows] == ["#", "*"]
        assert await conn.fetchval("SELECT op::text FROM nodes WHERE id = 1") == "#"
        await q.refresh_one(conn)
        assert await q.depth_ids(conn) == [1, 2, 3]
