"""Migration commands against DATABASE_URL or the embedded server.

    python -m devtools.migrate            apply migrations/, print the version
    python -m devtools.migrate --diff N   diff schema.sql into migration N
    python -m devtools.migrate --lint     migrate validate + migrate lint (every file)
    python -m devtools.migrate --status   migrate status, the schema compared too
    python -m devtools.migrate --hash     migrate hash: rewrite atlas.sum for
                                          the files as they are (a file not
                                          yet applied anywhere, edited)

The engine is chosen by ``devtools.atlas`` (the official CLI or the project's
build; same arguments). Commands that need a dev database get a fresh,
separate one on the same server, dropped afterwards; the target is never the
dev database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from devtools import PROJECT_ROOT, atlas, citusdb, database, embedded

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
SUM_FILE = MIGRATIONS_DIR / "atlas.sum"
SCHEMA_FILE = PROJECT_ROOT / "schema.sql"
STATUS_FORMAT = "{{ .Status }} {{ .Current }}"


class MigrationFailed(RuntimeError):
    """The engine refused or failed; the message carries its output."""


def file_url(path: Path) -> str:
    """A file:// URL for the engine, relative when inside the project (the
    engine runs from the project root), so messages show short paths."""
    if path.is_relative_to(PROJECT_ROOT):
        path = path.relative_to(PROJECT_ROOT)
    return f"file://{path}"


def dir_url(path: Path = MIGRATIONS_DIR) -> str:
    return file_url(path)


@contextmanager
def dev_database(url: str) -> Iterator[str]:
    """A fresh, empty database for the engine to replay and diff in; dropped after."""
    try:
        dev_url, drop = asyncio.run(database.create_database(url, "atlas_dev"))
    except Exception as exc:
        raise database.DatabaseUnreachable(
            f"cannot create a dev database on {database.redact(url)}: {exc} "
            "(the URL's role needs CREATEDB)"
        ) from exc
    try:
        yield dev_url
    finally:
        asyncio.run(drop())


def apply_latest(url: str, directory: Path = MIGRATIONS_DIR) -> str:
    """Bring the database at `url` to the latest migration; returns the engine's
    output. Tests, the benchmark and the diagram build their databases this way."""
    done = atlas.run("migrate", "apply", "--dir", dir_url(directory), "--url", url)
    if done.returncode != 0:
        raise MigrationFailed(
            f"migrate apply on {database.redact(url)} failed:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


async def create_migrated_database(
    admin_url: str, prefix: str
) -> tuple[str, Callable[[], Coroutine[Any, Any, None]]]:
    """A new database at the latest schema, built from migrations/ by the
    engine (never by loading schema.sql): how the benchmark, the diagram and
    the migration proofs get one (the test databases are copies of a
    template migrated by `apply_latest`, devtools.template). Returns its URL
    and the coroutine that drops it. Under `nox -s citus` the database is
    made on every node of the Citus cluster, with Citus set up in it
    (devtools.citusdb), and every test database is made this way."""
    create = citusdb.create_database if citusdb.enabled() else database.create_database
    url, drop = await create(admin_url, prefix)
    try:
        apply_latest(url)
    except BaseException:
        await drop()
        raise
    return url, drop


def current_version(url: str, directory: Path = MIGRATIONS_DIR) -> str:
    """`Status Current`, e.g. 'OK 20261130093351'."""
    done = atlas.run(
        "migrate",
        "status",
        "--dir",
        dir_url(directory),
        "--url",
        url,
        "--format",
        STATUS_FORMAT,
    )
    if done.returncode != 0:
        raise MigrationFailed(f"migrate status failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _engine(*args: str, binary: Path | None = None) -> int:
    """Run the engine with its output going straight to the terminal."""
    binary = binary or atlas.choose().binary
    print(f"$ {binary.name} {' '.join(_masked(args))}", flush=True)
    return subprocess.call(
        [str(binary), *args], cwd=PROJECT_ROOT, env={**os.environ, **atlas.QUIET_ENV}
    )


def _masked(args: tuple[str, ...]) -> list[str]:
    return [database.redact(a) if "://" in a else a for a in args]


def _application_login(url: str) -> str:
    """Which URLs the application uses, after a successful apply."""
    if os.environ.get("DATABASE_URL", "").strip():
        login = database.as_role(url, database.APP_LOGIN_ROLE)
        auth = database.as_role(url, database.AUTH_LOGIN_ROLE)
        return (
            f"application URL: {database.redact(login)}, auth layer's URL: "
            f"{database.redact(auth)} (the least-privileged login roles; give "
            "each a password: ALTER ROLE app_login PASSWORD '…', likewise "
            "app_auth_login)"
        )
    state = embedded.read_state()
    app = state.app_url() if state else database.as_role(url, database.APP_LOGIN_ROLE)
    auth = (
        state.auth_url() if state else database.as_role(url, database.AUTH_LOGIN_ROLE)
    )
    return (
        f"application URL: {app} (least privilege; `nox -s db -- app-url`)\n"
        f"auth layer's URL: {auth} (store.users; `nox -s db -- auth-url`)"
    )


def apply_and_report(url: str) -> int:
    """`nox -s migrate`: apply migrations/ with the engine's output on the
    terminal, then the version reached and the application's URLs."""
    chosen = atlas.choose().binary
    if chosen != atlas.BUILT_BIN:
        # The official CLI applies on top of drift without a word: the
        # project's build checks the revisions first (no dev database, ~0.1 s).
        try:
            own = atlas.project_build()
        except atlas.AtlasUnavailable as exc:
            print(f"note: drift not checked before {chosen.name} applies: {exc}")
        else:
            print(f"drift check before {chosen.name} applies:", flush=True)
            args = ("migrate", "status", "--dir", dir_url(), "--url", url)
            if (code := _engine(*args, binary=own)) != 0:
                return code
    code = _engine("migrate", "apply", "--dir", dir_url(), "--url", url)
    if code == 0:
        print(f"current version: {current_version(url)}", flush=True)
        print(_application_login(url), flush=True)
    return code


def sum_entries(path: Path = SUM_FILE) -> dict[str, str]:
    """atlas.sum's hash per file name (its first line, the total, aside)."""
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text().splitlines()[1:]:
        name, _, digest = line.rpartition(" ")
        entries[name] = digest
    return entries


def _hash() -> int:
    """Rewrite atlas.sum with the engine, then say which files it re-hashed."""
    before = sum_entries()
    code = _engine("migrate", "hash", "--dir", dir_url())
    if code != 0:
        return code
    after = sum_entries()
    changes = [
        f"{name} ({'new' if name not in before else 'changed'})"
        for name in sorted(after)
        if before.get(name) != after[name]
    ] + [f"{name} (gone)" for name in sorted(before.keys() - after.keys())]
    if not changes:
        print(
            f"atlas.sum already matched the {len(after)} files: nothing changed",
            flush=True,
        )
        return 0
    print(
        f"atlas.sum re-hashed ({len(after)} files); changed since the last hash: "
        + ", ".join(changes),
        flush=True,
    )
    print(
        "Re-hash only a file not yet applied anywhere: a database that applied "
        "the old content keeps it (write a new migration to change it)",
        flush=True,
    )
    return 0


def _diff(url: str, name: str) -> int:
    own = atlas.project_build()
    if own != atlas.choose().binary:
        print(
            f"migrate diff runs {own.name}: it adds the security statements", flush=True
        )
    with dev_database(url) as dev:
        return _engine(
            "migrate",
            "diff",
            name,
            "--dir",
            dir_url(),
            "--to",
            file_url(SCHEMA_FILE),
            "--dev-url",
            dev,
            binary=own,
        )


def validate(url: str, directory: Path = MIGRATIONS_DIR) -> int:
    """`migrate validate`: atlas.sum, and every file replayed on a fresh dev
    database made on the server at `url`."""
    with dev_database(url) as dev:
        return _engine(
            "migrate", "validate", "--dir", dir_url(directory), "--dev-url", dev
        )


def lint_selection(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Which files `migrate lint` analyses: every one of them. A change
    often spans several files (a transactional one, one built concurrently,
    one validating), and a file may be new, edited or committed but not yet
    pushed; linting the whole folder catches each case without asking git,
    and takes 2.6-4.0 s for the 13 files of 2026-12 (the latest file alone:
    0.2-0.5 s; tools/schemaflow/README.md, "What lint checks")."""
    return ["--latest", str(max(1, len(list(directory.glob("*.sql")))))]


def lint(url: str, directory: Path = MIGRATIONS_DIR) -> int:
    """`migrate lint` over `lint_selection`, on a fresh dev database. It
    always runs the project's build: only it has the row-level security
    check and honours the project's marker."""
    with dev_database(url) as dev:
        return _engine(
            "migrate",
            "lint",
            "--dir",
            dir_url(directory),
            "--dev-url",
            dev,
            *lint_selection(directory),
            binary=atlas.project_build(),
        )


def _status(url: str) -> int:
    """Status runs the project's build, whichever engine applies: only it
    refuses drift, and with a dev database it also compares the database's
    schema with the applied files replayed there. A role that cannot create
    the dev database still gets the check of the revisions."""
    own = atlas.project_build()
    if own != atlas.choose().binary:
        print(f"migrate status runs {own.name}: it checks for drift", flush=True)
    args = ("migrate", "status", "--dir", dir_url(), "--url", url)
    with ExitStack() as stack:
        try:
            dev = stack.enter_context(dev_database(url))
        except database.DatabaseUnreachable as exc:
            print(f"note: the schema is not compared: {exc}", file=sys.stderr)
            return _engine(*args, binary=own)
        return _engine(*args, "--dev-url", dev, binary=own)


def _server_note() -> str:
    """After a failure: is the embedded server up, and how to stop it. A
    DATABASE_URL server is not ours to start or stop: nothing to say."""
    if os.environ.get("DATABASE_URL", "").strip():
        return ""
    try:
        state = embedded.read_state()
        running = state is not None and embedded.is_running()
    except embedded.EmbeddedServerError:
        return ""
    if state is None or not running:
        return "note: the embedded server is not running"
    return (
        f"note: the embedded server is still running at {state.url()}; "
        "stop it with `nox -s db -- stop`"
    )


def main(argv: list[str]) -> int:
    commands = {"--diff": 2, "--lint": 1, "--status": 1, "--hash": 1}
    if argv and (argv[0] not in commands or len(argv) != commands[argv[0]]):
        print(
            "usage: nox -s migrate -- [--diff NAME | --lint | --status | --hash]",
            file=sys.stderr,
        )
        return 2
    code = 1
    try:
        # The engine first: a missing toolchain fails before a server starts.
        atlas.choose()
        if argv == ["--hash"]:
            return _hash()  # files only: no database
        url = database.resolve_url()
        database.check(url)
        if not argv:
            code = apply_and_report(url)
        elif argv[0] == "--diff":
            code = _diff(url, argv[1])
        elif argv[0] == "--lint":
            # Both, whatever the first says: each names its own findings.
            code = max(validate(url), lint(url))
        else:
            code = _status(url)
    except (
        database.DatabaseUnreachable,
        embedded.EmbeddedServerError,
        atlas.AtlasUnavailable,
        MigrationFailed,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    # --hash reads files only: whether a server runs is beside the point.
    if code != 0 and argv != ["--hash"] and (note := _server_note()):
        print(note, file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
