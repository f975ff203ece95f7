"""Databases for the comparison with the official CLI (devtools.atlas_parity):
fresh ones on one server, swept at the end, and a picture of a database's
schema read from PostgreSQL's catalog, to compare two databases object by
object whichever engine built them."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg

from devtools import atlas_corpus, database

STATEMENT_TIMEOUT_MS = 60_000

# The catalog, read from PostgreSQL itself (not from either engine), so that
# what both engines miss shows too: a partition's bound, a sequence's type,
# an enum's labels, a domain. Rows are compared as sets, so column order and
# creation order do not count. NOT NULL constraints (pg_constraint rows
# since PostgreSQL 18) are left to the column's `attnotnull`: their names
# are derived, not chosen.
_USER_NAMESPACES = """
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('information_schema', 'atlas_schema_revisions')
      AND nspname NOT LIKE 'pg\\_%'
"""
CATALOG: Mapping[str, str] = {
    "schema": f"SELECT nspname FROM pg_namespace WHERE oid IN ({_USER_NAMESPACES})",
    "relation": f"""
        SELECT c.oid::regclass::text, c.relkind::text, pg_get_partkeydef(c.oid),
               pg_get_expr(c.relpartbound, c.oid),
               (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid),
               obj_description(c.oid, 'pg_class')
        FROM pg_class c
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')""",
    "column": f"""
        SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_get_expr(d.adbin, d.adrelid), co.collname,
               a.attidentity::text, a.attgenerated::text, col_description(a.attrelid, a.attnum)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraint": f"""
        SELECT coalesce(k.conrelid::regclass::text, k.contypid::regtype::text), k.conname,
               k.contype::text, pg_get_constraintdef(k.oid)
        FROM pg_constraint k
        WHERE k.connamespace IN ({_USER_NAMESPACES}) AND k.contype <> 'n'""",
    "index": f"""
        SELECT x.indrelid::regclass::text, x.indexrelid::regclass::text,
               pg_get_indexdef(x.indexrelid), obj_description(x.indexrelid, 'pg_class')
        FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
        WHERE c.relnamespace IN ({_USER_NAMESPACES})""",
    "sequence": f"""
        SELECT s.seqrelid::regclass::text, format_type(s.seqtypid, NULL), s.seqstart,
               s.seqincrement, s.seqmin, s.seqmax, s.seqcycle,
               (SELECT d.refobjid::regclass::text || '.' || a.attname
                FROM pg_depend d
                JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        WHERE c.relnamespace IN ({_USER_NAMESPACES})""",
    "type": f"""
        SELECT t.oid::regtype::text, t.typtype::text,
               ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                     WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
               format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault
        FROM pg_type t
        WHERE t.typnamespace IN ({_USER_NAMESPACES}) AND t.typtype IN ('e', 'd', 'r', 'c')
          AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')""",
    "function": f"""
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p
        WHERE p.pronamespace IN ({_USER_NAMESPACES}) AND p.prokind IN ('f', 'p')""",
    "view": f"""
        SELECT c.oid::regclass::text, pg_get_viewdef(c.oid)
        FROM pg_class c
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('v', 'm')""",
    "trigger": f"""
        SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.relnamespace IN ({_USER_NAMESPACES})""",
    "extension": "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'",
}

Row = tuple[object, ...]
Picture = Mapping[str, frozenset[Row]]


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


async def _snapshot(url: str) -> Picture:
    conn = await asyncpg.connect(url, timeout=database.CONNECT_TIMEOUT_S)
    try:
        picture: dict[str, frozenset[Row]] = {}
        for kind, query in CATALOG.items():
            rows = await conn.fetch(query)
            picture[kind] = frozenset(tuple(_frozen(v) for v in r) for r in rows)
        return picture
    finally:
        await conn.close()


def picture_differences(
    left: Picture, right: Picture, left_name: str, right_name: str
) -> list[str]:
    """Each catalog row one picture has and the other lacks."""
    found: list[str] = []
    for kind in CATALOG:
        found += [
            f"{kind} {r!r} only in {left_name}"
            for r in sorted(left[kind] - right[kind], key=repr)
        ]
        found += [
            f"{kind} {r!r} only in {right_name}"
            for r in sorted(right[kind] - left[kind], key=repr)
        ]
    return found


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(
        url,
        timeout=database.CONNECT_TIMEOUT_S,
        server_settings={"statement_timeout": str(STATEMENT_TIMEOUT_MS)},
    )
    try:
        # The simple query protocol: a whole script, dollar quotes and all
        # (asyncpg fails on a script of no statement, so that is skipped).
        if atlas_corpus.split_statements(sql):
            await conn.execute(sql)
    finally:
        await conn.close()


class Server:
    """Fresh databases on one server, all named with this run's prefix, so
    that `sweep` finds every one, scratch databases of a killed command too."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"parity_{secrets.token_hex(3)}"

    def create(self, role: str) -> tuple[str, str]:
        """A new empty database: its URL and its name."""
        url, _ = asyncio.run(
            database.create_database(self.admin_url, f"{self.prefix}_{role}")
        )
        return url, urlsplit(url).path.lstrip("/")

    def drop(self, name: str) -> None:
        asyncio.run(
            _execute(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )

    @contextmanager
    def fresh(self, role: str) -> Iterator[str]:
        """A new empty database for the block; dropped after it."""
        url, name = self.create(role)
        try:
            yield url
        finally:
            self.drop(name)

    def execute(self, url: str, sql: str) -> None:
        asyncio.run(_execute(url, sql))

    def snapshot(self, url: str) -> Picture:
        return asyncio.run(_snapshot(url))

    def sweep(self) -> int:
        """Drop every database of this run still there; how many were."""

        async def names() -> list[str]:
            conn = await asyncpg.connect(
                self.admin_url, timeout=database.CONNECT_TIMEOUT_S
            )
            try:
                rows = await conn.fetch(
                    "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
                    self.prefix + "_",
                )
            finally:
                await conn.close()
            return [str(r["datname"]) for r in rows]

        left = asyncio.run(names())
        for name in left:
            self.drop(name)
        return len(left)

    def version(self) -> str:
        async def ask() -> str:
            conn = await asyncpg.connect(
                self.admin_url, timeout=database.CONNECT_TIMEOUT_S
            )
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        return asyncio.run(ask())


def with_query(url: str, **params: str) -> str:
    """The URL with query parameters set (e.g. a dev URL scoped to a schema)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return parts._replace(query=urlencode(query)).geturl()
