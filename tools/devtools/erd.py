"""docs/schema.md: a Mermaid ER diagram of schema.sql, read back from PostgreSQL.

The schema is loaded into a fresh scratch database and described from the
catalog, so the diagram shows what the server made of the SQL (keys,
nullability, foreign keys) rather than a second parse of it.

    python -m devtools.erd           write docs/schema.md
    python -m devtools.erd --check   exit 1 when docs/schema.md is stale
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

import asyncpg

from devtools import PROJECT_ROOT, database, testdb

OUTPUT = PROJECT_ROOT / "docs" / "schema.md"

_COLUMNS = """
SELECT c.relname AS table_name, a.attname AS column_name, t.typname AS type_name,
       a.attnotnull AS not_null,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'
               AND a.attnum = ANY (k.conkey)) AS primary_key,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f'
               AND a.attnum = ANY (k.conkey)) AS foreign_key,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'u'
               AND k.conkey = ARRAY[a.attnum]) AS unique_key,
       coalesce(col_description(c.oid, a.attnum), '') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relkind = 'r'
ORDER BY c.relname, a.attnum
"""

_FOREIGN_KEYS = """
SELECT child.relname AS child, parent.relname AS parent, k.conname AS name,
       k.confdeltype = 'c' AS cascades
FROM pg_constraint k
JOIN pg_class child ON child.oid = k.conrelid
JOIN pg_class parent ON parent.oid = k.confrelid
WHERE k.contype = 'f'
ORDER BY parent.relname, child.relname, k.conname
"""

_SECURED = """
SELECT relname FROM pg_class
WHERE relrowsecurity AND relforcerowsecurity AND relkind = 'r'
ORDER BY relname
"""


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    type: str
    not_null: bool
    keys: tuple[str, ...]


async def _describe(url: str) -> tuple[list[Column], list[asyncpg.Record], list[str]]:
    conn = await asyncpg.connect(url)
    try:
        columns = [
            Column(
                row["table_name"],
                row["column_name"],
                row["type_name"],
                row["not_null"],
                tuple(
                    key
                    for key, flag in (
                        ("PK", row["primary_key"]),
                        ("FK", row["foreign_key"]),
                        ("UK", row["unique_key"]),
                    )
                    if flag
                ),
            )
            for row in await conn.fetch(_COLUMNS)
        ]
        foreign_keys = list(await conn.fetch(_FOREIGN_KEYS))
        secured = [row["relname"] for row in await conn.fetch(_SECURED)]
    finally:
        await conn.close()
    return columns, foreign_keys, secured


def render(
    columns: list[Column], foreign_keys: list[asyncpg.Record], secured: list[str]
) -> str:
    lines = [
        "# Schema",
        "",
        "<!-- Generated from schema.sql by `nox -s generate` (tools/devtools/erd.py). "
        "DO NOT EDIT. -->",
        "",
        "Tables, keys and relations as PostgreSQL reads `schema.sql`. "
        "Every relation is a foreign key; `cascade` marks `ON DELETE CASCADE`.",
        "",
        "```mermaid",
        "erDiagram",
    ]
    for table in sorted({c.table for c in columns}):
        lines.append(f"    {table} {{")
        for column in (c for c in columns if c.table == table):
            keys = f" {', '.join(column.keys)}" if column.keys else ""
            note = "" if column.not_null else ' "nullable"'
            lines.append(f"        {column.type} {column.name}{keys}{note}")
        lines.append("    }")
    for fk in foreign_keys:
        label = f"{fk['name']}{' (cascade)' if fk['cascades'] else ''}"
        lines.append(f'    {fk["parent"]} ||--o{{ {fk["child"]} : "{label}"')
    lines += ["```", ""]
    if secured:
        lines.append(
            "Row-level security is enabled and forced on "
            + ", ".join(f"`{name}`" for name in secured)
            + " (policies for the role `app_user`)."
        )
        lines.append("")
    return "\n".join(lines)


async def build(admin_url: str) -> str:
    url, drop = await testdb.create_database(admin_url, "erd")
    try:
        testdb.load_sql(url, PROJECT_ROOT / "schema.sql")
        return render(*await _describe(url))
    finally:
        await drop()


def main(argv: list[str]) -> int:
    text = asyncio.run(build(database.resolve_url()))
    if argv == ["--check"]:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print("docs/schema.md is stale: run `nox -s generate`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    if OUTPUT.exists() and OUTPUT.read_text() == text:
        print("docs/schema.md is up to date")
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
