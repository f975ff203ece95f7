"""docs/schema.md: a Mermaid ER diagram of the schema, read back from PostgreSQL.

A scratch database is brought to the latest migration (the one helper every
database is built with, ``migrate.create_migrated_database``) and described
from the catalog, so the diagram shows what the server holds (keys,
nullability, unique indexes, foreign-key actions, row-level security) rather
than a second parse of the SQL.

    python -m devtools.erd           write docs/schema.md
    python -m devtools.erd --check   exit 1 when docs/schema.md is stale
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

import asyncpg

from devtools import PROJECT_ROOT, database, migrate

OUTPUT = PROJECT_ROOT / "docs" / "schema.md"

_COLUMNS = """
SELECT c.relname AS table_name, a.attname AS column_name, t.typname AS type_name,
       a.attnotnull AS not_null,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'
               AND a.attnum = ANY (k.conkey)) AS primary_key,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f'
               AND a.attnum = ANY (k.conkey)) AS foreign_key
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relkind = 'r'
ORDER BY c.relname, a.attnum
"""

# Every unique index but the primary keys: plain and composite UNIQUE
# constraints and expression indexes alike. Each key column is printed as
# PostgreSQL prints it (a column name or an expression such as lower(email));
# `columns` are the table columns the key reads, from the index's dependencies.
_UNIQUE = """
SELECT t.relname AS table_name, i.relname AS name,
       array(SELECT pg_get_indexdef(x.indexrelid, k, true)
             FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) AS keys,
       array(SELECT a.attname FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid
               AND d.refobjid = x.indrelid AND d.refobjsubid > 0
             UNION
             SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey)) AS columns
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
WHERE x.indisunique AND NOT x.indisprimary
ORDER BY t.relname, i.relname
"""

_FOREIGN_KEYS = """
SELECT child.relname AS child, parent.relname AS parent, k.conname AS name,
       array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
             ORDER BY u.i) AS columns,
       array(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
             ORDER BY u.i) AS parent_columns,
       k.confdeltype::text AS on_delete, k.confupdtype::text AS on_update
FROM pg_constraint k
JOIN pg_class child ON child.oid = k.conrelid
JOIN pg_class parent ON parent.oid = k.confrelid
WHERE k.contype = 'f'
ORDER BY parent.relname, child.relname, k.conname
"""

_SECURITY = """
SELECT c.relname AS table_name, c.relrowsecurity AS enabled,
       c.relforcerowsecurity AS forced,
       array(SELECT p.policyname || ' (' || p.cmd || ' to '
                    || array_to_string(p.roles, ', ') || ')'
             FROM pg_policies p
             WHERE p.schemaname = 'public' AND p.tablename = c.relname
             ORDER BY p.policyname) AS policies
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
WHERE c.relkind = 'r'
ORDER BY c.relname
"""

# pg_constraint.confdeltype / confupdtype
ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    type: str
    not_null: bool
    primary_key: bool
    foreign_key: bool


@dataclass(frozen=True)
class UniqueKey:
    table: str
    name: str
    keys: tuple[str, ...]  # as PostgreSQL prints them: names or expressions
    columns: frozenset[str]  # the table columns the keys read

    @property
    def text(self) -> str:
        return f"unique ({', '.join(self.keys)})"


@dataclass(frozen=True)
class ForeignKey:
    child: str
    parent: str
    name: str
    columns: tuple[str, ...]
    parent_columns: tuple[str, ...]
    on_delete: str
    on_update: str

    @property
    def actions(self) -> str:
        return f"on delete {self.on_delete}, on update {self.on_update}"


@dataclass(frozen=True)
class Security:
    table: str
    enabled: bool
    forced: bool
    policies: tuple[str, ...]

    @property
    def text(self) -> str:
        if not self.enabled:
            return "off"
        state = "enabled and forced" if self.forced else "enabled"
        return f"{state}; policies: {', '.join(self.policies) or 'none'}"


@dataclass(frozen=True)
class Schema:
    columns: list[Column]
    unique: list[UniqueKey]
    foreign_keys: list[ForeignKey]
    security: list[Security]

    @property
    def tables(self) -> list[str]:
        return sorted({c.table for c in self.columns})


async def describe(url: str) -> Schema:
    conn = await asyncpg.connect(url)
    try:
        columns = [
            Column(
                row["table_name"],
                row["column_name"],
                row["type_name"],
                row["not_null"],
                row["primary_key"],
                row["foreign_key"],
            )
            for row in await conn.fetch(_COLUMNS)
        ]
        unique = [
            UniqueKey(
                row["table_name"],
                row["name"],
                tuple(row["keys"]),
                frozenset(row["columns"]),
            )
            for row in await conn.fetch(_UNIQUE)
        ]
        foreign_keys = [
            ForeignKey(
                row["child"],
                row["parent"],
                row["name"],
                tuple(row["columns"]),
                tuple(row["parent_columns"]),
                ACTIONS[row["on_delete"]],
                ACTIONS[row["on_update"]],
            )
            for row in await conn.fetch(_FOREIGN_KEYS)
        ]
        security = [
            Security(
                row["table_name"], row["enabled"], row["forced"], tuple(row["policies"])
            )
            for row in await conn.fetch(_SECURITY)
        ]
    finally:
        await conn.close()
    return Schema(columns, unique, foreign_keys, security)


def _attribute(column: Column, schema: Schema) -> str:
    """One line of an entity: type, name, PK/FK/UK, and a note that says
    which unique key a UK column belongs to and whether it is nullable."""
    keys = [
        key
        for key, flag in (("PK", column.primary_key), ("FK", column.foreign_key))
        if flag
    ]
    notes = [
        u.text
        for u in schema.unique
        if u.table == column.table and column.name in u.columns
    ]
    if notes:
        keys.append("UK")
    if not column.not_null:
        notes.append("nullable")
    marks = f" {', '.join(keys)}" if keys else ""
    note = f' "{"; ".join(notes)}"' if notes else ""
    return f"        {column.type} {column.name}{marks}{note}"


def _columns(names: tuple[str, ...]) -> str:
    return f"({', '.join(names)})"


def _keys_table(schema: Schema) -> list[str]:
    lines = [
        "| table | primary key | unique keys and indexes | foreign keys | "
        "row-level security |",
        "|---|---|---|---|---|",
    ]
    for table in schema.tables:
        primary = tuple(
            c.name for c in schema.columns if c.table == table and c.primary_key
        )
        unique = "<br>".join(
            f"`{u.name}` {u.text}" for u in schema.unique if u.table == table
        )
        foreign = "<br>".join(
            f"`{fk.name}` {_columns(fk.columns)} → {fk.parent} "
            f"{_columns(fk.parent_columns)}, {fk.actions}"
            for fk in schema.foreign_keys
            if fk.child == table
        )
        security = next(s.text for s in schema.security if s.table == table)
        lines.append(
            f"| `{table}` | {_columns(primary)} | {unique} | {foreign} | {security} |"
        )
    return lines


def render(schema: Schema) -> str:
    lines = [
        "# Schema",
        "",
        "<!-- Generated from migrations/ by `nox -s generate` (tools/devtools/erd.py). "
        "DO NOT EDIT. -->",
        "",
        "Tables, keys and relations of the database `migrations/` builds, read "
        "back from PostgreSQL's catalog. `UK` marks a column a unique key or "
        "unique index reads; its note names the key, expressions included "
        "(`lower(email)`). Every relation is a foreign key, labelled with its "
        "ON DELETE and ON UPDATE actions.",
        "",
        "```mermaid",
        "erDiagram",
    ]
    for table in schema.tables:
        lines.append(f"    {table} {{")
        lines += [_attribute(c, schema) for c in schema.columns if c.table == table]
        lines.append("    }")
    for fk in schema.foreign_keys:
        label = f"{fk.name}: {fk.actions}"
        lines.append(f'    {fk.parent} ||--o{{ {fk.child} : "{label}"')
    lines += ["```", "", "## Keys and row-level security", "", *_keys_table(schema)]
    secured = [s.table for s in schema.security if s.enabled]
    if secured:
        lines += [
            "",
            "Row-level security is on for "
            + ", ".join(f"`{name}`" for name in secured)
            + " (policies in the table above); no other table has it.",
        ]
    lines.append("")
    return "\n".join(lines)


async def build(admin_url: str) -> str:
    url, drop = await migrate.create_migrated_database(admin_url, "erd")
    try:
        return render(await describe(url))
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
