"""A comparable picture of a database's catalog: everything a schema defines,
read from PostgreSQL itself, so two databases built two ways can be compared
object by object.

It covers what the migration engine diffs (tables, columns, defaults,
constraints, indexes, comments, enums) and what it does not (row-level
security flags, policies, grants, functions, views, triggers, sequences,
extensions), which is the point: a policy missing from migrations/ shows up
here by name. The engine's own bookkeeping (the revisions schema) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from devtools import database, testdb

EXCLUDED_SCHEMAS = ("pg_catalog", "information_schema", "atlas_schema_revisions")

_USER_NAMESPACES = """
    SELECT oid FROM pg_namespace
    WHERE nspname <> ALL($1::text[]) AND nspname NOT LIKE 'pg\\_%'
"""

# Each query returns rows whose first columns name the object; the rest
# describe it. Objects are keyed by kind, then compared as sets of rows.
QUERIES: Mapping[str, str] = {
    "schema": f"""
        SELECT n.nspname, obj_description(n.oid, 'pg_namespace')
        FROM pg_namespace n WHERE n.oid IN ({_USER_NAMESPACES})""",
    "schema grant": f"""
        SELECT n.nspname, coalesce(r.rolname, 'PUBLIC'), a.privilege_type, a.is_grantable
        FROM pg_namespace n, aclexplode(n.nspacl) a
        LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE n.oid IN ({_USER_NAMESPACES}) AND a.grantee <> n.nspowner""",
    "table": f"""
        SELECT c.relnamespace::regnamespace::text, c.relname, c.relkind::text,
               c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class')
        FROM pg_class c
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')""",
    "column": f"""
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), co.collname, a.attidentity::text,
               a.attgenerated::text, col_description(c.oid, a.attnum)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraint": f"""
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE c.relnamespace IN ({_USER_NAMESPACES})""",
    "index": f"""
        SELECT c.relname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE c.relnamespace IN ({_USER_NAMESPACES})""",
    "policy": f"""
        SELECT c.relname, p.polname, p.polcmd::text, p.polpermissive,
               ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE r::regrole::text END
                     FROM unnest(p.polroles) r ORDER BY 1),
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
        WHERE c.relnamespace IN ({_USER_NAMESPACES})""",
    "table grant": f"""
        SELECT c.relname, coalesce(r.rolname, 'PUBLIC'), a.privilege_type, a.is_grantable
        FROM pg_class c, aclexplode(c.relacl) a
        LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND a.grantee <> c.relowner""",
    "column grant": f"""
        SELECT c.relname, att.attname, coalesce(r.rolname, 'PUBLIC'), a.privilege_type,
               a.is_grantable
        FROM pg_attribute att
        JOIN pg_class c ON c.oid = att.attrelid,
        aclexplode(att.attacl) a
        LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.relnamespace IN ({_USER_NAMESPACES})""",
    "function": f"""
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p WHERE p.pronamespace IN ({_USER_NAMESPACES}) AND p.prokind IN ('f', 'p')""",
    "view": f"""
        SELECT c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('v', 'm')""",
    "trigger": f"""
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.relnamespace IN ({_USER_NAMESPACES})""",
    "type": f"""
        SELECT t.typname, t.typtype::text,
               ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                     WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
        FROM pg_type t
        WHERE t.typnamespace IN ({_USER_NAMESPACES}) AND t.typtype IN ('e', 'd', 'r')""",
    "extension": "SELECT extname, extversion FROM pg_extension",
}

Row = tuple[object, ...]
Picture = Mapping[str, frozenset[Row]]


@dataclass(frozen=True)
class Difference:
    kind: str
    row: Row
    only_in: str

    def __str__(self) -> str:
        return f"{self.kind} {self.row!r} only in {self.only_in}"


async def snapshot(url: str) -> Picture:
    """Every object of the database, by kind."""
    conn = await asyncpg.connect(url)
    try:
        picture: dict[str, frozenset[Row]] = {}
        for kind, query in QUERIES.items():
            params = [list(EXCLUDED_SCHEMAS)] if "$1" in query else []
            rows = await conn.fetch(query, *params)
            picture[kind] = frozenset(
                tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in rows
            )
        return picture
    finally:
        await conn.close()


async def picture_of_schema(admin_url: str, schema: Path) -> Picture:
    """The catalog of a scratch database built by loading `schema` as psql
    would (the declarative file, not the migrations)."""
    url, drop = await database.create_database(admin_url, "from_schema")
    try:
        testdb.load_sql(url, schema)
        return await snapshot(url)
    finally:
        await drop()


def against_history(
    schema_picture: Picture, history_picture: Picture
) -> list[Difference]:
    """What schema.sql's catalog and the migrated one disagree on."""
    return differences(schema_picture, history_picture, "schema.sql", "migrations/")


def differences(
    left: Picture,
    right: Picture,
    left_name: str,
    right_name: str,
) -> list[Difference]:
    """What one picture has and the other lacks, kind by kind."""
    found: list[Difference] = []
    for kind in QUERIES:
        found += [Difference(kind, r, left_name) for r in left[kind] - right[kind]]
        found += [Difference(kind, r, right_name) for r in right[kind] - left[kind]]
    return sorted(found, key=str)
