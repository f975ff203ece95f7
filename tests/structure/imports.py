"""The import graph of a source tree, read from the source (nothing is
imported): which module names which, and the cycles among them.

An edge is what an import statement names: `import a.b` and
`from a import b` (when a.b is a module of the tree) point at a.b,
`from a.b import name` at a.b, relative imports resolved against the
importing module's package. Every statement counts, wherever it stands:
module level, inside a function (imported on demand) or under
`if TYPE_CHECKING:` (typing only). The implicit import of a parent package
that Python performs before a submodule's is not an edge: it is how packages
load, not a dependency one module declares on another.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tree:
    """Python files under `directory`, named as imported from `base`
    (src/repositories/store.py with base src/ is `repositories.store`)."""

    directory: Path
    base: Path

    def modules(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for path in sorted(self.directory.rglob("*.py")):
            parts = list(path.relative_to(self.base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
        return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, path: Path, known: set[str]
) -> Iterable[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:
        package = _package_of(module, path).split(".")
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in known else base


def graph(trees: Iterable[Tree]) -> dict[str, set[str]]:
    """module -> the modules of the trees it imports."""
    modules: dict[str, Path] = {}
    for tree in trees:
        modules.update(tree.modules())
    known = set(modules)
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges[name].update(
                    target
                    for target in _targets(node, name, path, known)
                    if target in known and target != name
                )
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module, as one cycle
    through it (a -> b -> a), found by Tarjan's algorithm (iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop(0)
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(_cycle_through(sorted(group), edges))
    return groups


def _cycle_through(group: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A readable cycle: from the group's first module back to it."""
    members = set(group)
    start = group[0]
    paths: dict[str, list[str]] = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for child in sorted(edges[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                frontier.append(child)
    raise AssertionError(f"no cycle through {group}")  # pragma: no cover
