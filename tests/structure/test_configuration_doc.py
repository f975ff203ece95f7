"""docs/configuration.md lists every environment variable the project's own
code reads, and no variable that nothing reads any more.

The scan covers the code that can read the environment: src/, plugin/ (its
package and its tests), tools/ (the sessions' helpers and the Go sources of
the migration engine), tests/, bench/, examples/, noxfile.py, atlas.hcl and
.ci/run. It finds, in Python, `os.environ.get/setdefault/pop(NAME)`,
`os.environ[NAME]`, `NAME in os.environ`, `os.getenv(NAME)`, the same on a
name bound to `os.environ` (or to `from os import environ`) and on nox's
`session.env`; in Go, `os.Getenv`, `os.LookupEnv` and `syscall.Getenv`; in
atlas.hcl, `getenv("NAME")`; in .ci/run, `${NAME:-…}`. NAME may be a string,
a module constant, or a loop variable over a literal tuple of strings; a read
whose name the scan cannot tell fails too, so a new way of reading is looked
at rather than missed. Each way is shown to be found in a planted tree."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devtools import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "configuration.md"
# Where the project's code lives, relative to the repository root.
SCANNED = [
    "src",
    "plugin/src",
    "plugin/tests",
    "tools",
    "tests",
    "bench",
    "examples",
    "noxfile.py",
    "atlas.hcl",
    ".ci/run",
]
SKIPPED_DIRS = {".nox", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache"}
# What any program may read; not the project's configuration.
SYSTEM = {"PATH", "HOME", "TMPDIR"}
DOC_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.MULTILINE)
GO_READ = re.compile(r"\b(?:os\.Getenv|os\.LookupEnv|syscall\.Getenv)\(\s*([^)]*)\)")
HCL_READ = re.compile(r"\bgetenv\(\s*([^)]*)\)")
SHELL_READ = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?[-=?+]")
LITERAL = re.compile(r'^"([A-Za-z_][A-Za-z0-9_]*)"$')
ENVIRON_METHODS = {"get", "setdefault", "pop"}


@dataclass(frozen=True)
class Read:
    """One read: the variable (None when the scan cannot tell which) and
    where, as `path:line` relative to the scanned root."""

    name: str | None
    where: str


def files(root: Path) -> Iterator[Path]:
    for entry in SCANNED:
        path = root / entry
        if path.is_file():
            yield path
        elif path.is_dir():
            for found in sorted(path.rglob("*")):
                skipped = SKIPPED_DIRS & set(found.relative_to(root).parts)
                if found.suffix in {".py", ".go"} and found.is_file() and not skipped:
                    yield found


def module_constants(tree: ast.Module) -> dict[str, str]:
    """NAME = "text" at the top of a module."""
    constants = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            constants[node.targets[0].id] = node.value.value
    return constants


class PythonReads:
    """The environment reads of one Python module."""

    def __init__(self, tree: ast.Module, where: str, shared: dict[str, set[str]]):
        self.tree = tree
        self.where = where
        self.shared = shared  # module constants of every scanned file, by name
        self.constants = module_constants(tree)
        self.environ_names = {"environ"} if self._imports_environ() else set()
        self.getenv_names = {"getenv"} if self._imports_getenv() else set()
        self.loop_values = self._loop_values()
        self._find_aliases()

    def _imported(self, name: str) -> bool:
        return any(
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name == name and alias.asname is None for alias in node.names)
            for node in ast.walk(self.tree)
        )

    def _imports_environ(self) -> bool:
        return self._imported("environ")

    def _imports_getenv(self) -> bool:
        return self._imported("getenv")

    def is_environ(self, node: ast.expr) -> bool:
        """`os.environ`, a name bound to it, or nox's `session.env`."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return (node.value.id, node.attr) in {("os", "environ"), ("session", "env")}
        return isinstance(node, ast.Name) and node.id in self.environ_names

    def _may_be_environ(self, node: ast.expr) -> bool:
        if isinstance(node, ast.IfExp):
            return self._may_be_environ(node.body) or self._may_be_environ(node.orelse)
        if isinstance(node, ast.BoolOp):
            return any(self._may_be_environ(value) for value in node.values)
        return self.is_environ(node)

    def _find_aliases(self) -> None:
        """Names bound to the environment (`env = os.environ if … else …`)."""
        changed = True
        while changed:
            changed = False
            for node in ast.walk(self.tree):
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value:
                    targets: list[ast.expr] = (
                        list(node.targets)
                        if isinstance(node, ast.Assign)
                        else [node.target]
                    )
                    for target in targets:
                        if (
                            isinstance(target, ast.Name)
                            and target.id not in self.environ_names
                            and self._may_be_environ(node.value)
                        ):
                            self.environ_names.add(target.id)
                            changed = True

    def _loop_values(self) -> dict[str, set[str]]:
        """Loop variables over a literal tuple, list or set of strings."""
        values: dict[str, set[str]] = defaultdict(set)
        loops: list[tuple[ast.expr, ast.expr]] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                loops.append((node.target, node.iter))
        for target, iterable in loops:
            if not isinstance(target, ast.Name) or not isinstance(
                iterable, ast.Tuple | ast.List | ast.Set
            ):
                continue
            strings = {
                item.value
                for item in iterable.elts
                if isinstance(item, ast.Constant) and isinstance(item.value, str)
            }
            if len(strings) == len(iterable.elts):
                values[target.id] |= strings
        return values

    def names(self, key: ast.expr) -> set[str] | None:
        """The variable names `key` can be, or None when the scan cannot tell."""
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return {key.value}
        if isinstance(key, ast.Name):
            if key.id in self.constants:
                return {self.constants[key.id]}
            return self.loop_values.get(key.id)
        if isinstance(key, ast.Attribute):
            known = self.shared.get(key.attr, set())
            return set(known) if len(known) == 1 else None
        return None

    def is_getenv(self, func: ast.expr) -> bool:
        """`os.getenv`, or `getenv` imported from os."""
        if isinstance(func, ast.Attribute):
            return (
                func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
            )
        return isinstance(func, ast.Name) and func.id in self.getenv_names

    def keys(self) -> Iterator[tuple[ast.expr, int]]:
        """The expression naming the variable of each read, and its line."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                method = (
                    isinstance(func, ast.Attribute)
                    and func.attr in ENVIRON_METHODS
                    and self.is_environ(func.value)
                )
                if method or self.is_getenv(func):
                    yield node.args[0], node.lineno
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and self.is_environ(node.value)
            ):
                yield node.slice, node.lineno
            elif (
                isinstance(node, ast.Compare)
                and isinstance(node.ops[0], ast.In | ast.NotIn)
                and self.is_environ(node.comparators[0])
            ):
                yield node.left, node.lineno

    def reads(self) -> Iterator[Read]:
        for key, line in self.keys():
            where = f"{self.where}:{line}"
            names = self.names(key)
            if names is None:
                yield Read(None, where)
            else:
                yield from (Read(name, where) for name in sorted(names))


def text_reads(text: str, where: str, pattern: re.Pattern[str]) -> Iterator[Read]:
    """Reads found by a pattern whose group is a quoted name (Go, HCL)."""
    for found in pattern.finditer(text):
        line = text.count("\n", 0, found.start()) + 1
        literal = LITERAL.match(found.group(1).strip())
        yield Read(literal.group(1) if literal else None, f"{where}:{line}")


def scan(root: Path) -> list[Read]:
    """Every environment read of the code under `root`."""
    paths = list(files(root))
    trees = {
        path: ast.parse(path.read_text(), filename=str(path))
        for path in paths
        if path.suffix == ".py"
    }
    shared: dict[str, set[str]] = defaultdict(set)
    for tree in trees.values():
        for name, value in module_constants(tree).items():
            shared[name].add(value)
    found: list[Read] = []
    for path in paths:
        where = path.relative_to(root).as_posix()
        if path in trees:
            found += PythonReads(trees[path], where, shared).reads()
        elif path.suffix == ".go":
            found += text_reads(path.read_text(), where, GO_READ)
        elif path.name == "atlas.hcl":
            found += text_reads(path.read_text(), where, HCL_READ)
        else:
            text = path.read_text()
            for match in SHELL_READ.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(Read(match.group(1), f"{where}:{line}"))
    return found


def listed(doc: str) -> set[str]:
    """The variables of the page's table: rows that open with `NAME`."""
    return set(DOC_ROW.findall(doc))


def problems(reads: list[Read], doc: str) -> list[str]:
    """What the page misses: each variable read and not listed, with where
    it is read, and each read whose variable the scan cannot tell."""
    on_page = listed(doc)
    missing: dict[str, list[str]] = defaultdict(list)
    found = []
    for read in reads:
        if read.name is None:
            found.append(f"{read.where}: reads a variable this test cannot name")
        elif read.name not in on_page and read.name not in SYSTEM:
            missing[read.name].append(read.where)
    for name, places in sorted(missing.items()):
        found.append(f"{name} (read in {', '.join(places)}) is not listed")
    return found


def test_every_variable_the_code_reads_is_listed() -> None:
    found = problems(scan(PROJECT_ROOT), DOC.read_text())
    assert found == [], "docs/configuration.md:\n" + "\n".join(found)


def test_every_listed_variable_is_read() -> None:
    read = {read.name for read in scan(PROJECT_ROOT)}
    assert sorted(listed(DOC.read_text()) - read) == []


def test_the_scan_finds_each_way_of_reading(tmp_path: Path) -> None:
    planted = {
        "src/pkg/settings.py": (
            "import os\n"
            "from os import environ, getenv\n"
            "FLAG = 'A_CONSTANT'\n"
            "a = os.environ.get('A_GET')\n"
            "b = os.environ['A_SUBSCRIPT']\n"
            "c = 'A_IN' in os.environ\n"
            "d = os.getenv('A_GETENV')\n"
            "e = getenv('A_FROM_GETENV')\n"
            "f = environ.setdefault('A_SETDEFAULT', '1')\n"
            "g = os.environ.get(FLAG)\n"
            "os.environ['A_WRITE_ONLY'] = '1'\n"
            "child = {**os.environ, 'A_FOR_A_CHILD': '1'}\n"
        ),
        "tools/helper.py": (
            "import os\n"
            "from pkg import settings\n"
            "def read(environ=None):\n"
            "    env = os.environ if environ is None else environ\n"
            "    missing = [n for n in ('A_LOOP', 'B_LOOP') if not env.get(n)]\n"
            "    return env['A_ALIAS'], os.environ.get(settings.FLAG), missing\n"
            "def unknown(name):\n"
            "    return os.environ.get(name)\n"
        ),
        "noxfile.py": "def s(session):\n    return session.env.get('A_NOX')\n",
        "tools/schemaflow/main.go": (
            'package main\n\nimport "os"\n\nvar a = os.Getenv("A_GO")\n'
            'var _, b = os.LookupEnv("A_LOOKUP")\nvar c = os.Getenv(name)\n'
        ),
        "atlas.hcl": 'variable "u" {\n  default = getenv("A_HCL")\n}\n',
        ".ci/run": 'echo "${A_SHELL:-}" "$plain" "${PATH}"\n',
    }
    for relative, text in planted.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    reads = scan(tmp_path)
    assert {read.name for read in reads if read.name} == {
        "A_CONSTANT",
        "A_GET",
        "A_SUBSCRIPT",
        "A_IN",
        "A_GETENV",
        "A_FROM_GETENV",
        "A_SETDEFAULT",
        "A_LOOP",
        "B_LOOP",
        "A_ALIAS",
        "A_NOX",
        "A_GO",
        "A_LOOKUP",
        "A_HCL",
        "A_SHELL",
    }
    assert sorted(read.where for read in reads if read.name is None) == [
        "tools/helper.py:8",
        "tools/schemaflow/main.go:7",
    ]


def test_an_unlisted_variable_is_named_with_its_file(tmp_path: Path) -> None:
    module = tmp_path / "src" / "pkg" / "store.py"
    module.parent.mkdir(parents=True)
    module.write_text("import os\n\nKEY = os.environ.get('SOME_NEW_VAR')\n")
    doc = "| variable | read by |\n|---|---|\n| `OTHER_VAR` | x |\n"
    assert problems(scan(tmp_path), doc) == [
        "SOME_NEW_VAR (read in src/pkg/store.py:3) is not listed"
    ]
    assert problems(scan(tmp_path), doc + "| `SOME_NEW_VAR` | y |\n") == []
