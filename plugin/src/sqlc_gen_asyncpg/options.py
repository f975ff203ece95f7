"""Plugin options, from the codegen block's `options:` in sqlc.yaml.

options:
  package: generated            # import name of the output package
  overrides:                    # Python types for columns or database types
    - column: agent_states.state
      python_type: myapp.state:AgentStatePayload
    - db_type: citext
      python_type: str
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.naming import is_identifier

KNOWN_KEYS = frozenset({"package", "overrides"})


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
        return cls(package=package, column_overrides=columns, type_overrides=types)
