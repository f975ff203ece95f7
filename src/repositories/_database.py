"""What the package takes of the database as given, each named once: the
roles and tables the migrations create, and the settings every session of
a Store runs with. The modules that use a fact import it from here."""

from __future__ import annotations

# The roles of schema.sql. A unit of work switches to TENANT_ROLE (SET LOCAL
# ROLE), which row-level security binds; the Store's pool logs in as
# TENANT_LOGIN, a NOINHERIT member of it. store.users runs as AUTH_LOGIN, a
# member of AUTH_ROLE.
TENANT_ROLE = "app_user"
TENANT_LOGIN = "app_login"
AUTH_ROLE = "app_auth"
AUTH_LOGIN = "app_auth_login"

# The tables holding tenants' rows, which row-level security guards.
TENANT_TABLES = (
    "projects",
    "project_files",
    "agent_states",
    "file_contents",
    "file_versions",
    "agent_state_versions",
    "checkpoints",
)

# Temporary objects are searched last (and the application's roles cannot
# create any: migrations revoke TEMPORARY), so nothing a session created can
# stand in for a table of the schema.
SEARCH_PATH = "public, pg_temp"
# The isolation the repositories were written for.
ISOLATION = "read committed"

# Settings that would change every unit of work, each with the one value the
# repositories were written for: the server's time limits (the Store's
# command_timeout bounds each statement, and asyncpg then has the server
# cancel it; limits stored on the login would cancel or end units of work
# behind its back, all of them if planted short) and row-level security
# (off, a policy's refusal would become an error).
_TIME_LIMITS_AND_RLS = {
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "row_security": "on",
}

# Sent at every connection's start, where they take precedence over defaults
# stored with ALTER ROLE/DATABASE … SET: a setting planted there cannot make
# the application's sessions read-only, change what a name resolves to, or
# change the isolation the repositories were written for.
PINNED_SETTINGS = {
    "search_path": SEARCH_PATH,
    "default_transaction_read_only": "off",
    "default_transaction_isolation": ISOLATION,
    "default_transaction_deferrable": "off",
    **_TIME_LIMITS_AND_RLS,
}

# Settings that would change every unit of work when stored on the login or
# the database (ALTER ROLE/DATABASE … SET), with the one value each may
# have: those above, which are in force only where the pin cannot go
# (behind PgBouncer); time limits the Store cannot pin on every supported
# server, which end a session (an idle pooled connection ended under the
# pool fails the next unit of work on it) or a transaction
# (transaction_timeout is PostgreSQL 17's; a setting the server lacks is
# simply not found); and triggers and foreign keys turned off, which only a
# superuser could pin.
UNIT_OF_WORK_SETTINGS = {
    **_TIME_LIMITS_AND_RLS,
    "idle_session_timeout": "0",
    "transaction_timeout": "0",
    "session_replication_role": "origin",
}
