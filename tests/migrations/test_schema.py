"""The schema as migrations/ builds it on a real PostgreSQL: its CHECKs and row-level security
hold (tests/migrations/schema_checks.sql raises on any breach), and the catalog says RLS is
enabled and forced with the least-privilege grants."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from devtools import PROJECT_ROOT, migrate, testdb
from repositories._database import TENANT_TABLES

AUTH_ONLY_TABLES = ("sessions", "accounts", "verifications")


@pytest.fixture
async def schema_db(pg_admin_url: str) -> AsyncIterator[str]:
    url, drop = await migrate.create_migrated_database(pg_admin_url, "schema")
    yield url
    await drop()


async def test_checks_and_policies_hold(schema_db: str) -> None:
    testdb.load_sql(
        schema_db, PROJECT_ROOT / "tests" / "migrations" / "schema_checks.sql"
    )


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_checks_script_catches_a_missing_policy(
    schema_db: str, table: str
) -> None:
    conn = await asyncpg.connect(schema_db)
    try:
        await conn.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    finally:
        await conn.close()
    with pytest.raises(subprocess.CalledProcessError):
        testdb.load_sql(
            schema_db, PROJECT_ROOT / "tests" / "migrations" / "schema_checks.sql"
        )


async def test_rls_enabled_forced_and_grants_least_privilege(schema_db: str) -> None:
    conn = await asyncpg.connect(schema_db)
    try:
        secured = (*TENANT_TABLES, "users")
        flags = await conn.fetch(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY($1::text[]) ORDER BY relname",
            list(secured),
        )
        assert {(r[0], r[1], r[2]) for r in flags} == {(t, True, True) for t in secured}
        policies = await conn.fetch(
            "SELECT tablename, policyname, cmd, roles FROM pg_policies"
        )
        assert {
            (r["tablename"], r["cmd"], tuple(r["roles"]))
            for r in policies
            if r["tablename"] in TENANT_TABLES
        } == {(t, "ALL", ("app_user",)) for t in TENANT_TABLES}
        # users: an actor reads only their own row; the auth layer reads all.
        assert {
            (r["policyname"], r["cmd"], tuple(r["roles"]))
            for r in policies
            if r["tablename"] == "users"
        } == {
            ("users_own_row", "SELECT", ("app_user",)),
            ("users_auth_layer", "ALL", ("app_auth",)),
        }
        for table in AUTH_ONLY_TABLES:
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                allowed = await conn.fetchval(
                    "SELECT has_table_privilege('app_user', $1, $2)", table, privilege
                )
                assert allowed is False, f"app_user may {privilege} {table}"
        login = await conn.fetchval(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_user'"
        )
        assert login is False
    finally:
        await conn.close()


def test_schema_file_is_the_one_sqlc_reads() -> None:
    config = (PROJECT_ROOT / "sqlc.yaml").read_text()
    assert "schema: schema.sql" in config
    assert (
        Path(PROJECT_ROOT / "schema.sql")
        .read_text()
        .count("ENABLE ROW LEVEL SECURITY;")
        == len(TENANT_TABLES) + 1  # and users
    )
