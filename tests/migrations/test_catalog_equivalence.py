"""A database built from schema.sql and one built from migrations/ are the
same in the catalog: tables, columns, defaults, constraints, indexes,
comments, RLS flags, policies, grants, functions. The migration engine does
not diff policies or grants, so this is the proof that the hand-written part
of the history kept up; the fault tests change a policy and a grant in a copy
of schema.sql and show the proof names them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devtools import migrate

from . import catalog


@pytest.fixture(scope="module")
async def migrated_picture(pg_admin_url: str) -> AsyncIterator[catalog.Picture]:
    url, drop = await migrate.create_migrated_database(pg_admin_url, "from_history")
    yield await catalog.snapshot(url)
    await drop()


async def test_schema_sql_and_migrations_build_the_same_catalog(
    pg_admin_url: str, migrated_picture: catalog.Picture
) -> None:
    from_schema = await catalog.picture_of_schema(pg_admin_url, migrate.SCHEMA_FILE)
    found = catalog.against_history(from_schema, migrated_picture)
    assert found == [], "\n".join(map(str, found))
    # The comparison is not vacuous: each kind the schema uses is present.
    for kind in ("table", "column", "constraint", "index", "policy", "table grant"):
        assert migrated_picture[kind], f"no {kind} read from the catalog"


def _edited_schema(tmp_path: Path, old: str, new: str) -> Path:
    text = migrate.SCHEMA_FILE.read_text()
    assert text.count(old) >= 1, f"schema.sql no longer contains {old!r}"
    edited = tmp_path / "schema.sql"
    edited.write_text(text.replace(old, new, 1))
    return edited


async def test_proof_names_a_policy_changed_without_a_migration(
    pg_admin_url: str, migrated_picture: catalog.Picture, tmp_path: Path
) -> None:
    schema = _edited_schema(
        tmp_path,
        "ON projects\n    FOR ALL TO app_user\n    USING (owner_id = NULLIF(",
        "ON projects\n    FOR ALL TO app_user\n    USING (true OR owner_id = NULLIF(",
    )
    found = catalog.against_history(
        await catalog.picture_of_schema(pg_admin_url, schema), migrated_picture
    )
    assert {d.kind for d in found} == {"policy"}
    assert {d.row[1] for d in found} == {"projects_owner_isolation"}


async def test_proof_names_a_grant_added_without_a_migration(
    pg_admin_url: str, migrated_picture: catalog.Picture, tmp_path: Path
) -> None:
    schema = _edited_schema(
        tmp_path,
        "GRANT SELECT ON users TO app_user;",
        "GRANT SELECT ON users TO app_user;\nGRANT SELECT ON sessions TO app_user;",
    )
    found = catalog.against_history(
        await catalog.picture_of_schema(pg_admin_url, schema), migrated_picture
    )
    assert [(d.kind, d.row, d.only_in) for d in found] == [
        ("table grant", ("sessions", "app_user", "SELECT", False), "schema.sql")
    ]
