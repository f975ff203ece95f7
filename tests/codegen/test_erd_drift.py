"""docs/schema.md is the diagram of the database migrations/ builds
(nox -s generate), and it shows what a reader needs to know about keys."""

from __future__ import annotations

from devtools import erd


async def test_er_diagram_matches_the_migrated_schema(pg_admin_url: str) -> None:
    expected = await erd.build(pg_admin_url)
    assert erd.OUTPUT.read_text() == expected, (
        "docs/schema.md is stale: run `nox -s generate`"
    )


async def test_er_diagram_shows_keys_actions_and_row_level_security(
    pg_admin_url: str,
) -> None:
    text = await erd.build(pg_admin_url)
    assert "erDiagram" in text
    assert "        text path PK\n" in text
    # An expression unique index and a composite unique constraint.
    assert '        text email UK "unique (lower(email))"\n' in text
    assert '        text provider_id UK "unique (provider_id, account_id)"\n' in text
    assert '        text account_id UK "unique (provider_id, account_id)"\n' in text
    # ON DELETE and ON UPDATE, on the relation and in the keys table.
    assert (
        '    projects ||--o{ project_files : "project_files_project_fkey: '
        'on delete cascade, on update no action"\n'
    ) in text
    assert (
        "(project_id, owner_id) → projects (id, owner_id), "
        "on delete cascade, on update no action"
    ) in text
    assert '"projects_owner_id_fkey: on delete cascade, on update no action"' in text
    # Which tables have row-level security, and which do not.
    rows = {
        line.split(" | ")[0].strip("| `"): line.rsplit(" | ", 1)[1].rstrip(" |")
        for line in text.splitlines()
        if line.startswith("| `")
    }
    secured = {table for table, rls in rows.items() if rls != "off"}
    assert secured == {
        "agent_state_versions",
        "agent_states",
        "checkpoints",
        "file_contents",
        "file_versions",
        "project_files",
        "projects",
        "users",
    }
    assert rows["checkpoints"] == (
        "enabled and forced; policies: checkpoints_owner_isolation (ALL to app_user)"
    )
    assert rows["projects"] == (
        "enabled and forced; policies: projects_owner_isolation (ALL to app_user)"
    )
