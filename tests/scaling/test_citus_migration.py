"""The Citus migration (migrations/20261130104436_citus_distribution.sql): a no-op that says so on PostgreSQL without
Citus, and, where Citus runs, the distribution the readiness checks assume."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlsplit

import asyncpg

from devtools import PROJECT_ROOT, embedded
from tests.scaling import readiness

SCRIPT = PROJECT_ROOT / "migrations" / "20261130104436_citus_distribution.sql"
# The history's tables came later and are distributed by their own migration.
HISTORY_SCRIPT = (
    PROJECT_ROOT / "migrations" / "20261207035358_history_and_checkpoints.sql"
)
DISTRIBUTED = (
    r"create_distributed_table\(\s*'public\.(\w+)',\s*'(\w+)'"
    r"(?:,\s*colocate_with => 'public\.(\w+)')?\s*\)"
)


def psql(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(embedded.bin_dir() / "psql"), url, "-X", "-v", "ON_ERROR_STOP=1", *args],
        capture_output=True,
        text=True,
        check=True,
    )


def schema_dump(url: str) -> str:
    return subprocess.run(
        [
            str(embedded.bin_dir() / "pg_dump"),
            "--schema-only",
            "--restrict-key=snapshot",  # else a random key on every run
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


async def catalog_snapshot(url: str) -> tuple[str, list[str], list[str]]:
    """The schema as pg_dump writes it, the database's own settings (ALTER
    DATABASE … SET) and the installed extensions."""
    dump = schema_dump(url)
    conn = await asyncpg.connect(url)
    try:
        settings = await conn.fetchval(
            "SELECT coalesce(array_agg(s ORDER BY s), '{}') FROM pg_db_role_setting d, "
            "unnest(d.setconfig) AS s WHERE d.setdatabase = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        extensions = await conn.fetchval(
            "SELECT array_agg(extname::text ORDER BY extname) FROM pg_extension"
        )
    finally:
        await conn.close()
    return dump, list(settings), list(extensions)


async def test_without_citus_the_script_changes_nothing_and_says_so(
    latest_db: str,
) -> None:
    before = await catalog_snapshot(latest_db)
    assert "citus" not in before[2], "this test needs a server without Citus"
    result = psql(latest_db, "-f", str(SCRIPT))
    assert await catalog_snapshot(latest_db) == before
    database = urlsplit(latest_db).path.lstrip("/")
    notices = [line for line in result.stderr.splitlines() if "NOTICE" in line]
    assert len(notices) == 1, result.stderr
    assert f"NOTICE:  citus is not installed in database {database} (" in notices[0]
    assert notices[0].endswith("nothing to distribute, the tables stay local")


async def test_without_citus_the_script_can_run_twice(latest_db: str) -> None:
    """A migration runner may apply it to a database that already ran it."""
    psql(latest_db, "-f", str(SCRIPT))
    before = await catalog_snapshot(latest_db)
    psql(latest_db, "-f", str(SCRIPT))
    assert await catalog_snapshot(latest_db) == before


def test_the_script_distributes_what_the_readiness_checks_assume() -> None:
    text = SCRIPT.read_text()
    reference = re.findall(r"create_reference_table\('public\.(\w+)'\)", text)
    distributed = re.findall(DISTRIBUTED, text) + re.findall(
        DISTRIBUTED, HISTORY_SCRIPT.read_text()
    )
    assert reference == sorted(readiness.REFERENCE_TABLES)
    assert len({table for table, _, _ in distributed}) == len(distributed)
    assert {table: column for table, column, _ in distributed} == (
        readiness.DISTRIBUTION_COLUMNS
    )
    # projects first, the others in its co-location group.
    assert distributed[0] == ("projects", "id", "")
    assert all(colocate == "projects" for _, _, colocate in distributed[1:])
    # A referenced table is distributed before the tables that reference it.
    assert text.index("create_reference_table(") < text.index(
        "create_distributed_table("
    )
    assert re.search(
        r"'ALTER DATABASE %I SET citus\.propagate_set_commands = %L',\s*"
        r"current_database\(\),\s*'local'",
        text,
    )


async def test_the_script_recreates_the_owner_key_as_the_schema_has_it(
    latest_db: str,
) -> None:
    """The script drops projects_owner_id_fkey around the distribution and
    adds it back: with the very definition the schema gives it."""
    recreated = re.search(
        r"ADD CONSTRAINT projects_owner_id_fkey\s+(FOREIGN KEY [^;]+);",
        SCRIPT.read_text(),
    )
    assert recreated is not None
    conn = await asyncpg.connect(latest_db)
    try:
        definition = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'projects_owner_id_fkey'"
        )
    finally:
        await conn.close()
    assert " ".join(recreated.group(1).split()).replace("public.", "") == definition
