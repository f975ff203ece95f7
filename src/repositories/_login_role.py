"""What `Store.open` checks of its login roles, once, when each pool starts:
their privileges, and the settings stored on them.

Row-level security only binds a role that is not a superuser, does not have
BYPASSRLS, does not own the tables (FORCE aside) and holds no privilege of
its own on them: the unit of work's SET LOCAL ROLE app_user is then the only
way to reach tenant rows. A login is also judged by every role it could
switch to (SET ROLE needs only membership), so a tenant login that can
become the auth layer's role, or anything stronger than app_user, is
refused; and by its right to create temporary objects, which could shadow
the schema's tables for the next user of a pooled connection.
"""

from __future__ import annotations

from typing import Literal

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from repositories._database import (
    AUTH_ROLE,
    TENANT_ROLE,
    TENANT_TABLES,
    UNIT_OF_WORK_SETTINGS,
)

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
Purpose = Literal["tenant", "auth"]

# One round trip. has_table_privilege counts what a role holds itself and
# what it inherits; a NOINHERIT member of app_user holds nothing.
CHECK = f"""
WITH login AS (SELECT * FROM pg_roles WHERE rolname = current_user),
reachable AS (
    SELECT r.* FROM pg_roles r, login
    WHERE r.oid <> login.oid AND pg_has_role(login.oid, r.oid, 'MEMBER')
),
schema_tables AS (
    SELECT c.oid, c.relname::text AS name FROM pg_class c
    WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
)
SELECT login.rolname,
       login.rolsuper,
       login.rolbypassrls,
       ARRAY(SELECT c.relname::text FROM pg_class c
             WHERE c.relowner = login.oid
               AND c.oid IN (SELECT to_regclass(t) FROM unnest($1::text[]) t)
             ORDER BY 1) AS owned,
       ARRAY(SELECT t FROM unnest($1::text[]) t
             WHERE to_regclass(t) IS NOT NULL
               AND has_table_privilege(login.oid, t, '{TABLE_PRIVILEGES}')
             ORDER BY 1) AS privileged,
       has_database_privilege(login.oid, current_database(), 'TEMPORARY')
           AS temporary,
       ARRAY(SELECT rolname::text FROM reachable ORDER BY 1) AS reachable,
       ARRAY(SELECT rolname::text FROM reachable
             WHERE rolsuper OR rolbypassrls ORDER BY 1) AS reachable_unbound,
       -- Reachable roles that can do more than app_user on a table of the
       -- schema: more privileges, or ownership.
       ARRAY(SELECT DISTINCT r.rolname::text
             FROM reachable r, schema_tables t,
                  unnest(string_to_array('{TABLE_PRIVILEGES}', ', ')) p
             WHERE r.rolname <> $2::text
               AND (pg_has_role(r.oid, (SELECT relowner FROM pg_class
                                        WHERE oid = t.oid), 'USAGE')
                    OR (has_table_privilege(r.oid, t.oid, p)
                        AND NOT (to_regrole($2::text) IS NOT NULL
                                 AND has_table_privilege($2::text, t.oid, p))))
             ORDER BY 1) AS reachable_stronger
FROM login
"""


async def problems(
    conn: PoolConnectionProxy[asyncpg.Record], purpose: Purpose = "tenant"
) -> tuple[str, list[str]]:
    """The login role's name and what makes it unfit for `purpose`: serving
    tenants (the Store's pool) or the auth layer (store.users)."""
    row = await conn.fetchrow(CHECK, list(TENANT_TABLES), TENANT_ROLE)
    assert row is not None  # current_user always has a pg_roles row
    found: list[str] = []
    if row["rolsuper"]:
        found.append("it is a superuser, which row-level security never binds")
    if row["rolbypassrls"]:
        found.append("it has BYPASSRLS")
    if row["owned"]:
        found.append(f"it owns the tenant tables {', '.join(row['owned'])}")
    if row["privileged"] and not row["rolsuper"]:
        found.append(
            "it holds privileges on the tenant tables "
            f"{', '.join(row['privileged'])} of its own or through an inherited "
            "role (the login role must be NOINHERIT and granted nothing directly)"
        )
    if row["temporary"] and not row["rolsuper"]:
        found.append(
            "it can create temporary tables, which would shadow the schema's "
            "for the next user of a pooled connection (the migrations revoke "
            "TEMPORARY on the database: apply them)"
        )
    if row["reachable_unbound"]:
        found.append(
            "it can switch to "
            f"{', '.join(row['reachable_unbound'])}, which row-level security "
            "does not bind (superuser or BYPASSRLS)"
        )
    if purpose == "tenant" and row["reachable_stronger"]:
        found.append(
            f"it can switch to {', '.join(row['reachable_stronger'])}, which "
            f"can do more than {TENANT_ROLE} (the tenant login must be a member "
            f"of {TENANT_ROLE} only)"
        )
    if purpose == "auth" and TENANT_ROLE in row["reachable"]:
        found.append(
            f"it can switch to {TENANT_ROLE} and act as any tenant (the auth "
            f"layer's login must be a member of {AUTH_ROLE} only)"
        )
    return str(row["rolname"]), found


# Where a setting in force on a connection was stored (pg_settings.source),
# as the statement that stores it there; the settings looked for:
# UNIT_OF_WORK_SETTINGS.
STORED_SOURCES = {
    "user": "ALTER ROLE … SET",
    "database": "ALTER DATABASE … SET",
    "database user": "ALTER ROLE … IN DATABASE … SET",
}
STORED_SETTINGS = """
SELECT current_user::text AS role,
       ARRAY(SELECT ARRAY[name, setting, coalesce(unit, ''), source]
             FROM pg_settings
             WHERE source = ANY($1::text[]) AND name = ANY($2::text[])
             ORDER BY name) AS stored
"""


async def stored_settings(
    conn: PoolConnectionProxy[asyncpg.Record],
) -> tuple[str, list[str]]:
    """The login role's name and the settings in force on `conn` that were
    stored on that role or its database and would change a unit of work,
    each as `name = value (where it was stored)`."""
    row = await conn.fetchrow(
        STORED_SETTINGS, list(STORED_SOURCES), list(UNIT_OF_WORK_SETTINGS)
    )
    assert row is not None  # one row, always
    return str(row["role"]), [
        f"{name} = {setting}{unit} ({STORED_SOURCES[source]})"
        for name, setting, unit, source in row["stored"]
        if setting != UNIT_OF_WORK_SETTINGS[name]
    ]
