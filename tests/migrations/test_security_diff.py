"""`migrate diff` writes what Atlas's community engine leaves out: row-level
security flags, policies, privileges, roles and functions. For each kind of
change, a copy of schema.sql is edited, the diff is written and applied to a
database at the previous version, and then the catalog-equivalence proof
passes and a second diff writes nothing. Lint refuses a migration that takes
row-level security away from a tenant table unless the file opts out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools import database, migrate

from . import engine

ACTOR = "NULLIF(current_setting('app.user_id', true), '')::uuid"
PROJECTS_POLICY_HEAD = "CREATE POLICY projects_owner_isolation ON projects\n"


@dataclass(frozen=True)
class Edit:
    """A change to schema.sql, and what the written migration must say."""

    old: str
    new: str
    expect: tuple[str, ...]


EDITS = {
    "rls on": Edit(
        "GRANT SELECT ON users TO app_user;",
        "GRANT SELECT ON users TO app_user;\n"
        "ALTER TABLE verifications ENABLE ROW LEVEL SECURITY;\n"
        "ALTER TABLE verifications FORCE ROW LEVEL SECURITY;",
        (
            'ALTER TABLE "public"."verifications" ENABLE ROW LEVEL SECURITY;',
            'ALTER TABLE "public"."verifications" FORCE ROW LEVEL SECURITY;',
        ),
    ),
    "rls off": Edit(
        "ALTER TABLE agent_states ENABLE ROW LEVEL SECURITY;\n",
        "",
        ('ALTER TABLE "public"."agent_states" DISABLE ROW LEVEL SECURITY;',),
    ),
    "force off": Edit(
        "ALTER TABLE projects FORCE ROW LEVEL SECURITY;\n",
        "",
        ('ALTER TABLE "public"."projects" NO FORCE ROW LEVEL SECURITY;',),
    ),
    "new policy": Edit(
        "GRANT SELECT ON users TO app_user;",
        "GRANT SELECT ON users TO app_user;\n"
        "CREATE POLICY users_self ON users AS RESTRICTIVE FOR SELECT TO app_user\n"
        f"    USING (id = {ACTOR});",
        ('CREATE POLICY "users_self" ON "public"."users" AS RESTRICTIVE FOR SELECT',),
    ),
    "changed using": Edit(
        PROJECTS_POLICY_HEAD
        + f"    FOR ALL TO app_user\n    USING (owner_id = {ACTOR})",
        PROJECTS_POLICY_HEAD
        + f"    FOR ALL TO app_user\n    USING (owner_id = {ACTOR} AND name <> '')",
        ('ALTER POLICY "projects_owner_isolation" ON "public"."projects" USING (',),
    ),
    "changed with check": Edit(
        f"    WITH CHECK (owner_id = {ACTOR});\n\nCREATE POLICY project_files",
        f"    WITH CHECK (owner_id = {ACTOR} AND name <> '');\n\n"
        "CREATE POLICY project_files",
        (
            'ALTER POLICY "projects_owner_isolation" ON "public"."projects" WITH CHECK (',
        ),
    ),
    "changed roles": Edit(
        PROJECTS_POLICY_HEAD + "    FOR ALL TO app_user\n",
        PROJECTS_POLICY_HEAD + "    FOR ALL TO PUBLIC\n",
        ('ALTER POLICY "projects_owner_isolation" ON "public"."projects" TO PUBLIC;',),
    ),
    "changed command": Edit(
        PROJECTS_POLICY_HEAD + "    FOR ALL TO app_user\n",
        PROJECTS_POLICY_HEAD + "    FOR UPDATE TO app_user\n",
        (
            'DROP POLICY "projects_owner_isolation" ON "public"."projects";',
            'CREATE POLICY "projects_owner_isolation" ON "public"."projects" '
            "AS PERMISSIVE FOR UPDATE",
        ),
    ),
    "dropped policy": Edit(
        "CREATE POLICY agent_states_owner_isolation ON agent_states\n"
        f"    FOR ALL TO app_user\n    USING (owner_id = {ACTOR})\n"
        f"    WITH CHECK (owner_id = {ACTOR});\n",
        "",
        ('DROP POLICY "agent_states_owner_isolation" ON "public"."agent_states";',),
    ),
    "new grant": Edit(
        "GRANT SELECT ON users TO app_user;",
        "GRANT SELECT ON users TO app_user;\nGRANT SELECT ON sessions TO app_user;",
        ('GRANT SELECT ON TABLE "public"."sessions" TO "app_user";',),
    ),
    "grant option": Edit(
        "GRANT SELECT ON users TO app_user;",
        "GRANT SELECT ON users TO app_user WITH GRANT OPTION;",
        ('GRANT SELECT ON TABLE "public"."users" TO "app_user" WITH GRANT OPTION;',),
    ),
    "revoked grant": Edit(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON projects, project_files, agent_states",
        "GRANT SELECT, INSERT, UPDATE ON projects, project_files, agent_states",
        (
            'REVOKE DELETE ON TABLE "public"."agent_states" FROM "app_user";',
            'REVOKE DELETE ON TABLE "public"."projects" FROM "app_user";',
        ),
    ),
    "column grant": Edit(
        "GRANT SELECT ON users TO app_user;",
        "GRANT SELECT ON users TO app_user;\n"
        "GRANT UPDATE (name, image) ON users TO app_user;",
        ('GRANT UPDATE ("image", "name") ON TABLE "public"."users" TO "app_user";',),
    ),
    "new role": Edit(
        "GRANT SELECT ON users TO app_user;",
        "GRANT SELECT ON users TO app_user;\n"
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_auditor')"
        " THEN CREATE ROLE app_auditor NOLOGIN; END IF; END $$;\n"
        "GRANT SELECT ON projects TO app_auditor;",
        (
            "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_auditor') THEN",
            'CREATE ROLE "app_auditor" NOLOGIN',
            'GRANT SELECT ON TABLE "public"."projects" TO "app_auditor";',
        ),
    ),
}

FUNCTION = (
    "CREATE FUNCTION current_actor() RETURNS uuid LANGUAGE sql STABLE\n"
    "    AS $$ SELECT {body} $$;\n"
)


def edited(base: str, edit: Edit) -> str:
    assert base.count(edit.old) == 1, f"schema.sql no longer holds {edit.old!r}"
    return base.replace(edit.old, edit.new)


async def round_trip(admin_url: str, history: Path, schema: Path, target: str) -> str:
    """Diff, apply to `target` (at the previous version), prove equivalence and
    an empty re-diff; returns the written migration."""
    before = set(engine.history_files(history))
    dev, drop_dev = await database.create_database(admin_url, "dev")
    try:
        written = engine.diff(history, schema, dev, "security")
        assert written.returncode == 0, engine.output(written)
        new = sorted(set(engine.history_files(history)) - before)
        assert len(new) == 1, written.stdout
        await engine.applies_and_reaches_schema(
            admin_url, target, history, schema, dev, "security"
        )
        return (history / new[0]).read_text()
    finally:
        await drop_dev()


@pytest.mark.parametrize("kind", sorted(EDITS))
async def test_security_change_round_trips(
    kind: str,
    pg_admin_url: str,
    previous_version: tuple[str, Path],
    tmp_path: Path,
) -> None:
    target, history = previous_version
    schema = tmp_path / "schema.sql"
    schema.write_text(edited(migrate.SCHEMA_FILE.read_text(), EDITS[kind]))
    written = await round_trip(pg_admin_url, history, schema, target)
    for statement in EDITS[kind].expect:
        assert statement in written, written


async def test_new_and_changed_function_round_trip(
    pg_admin_url: str, previous_version: tuple[str, Path], tmp_path: Path
) -> None:
    target, history = previous_version
    schema = tmp_path / "schema.sql"
    base = migrate.SCHEMA_FILE.read_text()
    schema.write_text(base + FUNCTION.format(body=ACTOR))
    first = await round_trip(pg_admin_url, history, schema, target)
    assert "CREATE OR REPLACE FUNCTION public.current_actor()" in first
    schema.write_text(base + FUNCTION.format(body=f"coalesce({ACTOR}, NULL)"))
    second = await round_trip(pg_admin_url, history, schema, target)
    assert "coalesce(NULLIF(current_setting" in second
    schema.write_text(base)
    third = await round_trip(pg_admin_url, history, schema, target)
    assert 'DROP FUNCTION "public"."current_actor"();' in third


def test_the_written_text_is_stable(dev_url: str, tmp_path: Path) -> None:
    """The same schema.sql always yields the same statements."""
    texts = []
    for attempt in ("a", "b"):
        history = engine.copy_history(tmp_path / attempt)
        schema = tmp_path / f"{attempt}.sql"
        schema.write_text(
            edited(migrate.SCHEMA_FILE.read_text(), EDITS["new role"])
            + FUNCTION.format(body=ACTOR)
        )
        written = engine.diff(history, schema, dev_url, "security")
        assert written.returncode == 0, engine.output(written)
        (new,) = set(engine.history_files(history)) - set(engine.history_files())
        texts.append((history / new).read_text())
    assert texts[0] == texts[1]


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("ALTER TABLE agent_states DISABLE ROW LEVEL SECURITY;", "RLS101"),
        ("ALTER TABLE projects NO FORCE ROW LEVEL SECURITY;", "RLS102"),
        ("DROP POLICY project_files_owner_isolation ON project_files;", "RLS103"),
    ],
)
def test_lint_refuses_taking_rls_from_a_tenant_table(
    statement: str, code: str, dev_url: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    name = engine.add_migration(history, "weaken", statement + "\n")
    refused = engine.lint(history, dev_url)
    assert refused.returncode != 0
    assert code in refused.stderr
    assert name in refused.stderr


async def test_lint_accepts_the_documented_opt_out(
    pg_admin_url: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    engine.add_migration(
        history,
        "weaken",
        "-- schemaflow:allow-rls-removal agent states move to a reporting role\n\n"
        "ALTER TABLE agent_states DISABLE ROW LEVEL SECURITY;\n",
    )
    dev, drop = await database.create_database(pg_admin_url, "dev")
    try:
        allowed = engine.lint(history, dev)
    finally:
        await drop()
    assert allowed.returncode == 0, engine.output(allowed)
    assert "allowed (agent states move to a reporting role): RLS101" in allowed.stdout


def test_a_policy_recreated_in_the_same_file_is_not_a_removal(
    dev_url: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    engine.add_migration(
        history,
        "recreate",
        "DROP POLICY projects_owner_isolation ON projects;\n"
        "CREATE POLICY projects_owner_isolation ON projects FOR ALL TO app_user\n"
        f"    USING (owner_id = {ACTOR}) WITH CHECK (owner_id = {ACTOR});\n",
    )
    done = engine.lint(history, dev_url)
    assert done.returncode == 0, engine.output(done)
