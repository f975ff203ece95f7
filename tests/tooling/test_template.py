"""devtools.template, the database every test database is copied from: a
copy holds the migrated schema and the database's privileges; a template
is built once and reused, also by two runs preparing it at once; one that
no run pins is dropped once migrations/ change, a pinned one is kept; one
that vanishes is built again; settings a copy would lose are refused; the
name follows every file of migrations/.

Each test works on copies of migrations/ with a migration of its own added,
so its templates are its own; the run's template is pinned meanwhile."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from devtools import database, migrate, template
from tests.migrations import engine

GRANT_CREATE_TO_APP_USER = """
DO $$
BEGIN
    EXECUTE format(
        'GRANT CREATE ON DATABASE %I TO app_user WITH GRANT OPTION',
        current_database()
    );
END
$$;
"""
SET_WORK_MEM = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '7MB');
END
$$;
"""


@dataclass(frozen=True)
class History:
    """A copy of migrations/ with one migration added, creating `table`."""

    directory: Path
    table: str

    @property
    def template(self) -> str:
        return template.template_name(template.migrations_digest(self.directory))


@dataclass(frozen=True)
class Histories:
    """Two histories of the module's own (their templates are dropped after
    it) and one whose migration stores a setting on the database."""

    first: History
    second: History
    with_setting: History


def history(root: Path, extra_sql: str = "") -> History:
    table = f"extra_{secrets.token_hex(4)}"
    directory = engine.copy_history(root)
    engine.add_migration(
        directory, "template_test", f"CREATE TABLE {table} (a int);\n{extra_sql}"
    )
    return History(directory, table)


async def exists(admin: asyncpg.Connection[asyncpg.Record], name: str) -> bool:
    found: bool = await admin.fetchval(
        "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name
    )
    return found


async def drop_database(admin: asyncpg.Connection[asyncpg.Record], name: str) -> None:
    """As another run would: no longer a template, then dropped."""
    if await exists(admin, name):
        await admin.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def oid_of(admin: asyncpg.Connection[asyncpg.Record], name: str) -> int:
    oid: int = await admin.fetchval(
        "SELECT oid::int FROM pg_database WHERE datname = $1", name
    )
    return oid


@pytest.fixture(scope="module")
async def admin(pg_admin_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    conn = await asyncpg.connect(pg_admin_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def histories(
    tmp_path_factory: pytest.TempPathFactory,
    admin: asyncpg.Connection[asyncpg.Record],
    new_migrated_database: template.NewDatabase,
) -> AsyncIterator[Histories]:
    """`new_migrated_database` pins the run's own template: the templates
    prepared here would otherwise drop it as unused."""
    made = Histories(
        history(tmp_path_factory.mktemp("first"), extra_sql=GRANT_CREATE_TO_APP_USER),
        history(tmp_path_factory.mktemp("second")),
        history(tmp_path_factory.mktemp("with_setting"), extra_sql=SET_WORK_MEM),
    )
    yield made
    for each in (made.first, made.second, made.with_setting):
        await drop_database(admin, each.template)


async def test_a_copy_holds_the_schema_and_the_database_privileges(
    pg_admin_url: str, histories: Histories
) -> None:
    first = histories.first
    async with template.prepared(pg_admin_url, first.directory) as prepared:
        assert prepared.name == first.template
        url, drop = await prepared.create_database("copy")
    try:
        assert await engine.table_exists(url, first.table)
        conn = await asyncpg.connect(url)
        try:
            # The migration's grant, and migrations/' REVOKE TEMPORARY FROM
            # PUBLIC: neither is copied by CREATE DATABASE … TEMPLATE itself.
            assert await conn.fetchval(
                "SELECT has_database_privilege("
                "'app_user', current_database(), 'CREATE WITH GRANT OPTION')"
            )
            public = await conn.fetch(
                "SELECT a.privilege_type FROM pg_database d,"
                " aclexplode(d.datacl) a"
                " WHERE d.datname = current_database() AND a.grantee = 0"
            )
            assert [row["privilege_type"] for row in public] == ["CONNECT"]
        finally:
            await conn.close()
    finally:
        await drop()
    # Nobody connects to a template: a copy never finds a session in it.
    with pytest.raises(asyncpg.PostgresError, match="not currently accepting"):
        await asyncpg.connect(database.with_database(pg_admin_url, first.template))


async def test_runs_preparing_at_once_share_one_build_and_later_runs_reuse_it(
    pg_admin_url: str,
    admin: asyncpg.Connection[asyncpg.Record],
    histories: Histories,
) -> None:
    second = histories.second
    await drop_database(admin, second.template)
    async with AsyncExitStack() as runs:
        one, other = await asyncio.gather(
            runs.enter_async_context(template.prepared(pg_admin_url, second.directory)),
            runs.enter_async_context(template.prepared(pg_admin_url, second.directory)),
        )
        assert one.name == other.name == second.template
        built = await oid_of(admin, second.template)
    scratch = f"{second.template}{template.SCRATCH_SUFFIX}"
    assert not await exists(admin, scratch)
    async with template.prepared(pg_admin_url, second.directory):
        assert await oid_of(admin, second.template) == built


async def test_an_unused_template_of_other_migrations_goes_a_pinned_one_stays(
    pg_admin_url: str,
    admin: asyncpg.Connection[asyncpg.Record],
    histories: Histories,
) -> None:
    first, second = histories.first, histories.second
    async with template.prepared(pg_admin_url, first.directory):
        async with template.prepared(pg_admin_url, second.directory):
            assert await exists(admin, first.template), "dropped while pinned"
        # A build that a crashed run left behind, under a scratch name.
        leftover = (
            template.template_name(secrets.token_hex(8)) + template.SCRATCH_SUFFIX
        )
        await admin.execute(f'CREATE DATABASE "{leftover}"')
        # A run of the second history again: the first's template is pinned.
        async with template.prepared(pg_admin_url, second.directory):
            assert await exists(admin, first.template), "dropped while pinned"
            assert not await exists(admin, leftover)
    # Nobody pins the second's template now: the next run of the first drops it.
    async with template.prepared(pg_admin_url, first.directory):
        assert not await exists(admin, second.template)
        assert await exists(admin, first.template)


async def test_a_template_dropped_under_a_run_is_built_again_for_its_next_copy(
    pg_admin_url: str,
    admin: asyncpg.Connection[asyncpg.Record],
    histories: Histories,
) -> None:
    first = histories.first
    async with template.prepared(pg_admin_url, first.directory) as prepared:
        # As a run whose pins live in another admin database could drop it.
        await drop_database(admin, first.template)
        url, drop = await prepared.create_database("again")
        try:
            assert await engine.table_exists(url, first.table)
        finally:
            await drop()


async def test_settings_stored_on_the_database_are_refused(
    pg_admin_url: str, histories: Histories
) -> None:
    """A copy would start without them: the template is refused, naming them."""
    with pytest.raises(template.TemplateError, match=r"work_mem=7MB") as refused:
        async with template.prepared(pg_admin_url, histories.with_setting.directory):
            pass
    assert "does not copy" in str(refused.value)


def test_the_name_follows_every_file_of_the_migrations(tmp_path: Path) -> None:
    directory = engine.copy_history(tmp_path)
    original = template.migrations_digest(directory)
    assert original == template.migrations_digest(migrate.MIGRATIONS_DIR)
    first_file = sorted(directory.glob("*.sql"))[0]
    text = first_file.read_text()

    first_file.write_text(text + "\n")
    edited = template.migrations_digest(directory)
    first_file.write_text(text)
    assert template.migrations_digest(directory) == original

    sum_file = directory / "atlas.sum"
    checksums = sum_file.read_text()
    sum_file.write_text(checksums + "\n")
    resummed = template.migrations_digest(directory)
    sum_file.write_text(checksums)

    shutil.copy(first_file, directory / "29991231000000_more.sql")
    added = template.migrations_digest(directory)
    (directory / "29991231000000_more.sql").unlink()

    first_file.rename(directory / f"0_{first_file.name}")
    renamed = template.migrations_digest(directory)

    assert len({original, edited, resummed, added, renamed}) == 5
    assert template.template_name(original) == f"{template.PREFIX}{original}"
    assert len(template.template_name(original) + template.SCRATCH_SUFFIX) <= 63
