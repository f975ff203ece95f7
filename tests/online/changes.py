"""The changes a user makes to existing tables, each an edit of schema.sql
that `migrate diff` turns into migration files, one change after the other
in one copy of the history, as a project's history grows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devtools import migrate
from tests.migrations import engine

PROJECT_FILES_LAST_COLUMN = (
    "    kind       text        NOT NULL DEFAULT 'text',\n"
    "    -- The primary key doubles as the listing index"
)
LABELS_NULL = "    labels     text[]      NULL DEFAULT '{}',\n"
LABELS_NOT_NULL = "    labels     text[]      NOT NULL DEFAULT '{}',\n"
LAST_PROJECT_FILES_CHECK = (
    "    CONSTRAINT project_files_version_positive CHECK (version >= 1)\n);"
)
AGENT_STATES_TABLE = "CREATE TABLE agent_states ("


@dataclass(frozen=True)
class Change:
    """One edit of schema.sql: `old`, found exactly once, becomes `new`."""

    name: str
    old: str
    new: str

    def applied_to(self, schema: str) -> str:
        found = schema.count(self.old)
        assert found == 1, f"{self.name}: the text to edit occurs {found} times"
        return schema.replace(self.old, self.new)


# In the order a user would make them: a nullable column (with a constant
# default, so existing rows need no rewrite), an index, a CHECK, a column
# with a FOREIGN KEY, SET NOT NULL on the first column, a UNIQUE constraint.
# Every change is to a table that holds data and has writers.
CHANGES = (
    Change(
        "add_labels",
        PROJECT_FILES_LAST_COLUMN,
        PROJECT_FILES_LAST_COLUMN.replace("\n", "\n" + LABELS_NULL, 1),
    ),
    Change(
        "updated_at_index",
        AGENT_STATES_TABLE,
        "CREATE INDEX project_files_updated_at_idx ON project_files (updated_at);\n\n"
        + AGENT_STATES_TABLE,
    ),
    Change(
        "updated_after_created",
        LAST_PROJECT_FILES_CHECK,
        LAST_PROJECT_FILES_CHECK.replace(
            "\n);",
            ",\n    CONSTRAINT project_files_updated_after_created\n"
            "        CHECK (updated_at >= created_at)\n);",
        ),
    ),
    Change(
        "created_by",
        LABELS_NULL,
        LABELS_NULL
        + "    created_by uuid        NULL\n"
        + "        CONSTRAINT project_files_created_by_fkey\n"
        + "        REFERENCES users (id) ON DELETE SET NULL,\n",
    ),
    Change(
        "labels_not_null",
        LABELS_NULL,
        LABELS_NOT_NULL,
    ),
    Change(
        "project_names_unique",
        "    CONSTRAINT projects_id_owner_id_key UNIQUE (id, owner_id),\n",
        "    CONSTRAINT projects_id_owner_id_key UNIQUE (id, owner_id),\n"
        "    -- A user's projects have distinct names.\n"
        "    CONSTRAINT projects_owner_id_name_key UNIQUE (owner_id, name),\n",
    ),
)


@dataclass(frozen=True)
class Generated:
    """A change and the migration files `migrate diff` wrote for it, in
    the order they apply."""

    change: Change
    files: tuple[str, ...]

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(name.split("_", 1)[0] for name in self.files)


def generate(history: Path, schema: Path, admin_url: str) -> tuple[Generated, ...]:
    """Each change edited into `schema` (a copy of schema.sql, kept edited)
    and diffed into `history` (a copy of migrations/) by the project's
    `migrate diff`, with a fresh dev database on the server of `admin_url`,
    as `nox -s generate -- NAME` would."""
    text = migrate.SCHEMA_FILE.read_text()
    generated = []
    for change in CHANGES:
        text = change.applied_to(text)
        schema.write_text(text)
        before = set(engine.history_files(history))
        with migrate.dev_database(admin_url) as dev_url:
            done = engine.diff(history, schema, dev_url, change.name)
        assert done.returncode == 0, engine.output(done)
        written = tuple(sorted(set(engine.history_files(history)) - before))
        assert written, (
            f"{change.name}: migrate diff wrote no file\n{engine.output(done)}"
        )
        # Files apply in version order: each change's come after the last
        # change's, each with a version of its own.
        files = engine.history_files(history)
        versions = [name.split("_", 1)[0] for name in files]
        assert files[-len(written) :] == list(written), f"{written}: not last"
        assert versions == sorted(set(versions)), f"{written}: a version repeats"
        generated.append(Generated(change, written))
    return tuple(generated)
