"""What `Store.open` checks of its login role, once, when the pool starts.

Row-level security only binds a role that is not a superuser, does not have
BYPASSRLS, does not own the tables (FORCE aside) and holds no privilege of
its own on them: the unit of work's SET LOCAL ROLE app_user is then the only
way to reach tenant rows, and code that RESETs the role on a lent connection
reaches nothing.
"""

from __future__ import annotations

import asyncpg
from asyncpg.pool import PoolConnectionProxy

TENANT_TABLES = ("projects", "project_files", "agent_states")

# One round trip. has_table_privilege counts what the role holds itself and
# what it inherits; a NOINHERIT member of app_user holds nothing.
CHECK = """
SELECT r.rolname,
       r.rolsuper,
       r.rolbypassrls,
       ARRAY(SELECT c.relname::text FROM pg_class c
             WHERE c.relowner = r.oid
               AND c.oid IN (SELECT to_regclass(t) FROM unnest($1::text[]) t)
             ORDER BY 1) AS owned,
       ARRAY(SELECT t FROM unnest($1::text[]) t
             WHERE to_regclass(t) IS NOT NULL
               AND has_table_privilege(r.oid, t,
                   'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
             ORDER BY 1) AS privileged
FROM pg_roles r
WHERE r.rolname = current_user
"""


async def problems(
    conn: PoolConnectionProxy[asyncpg.Record],
) -> tuple[str, list[str]]:
    """The login role's name and what makes it unfit to serve tenants."""
    row = await conn.fetchrow(CHECK, list(TENANT_TABLES))
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
    return str(row["rolname"]), found
