"""The import graphs of src/, plugin/ and bench/ have no cycles (runtime,
on-demand and typing-only imports alike; see tests/structure/imports.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools import PROJECT_ROOT

from .imports import Tree, cycles, graph

ROOT = PROJECT_ROOT
GRAPHS = {
    "src": [Tree(ROOT / "src", ROOT / "src")],
    "plugin": [
        Tree(ROOT / "plugin" / "src", ROOT / "plugin" / "src"),
        # Its tests import each other by plain name, as pytest runs them.
        Tree(ROOT / "plugin" / "tests", ROOT / "plugin" / "tests"),
    ],
    "bench": [Tree(ROOT / "bench", ROOT)],
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_import_graph_has_no_cycles(name: str) -> None:
    edges = graph(GRAPHS[name])
    assert len(edges) > 3, f"{name}: the graph found almost no modules"
    found = [" -> ".join(cycle) for cycle in cycles(edges)]
    assert found == [], f"import cycles in {name}/: {found}"


def _write(root: Path, files: dict[str, str]) -> Tree:
    for relative, text in files.items():
        path = root / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Tree(root / "pkg", root)


def test_a_typing_only_cycle_is_found(tmp_path: Path) -> None:
    tree = _write(
        tmp_path,
        {
            "__init__.py": "",
            "store.py": "from pkg.unit import Unit\n",
            "unit.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from pkg.store import Store\n"
            ),
        },
    )
    assert cycles(graph([tree])) == [["pkg.store", "pkg.unit", "pkg.store"]]


def test_an_on_demand_and_a_relative_cycle_are_found(tmp_path: Path) -> None:
    tree = _write(
        tmp_path,
        {
            "__init__.py": "",
            "sub/__init__.py": "",
            "sub/base.py": (
                "def open_it():\n    from pkg.sub.impl import Impl\n    return Impl\n"
            ),
            "sub/impl.py": "from .base import open_it\n",
            "a.py": "from pkg import b\n",
            "b.py": "from . import c\n",
            "c.py": "import pkg.a\n",
        },
    )
    assert sorted(cycles(graph([tree]))) == [
        ["pkg.a", "pkg.b", "pkg.c", "pkg.a"],
        ["pkg.sub.base", "pkg.sub.impl", "pkg.sub.base"],
    ]


def test_a_package_importing_its_modules_is_no_cycle(tmp_path: Path) -> None:
    tree = _write(
        tmp_path,
        {
            "__init__.py": "from pkg.registry import REGISTRY\n",
            "registry.py": "from pkg.items import ITEM\nREGISTRY = [ITEM]\n",
            "items.py": "ITEM = 1\n",
        },
    )
    assert cycles(graph([tree])) == []
