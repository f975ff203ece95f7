"""What sqlc's catalog holds besides tables of built-in types (catalog/):
an extension's types (ltree, lquery: `str`, sent and read in their text
form). The code passes ruff and mypy --strict and round-trips its values on
the real server, which needs the ltree extension (a contrib module, shipped
with PostgreSQL's own packages and images)."""

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


async def test_runs(generated: Path, pg_admin_url: str) -> None:
    models, q = gen("models"), gen("query")
    async with connected(pg_admin_url, EXAMPLE) as conn:
        top = await q.add_node(conn, id=1, path="top", aliases=[], pattern=None)
        leaf = await q.add_node(
            conn, id=2, path="top.mid.leaf", aliases=["a.b", "c"], pattern="top.*"
        )
        assert leaf == models.Node(
            id=2, path="top.mid.leaf", aliases=["a.b", "c"], pattern="top.*"
        )
        # What asyncpg handed back is exactly what the model says.
        assert models.Node.model_validate(dict(leaf), strict=True) == leaf
        await q.add_node(conn, id=3, path="other", aliases=["x"], pattern=None)
        assert await q.subtree(conn, root="top") == [top, leaf]
        assert await q.subtree(conn, root="top.mid") == [leaf]
        assert await q.parent(conn, id=2) == "top.mid"
        assert await q.matching(conn, pattern="*.leaf") == [2]
