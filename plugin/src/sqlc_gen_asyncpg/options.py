"""Plugin options, from the codegen block's `options:` in sqlc.yaml.

options:
  package: generated            # import name of the output package
  overrides:                    # Python types for columns or database types
    - column: agent_states.state
      python_type: myapp.state:AgentStatePayload
    - db_type: citext
      python_type: str
  cursor_iterators: false       # true: every :many also gets <name>_iter
                                # (one query: a `-- @iter` line in its comment)

A `-- @into` line in a :one/:many query's comment also writes <name>_into,
building each row as a model the caller passes (see check_row_model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.naming import is_identifier

KNOWN_KEYS = frozenset({"package", "overrides", "cursor_iterators"})


@dataclass(frozen=True)
class PythonType:
    """`module:Name` (or a builtin `Name`), as given in an override."""

    module: str
    name: str

    @classmethod
    def parse(cls, spec: str) -> PythonType:
        module, _, name = spec.rpartition(":")
        if not name or not all(is_identifier(p) for p in name.split(".")):
            raise GenerateError(
                f"override python_type {spec!r} is not `module:Name` or a builtin name"
            )
        if module and not all(is_identifier(p) for p in module.split(".")):
            raise GenerateError(f"override python_type {spec!r} has a bad module path")
        return cls(module=module, name=name)


@dataclass(frozen=True)
class Options:
    package: str
    column_overrides: dict[str, PythonType]
    type_overrides: dict[str, PythonType]
    cursor_iterators: bool

    @classmethod
    def parse(cls, raw: dict[str, Any], default_package: str) -> Options:
        unknown = set(raw) - KNOWN_KEYS
        if unknown:
            raise GenerateError(
                f"unknown plugin option(s) {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}"
            )
        package = raw.get("package") or default_package
        if not isinstance(package, str) or not all(
            is_identifier(p) for p in package.split(".")
        ):
            raise GenerateError(
                f"option package {package!r} is not a Python package name"
            )
        columns: dict[str, PythonType] = {}
        types: dict[str, PythonType] = {}
        for entry in raw.get("overrides") or ():
            if not isinstance(entry, dict) or "python_type" not in entry:
                raise GenerateError(f"override {entry!r} needs python_type")
            target = PythonType.parse(str(entry["python_type"]))
            if "column" in entry:
                columns[str(entry["column"]).lower()] = target
            elif "db_type" in entry:
                types[str(entry["db_type"]).lower()] = target
            else:
                raise GenerateError(f"override {entry!r} needs column or db_type")
        iterators = raw.get("cursor_iterators", False)
        if not isinstance(iterators, bool):
            raise GenerateError(
                f"option cursor_iterators {iterators!r} must be true or false"
            )
        return cls(
            package=package,
            column_overrides=columns,
            type_overrides=types,
            cursor_iterators=iterators,
        )
