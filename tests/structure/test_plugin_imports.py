"""The plugin's tests import nothing from the project around the plugin (its
tools, tests, packages or bench, nor anything spelled from the repository
root): the plugin is tested as a package of its own, given a server in
TEST_DATABASE_URL (tests/tooling/test_plugin_standalone.py runs them so)."""

from __future__ import annotations

import ast
from pathlib import Path

from devtools import PROJECT_ROOT

PLUGIN_TESTS = PROJECT_ROOT / "plugin" / "tests"


def project_modules() -> set[str]:
    """The top-level names the project's own code is imported by: the
    packages of src/ and tools/ and those at the root, and `plugin`, the
    plugin's folder spelled from the root."""
    packages = {
        path.parent.name
        for folder in (PROJECT_ROOT / "src", PROJECT_ROOT / "tools", PROJECT_ROOT)
        for path in folder.glob("*/__init__.py")
    }
    return packages | {"plugin"}


def project_imports(directory: Path, forbidden: set[str]) -> list[str]:
    """`file:line module` for each import statement under `directory`, at
    any depth of any file, that names a module under one of `forbidden`."""
    found = []
    for path in sorted(directory.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [
                f"{path.relative_to(directory)}:{node.lineno} {name}"
                for name in names
                if name.split(".")[0] in forbidden
            ]
    return found


def test_the_project_modules_are_known() -> None:
    assert {"devtools", "tests", "repositories", "bench"} <= project_modules()


def test_plugin_tests_import_nothing_from_the_project() -> None:
    assert len(list(PLUGIN_TESTS.glob("test_*.py"))) > 3
    assert project_imports(PLUGIN_TESTS, project_modules()) == []


def test_each_kind_of_project_import_is_found(tmp_path: Path) -> None:
    (tmp_path / "features").mkdir()
    (tmp_path / "test_a.py").write_text(
        "import json\n"
        "import devtools.testdb\n"
        "from tests.support import new_user\n"
        "from plugin.tests.helpers import Example\n"
        "from . import local\n"
    )
    (tmp_path / "features" / "b.py").write_text(
        "import asyncpg, repositories._generated as g\n\n\n"
        "def connect():\n"
        "    from repositories import Store\n"
    )
    assert project_imports(tmp_path, project_modules()) == [
        "features/b.py:1 repositories._generated",
        "features/b.py:5 repositories",
        "test_a.py:2 devtools.testdb",
        "test_a.py:3 tests.support",
        "test_a.py:4 plugin.tests.helpers",
    ]
