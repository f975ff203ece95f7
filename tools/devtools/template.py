"""One database migrated per server and migrations/, copied for each test.

The suite wants a fresh database at the latest migration per test module
(and per test in a few places). Rather than run the engine's `migrate
apply`, a subprocess replaying every file, for each of them, a test run
migrates one database that way, the template, and makes each test database
a copy of it (`CREATE DATABASE … TEMPLATE`, one statement in the server).

The template is named after a digest of migrations/ (`template_name`): a
run uses the template its files build, building it if the server has none.
It stays on the server for the next run; a template of other files (an older
migrations/, another branch) is dropped by the next run that prepares one,
unless a run still uses it.

Several runs on one server (a developer's and `nox -s compat`'s, or two
clones sharing TEST_DATABASE_URL) stay out of each other's way through
advisory locks in the admin URL's database:

- each run holds a shared *pin* on its template's name while it runs, and a
  template is dropped only by whoever gets that pin exclusively: when no
  run uses it;
- one run at a time builds or drops templates (the *build* lock), and a
  template is built under a scratch name and renamed once migrated, so its
  own name always means a whole migrated database; a scratch build that a
  crashed run left behind is dropped by the next one.

A template accepts no connections (`ALLOW_CONNECTIONS false`): `CREATE
DATABASE … TEMPLATE` refuses a source that any other session is connected
to, and so none can be. Should a template vanish all the same (runs whose
admin URLs name different databases do not see each other's pins), the
copy builds it again and tries once more.

A copy holds the template's objects and rows, not what PostgreSQL keeps
about the database itself: its privileges (`GRANT`/`REVOKE … ON DATABASE`,
as migrations/ revokes TEMPORARY from PUBLIC) are copied here and checked;
settings stored on it (`ALTER DATABASE … SET`, `ALTER ROLE … IN DATABASE …
SET`) are not copied, so a template holding any is refused, naming them.

Under `nox -s citus` the test databases are made on every node and migrated
by the engine instead (`migrate.create_migrated_database`); the migration
proofs (tests/migrations) run the engine themselves.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from devtools import database, migrate

Drop = Callable[[], Coroutine[Any, Any, None]]
# Makes a database at the latest migration, its name starting with the
# prefix given; returns its URL and the coroutine that drops it.
NewDatabase = Callable[[str], Awaitable[tuple[str, Drop]]]

PREFIX = "template_migrations_"
DIGEST_CHARS = 16
SCRATCH_SUFFIX = "_building"
# Part of the digest: raise it when what a template holds changes for a
# reason other than migrations/ (how it is built), so that older templates
# are rebuilt rather than reused.
BUILD_FORMAT = b"1"
# The first key of the two-key advisory locks (the second: hashtext of the
# template's name for a pin, 0 for the build lock). The engine's own locks
# use the one-key form, a separate space.
PIN_LOCKS = 1_953_720_001
BUILD_LOCK = 1_953_720_002
# How long a run waits for another run's build (or drop) before giving up.
BUILD_LOCK_TIMEOUT = "10min"


class TemplateError(RuntimeError):
    """The template cannot serve: the message says why and what to do."""


def migrations_digest(directory: Path = migrate.MIGRATIONS_DIR) -> str:
    """Hex digest of every file in `directory`: names and contents."""
    digest = hashlib.sha256(BUILD_FORMAT)
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        for part in (path.name.encode(), path.read_bytes()):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:DIGEST_CHARS]


def template_name(digest: str) -> str:
    return f"{PREFIX}{digest}"


# A database's privileges as rows comparable between two databases of one
# owner: the owner's own entries are told apart by a flag, not by name.
_PRIVILEGES = """
SELECT
    a.grantee = d.datdba AS to_owner,
    CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee,
    a.grantor = d.datdba AS by_owner,
    a.privilege_type,
    a.is_grantable
FROM pg_database d
CROSS JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) AS a
LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE d.datname = $1
"""

_SETTINGS = """
SELECT coalesce(r.rolname, '(every role)') AS role, s.setconfig::text AS config
FROM pg_db_role_setting s
JOIN pg_database d ON d.oid = s.setdatabase
LEFT JOIN pg_roles r ON r.oid = s.setrole
WHERE d.datname = $1
"""

# (to the owner, grantee or "" for the owner, by the owner, privilege,
# grantable): the owner's entries compare by the flag, not by its name.
Privilege = tuple[bool, str, bool, str, bool]


async def _privileges_of(
    conn: asyncpg.Connection[asyncpg.Record], name: str
) -> list[Privilege]:
    rows = await conn.fetch(_PRIVILEGES, name)
    return sorted(
        (
            row["to_owner"],
            "" if row["to_owner"] else row["grantee"],
            row["by_owner"],
            row["privilege_type"],
            row["is_grantable"],
        )
        for row in rows
    )


def _grants(privileges: list[Privilege]) -> list[str]:
    """Statements giving a new database (default privileges, same owner)
    `privileges`; `{database}` stands for its quoted name. The owner's own
    entries are left as they are (the check after the copy covers them)."""
    statements = ["REVOKE ALL ON DATABASE {database} FROM PUBLIC"]
    for to_owner, grantee, _by_owner, privilege, grantable in privileges:
        if not to_owner:
            option = " WITH GRANT OPTION" if grantable else ""
            statements.append(
                f"GRANT {privilege} ON DATABASE {{database}} TO {grantee}{option}"
            )
    return statements


async def _exists(conn: asyncpg.Connection[asyncpg.Record], name: str) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name
    )
    return found


async def _drop(conn: asyncpg.Connection[asyncpg.Record], name: str) -> None:
    # A template database cannot be dropped until it is no longer one.
    if await conn.fetchval(
        "SELECT datistemplate FROM pg_database WHERE datname = $1", name
    ):
        await conn.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _drop_unused(conn: asyncpg.Connection[asyncpg.Record], keep: str) -> None:
    """Under the build lock: drop scratch builds (nobody else is building)
    and the templates of other migrations/ that no run pins."""
    others = await conn.fetch(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1)"
        " AND datname <> $2",
        PREFIX,
        keep,
    )
    for other in (row["datname"] for row in others):
        if other.endswith(SCRATCH_SUFFIX):
            await _drop(conn, other)
            continue
        if not await conn.fetchval(
            "SELECT pg_try_advisory_lock($1, hashtext($2))", PIN_LOCKS, other
        ):
            continue  # a run is using it
        try:
            await _drop(conn, other)
        finally:
            await conn.execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))", PIN_LOCKS, other
            )


async def _build(
    conn: asyncpg.Connection[asyncpg.Record],
    admin_url: str,
    name: str,
    directory: Path,
) -> None:
    """Migrate a scratch database with the engine, then make it the template."""
    scratch = f"{name}{SCRATCH_SUFFIX}"
    await conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        await asyncio.to_thread(
            migrate.apply_latest, database.with_database(admin_url, scratch), directory
        )
        await conn.execute(
            f'ALTER DATABASE "{scratch}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'
        )
        await conn.execute(f'ALTER DATABASE "{scratch}" RENAME TO "{name}"')
    except BaseException:
        await _drop(conn, scratch)
        raise


async def _ensure(
    conn: asyncpg.Connection[asyncpg.Record],
    admin_url: str,
    name: str,
    directory: Path,
) -> None:
    """The template `name` exists on the server when this returns (the
    caller holds its pin, so no other run drops it meanwhile)."""
    await conn.execute(f"SET lock_timeout = '{BUILD_LOCK_TIMEOUT}'")
    try:
        await conn.execute("SELECT pg_advisory_lock($1, 0)", BUILD_LOCK)
    except asyncpg.LockNotAvailableError as exc:
        raise TemplateError(
            f"waited {BUILD_LOCK_TIMEOUT} for another test run on "
            f"{database.redact(admin_url)} to build its template database"
        ) from exc
    try:
        await _drop_unused(conn, name)
        if not await _exists(conn, name):
            await _build(conn, admin_url, name, directory)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, 0)", BUILD_LOCK)


@dataclass
class Template:
    """The template of the migration files in `directory` on the server of
    `admin_url`, pinned by `_pin` for as long as the run uses it."""

    admin_url: str
    name: str
    directory: Path
    _pin: asyncpg.Connection[asyncpg.Record]
    _expected: list[Privilege]

    async def create_database(self, prefix: str) -> tuple[str, Drop]:
        """A new database at the latest migration: a copy of the template,
        with its privileges. Returns its URL and the coroutine that drops it."""
        try:
            url, drop = await database.create_database(
                self.admin_url, prefix, template=self.name
            )
        except asyncpg.InvalidCatalogNameError:
            # Dropped by a run that could not see our pin: build it again.
            await _ensure(self._pin, self.admin_url, self.name, self.directory)
            url, drop = await database.create_database(
                self.admin_url, prefix, template=self.name
            )
        try:
            await self._copy_privileges(url)
        except BaseException:
            await drop()
            raise
        return url, drop

    async def _copy_privileges(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        conn = await asyncpg.connect(self.admin_url, timeout=database.CONNECT_TIMEOUT_S)
        try:
            quoted = f'"{name}"'
            await conn.execute(
                ";\n".join(g.format(database=quoted) for g in _grants(self._expected))
            )
            copied = await _privileges_of(conn, name)
        finally:
            await conn.close()
        if copied != self._expected:
            raise TemplateError(
                f"database {name} did not get the privileges of its template "
                f"{self.name}: {copied} instead of {self._expected}"
            )


@asynccontextmanager
async def prepared(
    admin_url: str, directory: Path = migrate.MIGRATIONS_DIR
) -> AsyncIterator[Template]:
    """The template of the migration files in `directory` as they are, on
    the server of `admin_url`, built if missing, pinned until the block ends."""
    name = template_name(migrations_digest(directory))
    pin = await asyncpg.connect(admin_url, timeout=database.CONNECT_TIMEOUT_S)
    try:
        # Pinned before it is looked for: a run dropping unused templates
        # either dropped it already (then it is built below) or skips it.
        await pin.execute(
            "SELECT pg_advisory_lock_shared($1, hashtext($2))", PIN_LOCKS, name
        )
        await _ensure(pin, admin_url, name, directory)
        if settings := await pin.fetch(_SETTINGS, name):
            stored = ", ".join(f"{row['role']}: {row['config']}" for row in settings)
            raise TemplateError(
                f"migrations/ store settings on the database ({stored}), which "
                "CREATE DATABASE … TEMPLATE does not copy: copy them in "
                "tools/devtools/template.py"
            )
        privileges = await _privileges_of(pin, name)
        yield Template(admin_url, name, directory, pin, privileges)
    finally:
        await pin.close()
