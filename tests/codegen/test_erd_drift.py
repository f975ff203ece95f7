"""docs/schema.md is the diagram of the current schema.sql (nox -s generate)."""

from __future__ import annotations

from devtools import erd


async def test_er_diagram_matches_schema(pg_admin_url: str) -> None:
    expected = await erd.build(pg_admin_url)
    assert erd.OUTPUT.read_text() == expected, (
        "docs/schema.md is stale: run `nox -s generate`"
    )


async def test_er_diagram_shows_keys_and_relations(pg_admin_url: str) -> None:
    text = await erd.build(pg_admin_url)
    assert "erDiagram" in text
    assert "        text path PK" in text
    assert (
        '    projects ||--o{ project_files : "project_files_project_fkey (cascade)"'
        in text
    )
    assert "`agent_states`, `project_files`, `projects`" in text
