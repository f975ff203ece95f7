"""The schema and the statements are ready to be distributed with Citus by
project id (docs/scaling.md): proven from the catalog of a database at the
latest schema and from the statements as sqlc parsed them, and each check
shown to fail on the fault it guards against."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from devtools import PROJECT_ROOT
from repositories.unit_of_work import begin_as
from tests.scaling import readiness
from tests.scaling.sqlc_request import parsed_statements

DOC = PROJECT_ROOT / "docs" / "scaling.md"
EXCEPTIONS_HEADING = "### Tenant statements without a distribution-column filter"
SCHEMA = PROJECT_ROOT / "schema.sql"
QUERY_FILES = sorted((PROJECT_ROOT / "queries").glob("*.sql"))


@pytest.fixture
async def conn(latest_db: str) -> AsyncIterator[readiness.Connection]:
    connection = await asyncpg.connect(latest_db)
    try:
        yield connection
    finally:
        await connection.close()


async def test_catalog_meets_every_distribution_rule(
    conn: readiness.Connection,
) -> None:
    assert await readiness.catalog_problems(conn) == []


async def test_a_unique_constraint_without_the_distribution_column_is_reported(
    conn: readiness.Connection,
) -> None:
    await conn.execute(
        "ALTER TABLE project_files ADD CONSTRAINT project_files_sha256_key UNIQUE (sha256)"
    )
    assert await readiness.catalog_problems(conn) == [
        "unique constraint project_files_sha256_key on project_files('sha256',) "
        "lacks the distribution column project_id"
    ]


# Each fault breaks one rule; the check must report it, naming the culprit,
# and nothing else.
CATALOG_FAULTS = [
    pytest.param(
        "CREATE UNIQUE INDEX projects_owner_id_name_key ON projects (owner_id, name)",
        "unique index projects_owner_id_name_key",
        id="unique-index",
    ),
    pytest.param(
        "ALTER TABLE projects ADD CONSTRAINT projects_one_per_owner "
        "EXCLUDE USING btree (owner_id WITH =)",
        "exclusion constraint projects_one_per_owner",
        id="exclusion-constraint",
    ),
    pytest.param(
        "ALTER TABLE agent_states DROP CONSTRAINT agent_states_pkey, "
        "ADD CONSTRAINT agent_states_pkey PRIMARY KEY (owner_id, version)",
        "primary key agent_states_pkey",
        id="primary-key",
    ),
    pytest.param(
        "ALTER TABLE project_files ADD CONSTRAINT project_files_crossed_fkey "
        "FOREIGN KEY (project_id, owner_id) REFERENCES projects (owner_id, id)",
        "foreign key project_files_crossed_fkey",
        id="foreign-key-not-on-distribution-column",
    ),
    pytest.param(
        # The child keys of the schema before it was made ready for Citus.
        "ALTER TABLE agent_states DROP CONSTRAINT agent_states_project_fkey, "
        "ADD CONSTRAINT agent_states_project_fkey FOREIGN KEY (project_id, owner_id) "
        "REFERENCES projects (id, owner_id) ON DELETE CASCADE ON UPDATE CASCADE",
        "foreign key agent_states_project_fkey has ON UPDATE CASCADE",
        id="on-update-cascade",
    ),
    pytest.param(
        "ALTER TABLE project_files DROP CONSTRAINT project_files_project_fkey, "
        "ADD CONSTRAINT project_files_project_fkey FOREIGN KEY (project_id, owner_id) "
        "REFERENCES projects (id, owner_id) ON DELETE SET NULL",
        "foreign key project_files_project_fkey has ON DELETE SET NULL",
        id="on-delete-set-null",
    ),
    pytest.param(
        "ALTER TABLE projects ADD COLUMN last_session uuid "
        "CONSTRAINT projects_last_session_fkey REFERENCES sessions (id)",
        "foreign key projects_last_session_fkey from tenant table projects to sessions",
        id="foreign-key-to-a-coordinator-table",
    ),
    pytest.param(
        "ALTER TABLE sessions ADD COLUMN project_id uuid "
        "CONSTRAINT sessions_project_id_fkey REFERENCES projects (id)",
        "foreign key sessions_project_id_fkey from sessions into tenant table projects",
        id="foreign-key-into-a-tenant-table",
    ),
    pytest.param(
        "ALTER TABLE agent_states ADD COLUMN revision bigserial",
        "agent_states.revision uses a sequence",
        id="serial",
    ),
    pytest.param(
        "ALTER TABLE project_files ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY",
        "project_files.seq uses a sequence",
        id="identity",
    ),
    pytest.param(
        "CREATE SEQUENCE project_numbers; "
        "ALTER TABLE projects ADD COLUMN number bigint "
        "DEFAULT nextval('project_numbers') NOT NULL",
        "projects.number uses a sequence",
        id="nextval-default",
    ),
    pytest.param(
        "CREATE TABLE audit_events (id uuid PRIMARY KEY)",
        "table audit_events is neither",
        id="unclassified-table",
    ),
    pytest.param(
        "ALTER TABLE agent_states REPLICA IDENTITY NOTHING",
        "table agent_states has no replica identity",
        id="replica-identity-nothing",
    ),
    pytest.param(
        "CREATE UNIQUE INDEX users_id_copy ON users (id); "
        "ALTER TABLE users REPLICA IDENTITY USING INDEX users_id_copy; "
        "DROP INDEX users_id_copy",
        "table users has no replica identity",
        id="replica-identity-index-dropped",
    ),
]


@pytest.mark.parametrize(("fault", "culprit"), CATALOG_FAULTS)
async def test_catalog_check_reports_each_fault(
    conn: readiness.Connection, fault: str, culprit: str
) -> None:
    await conn.execute(fault)
    problems = await readiness.catalog_problems(conn)
    assert problems, f"not reported: {fault}"
    assert all(culprit in problem for problem in problems), problems


async def test_every_tenant_statement_stays_on_one_shard_group_or_is_listed(
    conn: readiness.Connection, tmp_path: Path
) -> None:
    statements = parsed_statements(SCHEMA, QUERY_FILES, tmp_path)
    routes = {r.name: r for r in await readiness.routes(conn, statements)}
    # The analysis sees what it must: every tenant table, routing parameters,
    # and a co-located read restricted through a join (MoveFile's `taken`).
    assert set().union(*(r.tenant_tables for r in routes.values())) == (
        readiness.TENANT_TABLES
    )
    assert routes["GetFile"].routing_parameters == ("$1 project_files.project_id",)
    assert routes["MoveFile"].single_shard_group
    assert "GetUser" not in routes
    leaving = {
        name: route.problem()
        for name, route in routes.items()
        if not route.single_shard_group
    }
    listed = readiness.listed_exceptions(DOC.read_text(), EXCEPTIONS_HEADING)
    assert all(listed.values()), f"give each listed statement its reason: {listed}"
    assert set(leaving) == set(listed), (
        f"statements leaving one shard group: {leaving}; "
        f"listed in docs/scaling.md: {sorted(listed)}"
    )


async def test_statement_check_reports_statements_that_leave_one_shard_group(
    conn: readiness.Connection, tmp_path: Path
) -> None:
    faulty = tmp_path / "faulty.sql"
    faulty.write_text(
        "-- name: CountOwnerFiles :one\n"
        "SELECT count(*) FROM project_files WHERE owner_id = @owner_id;\n\n"
        "-- name: FilesSharingContent :many\n"
        "SELECT other.path FROM project_files f\n"
        "JOIN project_files other ON other.sha256 = f.sha256\n"
        "WHERE f.project_id = @project_id;\n\n"
        "-- name: CountAgentStates :one\n"
        "SELECT count(*) FROM agent_states;\n\n"
        "-- name: MisnamedFilter :many\n"
        "SELECT path FROM project_files WHERE owner_id = @project_id;\n\n"
        "-- name: GetFileOfProject :one\n"
        "SELECT path FROM project_files WHERE project_id = @project_id AND path = @path;\n"
    )
    statements = parsed_statements(SCHEMA, [faulty], tmp_path)
    routes = await readiness.routes(conn, statements)
    assert {r.name: r.problem() for r in routes if not r.single_shard_group} == {
        "CountOwnerFiles": "no parameter is compared to or stored in a distribution column",
        "FilesSharingContent": "reads without a distribution-column condition: "
        "project_files AS other",
        "CountAgentStates": "no parameter is compared to or stored in a distribution column",
        # Named like the distribution column, compared to another one.
        "MisnamedFilter": "no parameter is compared to or stored in a distribution column",
    }
    assert [r.name for r in routes if r.single_shard_group] == ["GetFileOfProject"]


def test_the_unit_of_work_names_the_actor_with_set_local() -> None:
    """Citus forwards SET LOCAL statements to the workers, where the shards'
    policies read app.user_id; it does not forward set_config() calls."""
    statements = [s.strip() for s in begin_as(uuid.uuid4()).split(";")]
    assert statements[0].split()[0] == "BEGIN"
    assert all(s.startswith("SET LOCAL ") for s in statements[1:]), statements
    assert any(s.startswith("SET LOCAL app.user_id = ") for s in statements)
