"""What a Citus distribution of this schema requires, checked on a real
catalog and on the statements sqlc parsed (docs/scaling.md explains each rule).

Every check returns a list of violations, each naming the constraint, column
or statement at fault; an empty list means ready.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import asyncpg

from repositories import _database
from tests.scaling.sqlc_request import Statement

# The plan (migrations/20261130104436_citus_distribution.sql, and
# 20261207035358_history_and_checkpoints.sql for the history's tables):
# tenant tables (the package's list of them) hash-distributed by project id
# and co-located, projects by its id and every other by its project_id;
# users replicated as a reference table; the other auth tables and the
# application's settings (cursor_signing_key, read once by Store.open through
# the coordinator) kept on the coordinator.
DISTRIBUTION_COLUMNS: Final = {
    table: "id" if table == "projects" else "project_id"
    for table in _database.TENANT_TABLES
}
TENANT_TABLES: Final = frozenset(DISTRIBUTION_COLUMNS)
REFERENCE_TABLES: Final = frozenset({"users"})
COORDINATOR_TABLES: Final = frozenset(
    {"sessions", "accounts", "verifications", "cursor_signing_key"}
)

# Referential actions Citus refuses on a foreign key whose columns include the
# distribution column (pg_constraint codes: c cascade, n set null, d set default).
REFUSED_ON_UPDATE: Final = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
REFUSED_ON_DELETE: Final = {"n": "SET NULL", "d": "SET DEFAULT"}

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record]


async def unclassified_tables(conn: Connection) -> list[str]:
    """Every table must have a place in the plan: a new table needs a decision."""
    names = await conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
    )
    planned = TENANT_TABLES | REFERENCE_TABLES | COORDINATOR_TABLES
    return [
        f"table {r['relname']} is neither a tenant, a reference nor a coordinator table"
        for r in names
        if r["relname"] not in planned
    ]


async def distribution_column_problems(conn: Connection) -> list[str]:
    """Each distribution column exists and is NOT NULL, and all share one type
    (Citus co-locates tables whose distribution columns have the same type)."""
    rows = await conn.fetch(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, "
        "a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped "
        "AND (c.relname, a.attname) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        list(DISTRIBUTION_COLUMNS),
        list(DISTRIBUTION_COLUMNS.values()),
    )
    found = {r["relname"]: r for r in rows}
    problems = [
        f"{table}.{column} (distribution column) is missing"
        for table, column in DISTRIBUTION_COLUMNS.items()
        if table not in found
    ]
    problems += [
        f"{r['relname']}.{r['attname']} (distribution column) is nullable"
        for r in rows
        if not r["attnotnull"]
    ]
    types = {r["type"] for r in rows}
    if len(types) > 1:
        problems.append(f"distribution columns differ in type: {sorted(types)}")
    return problems


async def unique_keys_without_distribution_column(conn: Connection) -> list[str]:
    """Primary keys, unique constraints, unique indexes and exclusion
    constraints of tenant tables must include the distribution column: a shard
    can only check uniqueness among its own rows."""
    rows = await conn.fetch(
        """
        SELECT t.relname AS table_name,
               coalesce(con.conname, i.relname) AS name,
               coalesce(con.contype::text, 'i') AS kind,
               array(
                   SELECT a.attname
                   FROM unnest(x.indkey[0:x.indnkeyatts - 1]) AS k(attnum)
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
               ) AS columns
        FROM pg_index x
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_constraint con
            ON con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')
        WHERE n.nspname = 'public' AND t.relname = ANY($1::text[])
          AND (x.indisunique OR con.contype = 'x')
        ORDER BY 1, 2
        """,
        sorted(TENANT_TABLES),
    )
    kinds = {
        "p": "primary key",
        "u": "unique constraint",
        "x": "exclusion constraint",
        "i": "unique index",
    }
    return [
        f"{kinds[r['kind']]} {r['name']} on {r['table_name']}{tuple(r['columns'])} "
        f"lacks the distribution column {DISTRIBUTION_COLUMNS[r['table_name']]}"
        for r in rows
        if DISTRIBUTION_COLUMNS[r["table_name"]] not in r["columns"]
    ]


async def foreign_key_problems(conn: Connection) -> list[str]:
    """Foreign keys touching a tenant table: between tenant tables they pair
    the two distribution columns at the same position (co-located rows are
    on one shard); out of a tenant table they may only point at a reference
    table; into a tenant table from elsewhere they are impossible; and none
    that includes a distribution column may rewrite it (ON UPDATE CASCADE,
    SET NULL, SET DEFAULT; ON DELETE SET NULL, SET DEFAULT)."""
    rows = await conn.fetch(
        """
        SELECT con.conname AS name, src.relname AS source, dst.relname AS target,
               array(
                   SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                   ORDER BY k.ord
               ) AS source_columns,
               array(
                   SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                   ORDER BY k.ord
               ) AS target_columns,
               con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN pg_namespace n ON n.oid = src.relnamespace
        WHERE con.contype = 'f' AND n.nspname = 'public'
          AND (src.relname = ANY($1::text[]) OR dst.relname = ANY($1::text[]))
        ORDER BY 1
        """,
        sorted(TENANT_TABLES),
    )
    problems: list[str] = []
    for r in rows:
        name, source, target = r["name"], r["source"], r["target"]
        source_columns: list[str] = list(r["source_columns"])
        target_columns: list[str] = list(r["target_columns"])
        if source not in TENANT_TABLES:
            problems.append(
                f"foreign key {name} from {source} into tenant table {target}: "
                "only distributed tables may reference a distributed table"
            )
            continue
        if target in TENANT_TABLES:
            pairs = list(zip(source_columns, target_columns, strict=True))
            if (
                DISTRIBUTION_COLUMNS[source],
                DISTRIBUTION_COLUMNS[target],
            ) not in pairs:
                problems.append(
                    f"foreign key {name} {source}{tuple(source_columns)} -> "
                    f"{target}{tuple(target_columns)} does not pair "
                    f"{source}.{DISTRIBUTION_COLUMNS[source]} with "
                    f"{target}.{DISTRIBUTION_COLUMNS[target]}"
                )
        elif target not in REFERENCE_TABLES:
            problems.append(
                f"foreign key {name} from tenant table {source} to {target}, "
                "which is not a reference table"
            )
        if DISTRIBUTION_COLUMNS[source] in source_columns:
            if r["on_update"] in REFUSED_ON_UPDATE:
                problems.append(
                    f"foreign key {name} has ON UPDATE {REFUSED_ON_UPDATE[r['on_update']]} "
                    f"on the distribution column {DISTRIBUTION_COLUMNS[source]}"
                )
            if r["on_delete"] in REFUSED_ON_DELETE:
                problems.append(
                    f"foreign key {name} has ON DELETE {REFUSED_ON_DELETE[r['on_delete']]} "
                    f"on the distribution column {DISTRIBUTION_COLUMNS[source]}"
                )
    return problems


async def sequence_uses(conn: Connection) -> list[str]:
    """Tenant rows take their ids from the application or gen_random_uuid(),
    never from a sequence (serial, identity, or a nextval default)."""
    rows = await conn.fetch(
        """
        SELECT t.relname AS table_name, a.attname AS column_name,
               CASE WHEN a.attidentity <> '' THEN 'an identity column'
                    ELSE 'a default calling nextval()' END AS reason
        FROM pg_attribute a
        JOIN pg_class t ON t.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND t.relname = ANY($1::text[])
          AND a.attnum > 0 AND NOT a.attisdropped
          AND (a.attidentity <> ''
               OR pg_get_expr(d.adbin, d.adrelid) ILIKE '%nextval(%'
               OR EXISTS (
                   SELECT FROM pg_depend dep
                   JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
                   WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
                     AND dep.refclassid = 'pg_class'::regclass))
        UNION
        SELECT t.relname, coalesce(a.attname, '?'), 'owning sequence ' || s.relname
        FROM pg_depend dep
        JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = dep.refobjid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid
        WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
          AND n.nspname = 'public' AND t.relname = ANY($1::text[])
        ORDER BY 1, 2
        """,
        sorted(TENANT_TABLES),
    )
    return [
        f"{r['table_name']}.{r['column_name']} uses a sequence ({r['reason']})"
        for r in rows
    ]


async def replica_identity_problems(conn: Connection) -> list[str]:
    """Every distributed and reference table identifies its rows to
    logical replication: Citus moves shards online by replicating the
    source shard's changes, and PostgreSQL refuses to publish an UPDATE
    or DELETE of a table without a replica identity (its primary key by
    default, a unique index chosen with REPLICA IDENTITY USING INDEX, or
    FULL)."""
    rows = await conn.fetch(
        """
        SELECT t.relname AS table_name, t.relreplident AS identity
        FROM pg_class t
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname = ANY($1::text[])
          AND CASE t.relreplident
                WHEN 'f' THEN false
                WHEN 'd' THEN NOT EXISTS (
                    SELECT FROM pg_index i WHERE i.indrelid = t.oid AND i.indisprimary)
                WHEN 'i' THEN NOT EXISTS (
                    SELECT FROM pg_index i
                    WHERE i.indrelid = t.oid AND i.indisreplident AND i.indisvalid)
                ELSE true
              END
        ORDER BY 1
        """,
        sorted(TENANT_TABLES | REFERENCE_TABLES),
    )
    return [
        f"table {r['table_name']} has no replica identity"
        f" (relreplident {r['identity']!r} without its index): shard moves"
        " cannot replicate its updates and deletes"
        for r in rows
    ]


async def catalog_problems(conn: Connection) -> list[str]:
    """Every catalog rule at once."""
    return [
        *await unclassified_tables(conn),
        *await distribution_column_problems(conn),
        *await unique_keys_without_distribution_column(conn),
        *await foreign_key_problems(conn),
        *await sequence_uses(conn),
        *await replica_identity_problems(conn),
    ]


# ---------------------------------------------------------------------------
# Statements: does each tenant query stay on one shard group?
# ---------------------------------------------------------------------------

CONDITION_KEYS: Final = ("Index Cond", "Recheck Cond", "Filter", "TID Cond")


@dataclass(frozen=True)
class Scan:
    """A read of a table in PostgreSQL's generic plan of a statement."""

    table: str
    alias: str
    conditions: str


@dataclass(frozen=True)
class Route:
    """How one statement reaches tenant rows."""

    name: str
    filename: str
    tenant_tables: frozenset[str]
    # "$1 project_files.project_id": parameters sqlc resolved to a
    # distribution column.
    routing_parameters: tuple[str, ...]
    # Tenant table reads with no "<distribution column> = $n" condition.
    unrestricted_scans: tuple[str, ...]

    @property
    def single_shard_group(self) -> bool:
        return bool(self.routing_parameters) and not self.unrestricted_scans

    def problem(self) -> str:
        if not self.routing_parameters:
            return "no parameter is compared to or stored in a distribution column"
        return "reads without a distribution-column condition: " + ", ".join(
            self.unrestricted_scans
        )


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


def plan_relations(plan: dict[str, Any]) -> tuple[set[str], list[Scan]]:
    """Tables a plan touches (reads and writes), and its reads."""
    touched: set[str] = set()
    scans: list[Scan] = []
    for node in plan_nodes(plan):
        table = node.get("Relation Name")
        if table is None:
            continue
        touched.add(table)
        if node["Node Type"] != "ModifyTable":
            conditions = " AND ".join(str(node[k]) for k in CONDITION_KEYS if k in node)
            scans.append(Scan(table, str(node.get("Alias", table)), conditions))
    return touched, scans


def restricted(scan: Scan) -> bool:
    """The read carries "<alias>.<distribution column> = $n" (either side)."""
    column = rf'"?{re.escape(scan.alias)}"?\.{DISTRIBUTION_COLUMNS[scan.table]}'
    pattern = rf"(?<![\w.]){column} = \$\d+\b|\$\d+ = {column}\b"
    return re.search(pattern, scan.conditions) is not None


def route(statement: Statement, plan: dict[str, Any]) -> Route:
    """Combine what sqlc resolved (which column each parameter is compared to
    or stored in) with PostgreSQL's generic plan of the same text (which
    tables it touches, and the conditions on each read, including those the
    planner derives from equalities such as co-located joins)."""
    touched, scans = plan_relations(plan)
    touched |= {p.table for p in statement.parameters if p.table is not None}
    touched |= statement.result_tables
    if statement.insert_into_table is not None:
        touched.add(statement.insert_into_table)
    routing = tuple(
        f"${p.number} {p.table}.{p.column}"
        for p in statement.parameters
        if p.table is not None and DISTRIBUTION_COLUMNS.get(p.table) == p.column
    )
    unrestricted = tuple(
        f"{s.table} AS {s.alias}"
        for s in scans
        if s.table in TENANT_TABLES and not restricted(s)
    )
    return Route(
        name=statement.name,
        filename=statement.filename,
        tenant_tables=frozenset(touched & TENANT_TABLES),
        routing_parameters=routing,
        unrestricted_scans=unrestricted,
    )


async def generic_plan(conn: Connection, statement: Statement) -> dict[str, Any]:
    """PostgreSQL's generic plan of the statement, parameters left unbound
    (nothing is executed: EXPLAIN without ANALYZE)."""
    name = f"readiness_{statement.name.lower()}"
    await conn.execute(f"PREPARE {name} AS {statement.text}")
    try:
        arguments = ", ".join("NULL" for _ in statement.parameters)
        execute = f"EXECUTE {name}({arguments})" if arguments else f"EXECUTE {name}"
        raw = await conn.fetchval(f"EXPLAIN (VERBOSE, FORMAT JSON) {execute}")
    finally:
        await conn.execute(f"DEALLOCATE {name}")
    document = json.loads(raw) if isinstance(raw, str) else raw
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


async def routes(conn: Connection, statements: tuple[Statement, ...]) -> list[Route]:
    """The route of every statement that touches a tenant table."""
    # A generic plan keeps $n as parameters instead of folding in the NULLs.
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    found = []
    for statement in statements:
        found.append(route(statement, await generic_plan(conn, statement)))
    return [r for r in found if r.tenant_tables]


def listed_exceptions(doc: str, heading: str) -> dict[str, str]:
    """The statements named in the first column of the Markdown table under
    `heading`, with the text of their second column (the reason)."""
    lines = doc.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        raise AssertionError(f"docs/scaling.md has no heading {heading!r}") from None
    listed: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        match = re.match(r"\|\s*`(\w+)`\s*\|([^|]*)\|", line)
        if match:
            listed[match.group(1)] = match.group(2).strip()
    return listed
