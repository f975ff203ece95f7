"""`migrate diff` writes migrations that pass the project's gates as they
come out and apply online. A copy of schema.sql is edited as a user would,
the diff is written into a copy of migrations/, and the written files are
checked: squawk (the project's config) and `migrate lint` accept them
unchanged, a database at the previous version takes them with `migrate
apply`, its catalog is then schema.sql's (NOT VALID constraints would show),
and the next diff writes nothing. A change the engine cannot express is
refused with nothing written."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from devtools import PROJECT_ROOT, migrate

from . import engine

TIMEOUTS_IN_TRANSACTION = (
    "SET LOCAL lock_timeout = '5s';\n",
    "SET LOCAL statement_timeout = 0;\n",
)
TIMEOUTS_OUTSIDE_TRANSACTION = (
    "SET lock_timeout = 0;\n",
    "SET statement_timeout = 0;\n",
)
NO_TRANSACTION = "-- atlas:txmode none"

# (old, new) text of schema.sql: what a user edits.
NEW_COLUMN = (
    "    kind       text        NOT NULL DEFAULT 'text',\n"
    "    -- The primary key doubles",
    "    kind       text        NOT NULL DEFAULT 'text',\n"
    "    labels     text[]      NULL,\n"
    "    -- The primary key doubles",
)
NEW_TABLE = (
    "-- Least privilege:",
    "CREATE TABLE project_tags (\n"
    "    project_id uuid NOT NULL,\n"
    "    tag        text NOT NULL,\n"
    "    CONSTRAINT project_tags_pkey PRIMARY KEY (project_id, tag),\n"
    "    CONSTRAINT project_tags_project_fkey FOREIGN KEY (project_id)\n"
    "        REFERENCES projects (id) ON DELETE CASCADE,\n"
    "    CONSTRAINT project_tags_tag_length CHECK (char_length(tag) BETWEEN 1 AND 50)\n"
    ");\n"
    "CREATE INDEX project_tags_tag_idx ON project_tags (tag);\n\n"
    "-- Least privilege:",
)
NEW_INDEX = (
    "-- Least privilege:",
    "CREATE INDEX project_files_updated_at_idx ON project_files (updated_at);\n\n"
    "-- Least privilege:",
)
NEW_CHECK_AND_UNIQUE = (
    "    CONSTRAINT verifications_pkey PRIMARY KEY (id)\n);",
    "    CONSTRAINT verifications_pkey PRIMARY KEY (id),\n"
    "    CONSTRAINT verifications_expiry_after_creation CHECK (expires_at > created_at),\n"
    "    CONSTRAINT verifications_identifier_value_key UNIQUE (identifier, value)\n);",
)
NEW_FOREIGN_KEY = (
    "        REFERENCES file_versions (project_id, path, version),\n    -- Path rules",
    "        REFERENCES file_versions (project_id, path, version),\n"
    "    CONSTRAINT project_files_owner_fkey FOREIGN KEY (owner_id)\n"
    "        REFERENCES users (id) ON DELETE CASCADE,\n"
    "    -- Path rules",
)
NOT_NULL = (
    "    user_agent text        NULL,",
    "    user_agent text        NOT NULL,",
)
CHANGED_CHECK = (
    "CHECK (char_length(description) <= 10000)",
    "CHECK (char_length(description) <= 20000)",
)

# Rows the validations scan: each satisfies every new rule.
ROWS = """
INSERT INTO users (id, name, email)
    VALUES ('00000000-0000-4000-8000-000000000001', 'Ada', 'ada@example.com');
INSERT INTO sessions (token, expires_at, user_id, user_agent)
    VALUES ('t', now() + interval '1 day', '00000000-0000-4000-8000-000000000001', 'curl');
INSERT INTO verifications (identifier, value, expires_at)
    VALUES ('ada@example.com', 'v', now() + interval '1 hour');
INSERT INTO projects (owner_id, name, description)
    VALUES ('00000000-0000-4000-8000-000000000001', 'p', 'd');
"""


def edited_schema(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = migrate.SCHEMA_FILE.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"schema.sql no longer holds {old!r} once"
        text = text.replace(old, new)
    schema = tmp_path / "schema.sql"
    schema.write_text(text)
    return schema


def written(history: Path, before: set[str]) -> list[Path]:
    return [history / n for n in sorted(set(engine.history_files(history)) - before)]


def squawk(files: list[Path]) -> None:
    """squawk with the project's config; a file that runs outside a
    transaction is checked as such."""
    binary = shutil.which("squawk")
    assert binary is not None, "squawk-cli is part of the dev extra"
    for path in files:
        outside = NO_TRANSACTION in path.read_text()
        mode = "--no-assume-in-transaction" if outside else "--assume-in-transaction"
        checked = subprocess.run(
            [binary, "--config", str(PROJECT_ROOT / ".squawk.toml"), mode, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "Found 0 issues" in checked.stdout, checked.stdout


def lint_latest(history: Path, dev_url: str, latest: int) -> None:
    done = engine.lint(history, dev_url, "--latest", str(latest))
    assert done.returncode == 0, engine.output(done)
    assert f"Lint passed: {latest} file(s)" in done.stdout, done.stdout


def header(text: str, lines: tuple[str, ...]) -> None:
    """The timeouts are the file's first statements."""
    statements = [
        line + "\n"
        for line in text.splitlines()
        if line.strip() and not line.startswith("--")
    ]
    assert tuple(statements[: len(lines)]) == lines, text


async def test_a_new_column_and_a_new_table_come_out_plain_in_one_file(
    pg_admin_url: str,
    previous_version: tuple[str, Path],
    dev_url: str,
    tmp_path: Path,
) -> None:
    target, history = previous_version
    schema = edited_schema(tmp_path, NEW_COLUMN, NEW_TABLE)
    before = set(engine.history_files(history))
    done = engine.diff(history, schema, dev_url, "add_labels")
    assert done.returncode == 0, engine.output(done)
    files = written(history, before)
    assert [f.name.split("_", 1)[1] for f in files] == ["add_labels.sql"], done.stdout
    text = files[0].read_text()
    header(text, TIMEOUTS_IN_TRANSACTION)
    assert 'ADD COLUMN "labels" text[] NULL;' in text
    # A new table keeps its index, key and check in plain statements.
    assert 'CREATE TABLE "public"."project_tags"' in text
    assert 'CREATE INDEX "project_tags_tag_idx" ON "public"."project_tags"' in text
    assert "CONCURRENTLY" not in text
    assert NO_TRANSACTION not in text
    assert "NOT VALID" not in text
    assert "VALIDATE" not in text
    assert files[0].name in done.stdout
    squawk(files)
    lint_latest(history, dev_url, 1)
    await engine.applies_and_reaches_schema(
        pg_admin_url, target, history, schema, dev_url
    )


async def test_changes_to_existing_tables_come_out_online(
    pg_admin_url: str,
    previous_version: tuple[str, Path],
    dev_url: str,
    tmp_path: Path,
) -> None:
    target, history = previous_version
    schema = edited_schema(
        tmp_path,
        NEW_INDEX,
        NEW_CHECK_AND_UNIQUE,
        NEW_FOREIGN_KEY,
        NOT_NULL,
        CHANGED_CHECK,
    )
    before = set(engine.history_files(history))
    done = engine.diff(history, schema, dev_url, "online")
    assert done.returncode == 0, engine.output(done)
    files = written(history, before)
    assert [f.name.split("_", 1)[1] for f in files] == [
        "online.sql",
        "online_concurrently.sql",
        "online_validate.sql",
    ], done.stdout
    # Consecutive versions: one second apart, as the engine's timestamps go.
    versions = [
        datetime.strptime(f.name.split("_", 1)[0], "%Y%m%d%H%M%S") for f in files
    ]
    assert [v - versions[0] for v in versions] == [
        timedelta(seconds=s) for s in range(3)
    ]
    for f in files:
        assert f.name in done.stdout
    main, concurrently, validate = (f.read_text() for f in files)

    # One transaction: constraints NOT VALID, the NOT NULL as a check.
    header(main, TIMEOUTS_IN_TRANSACTION)
    assert NO_TRANSACTION not in main
    assert (
        'ADD CONSTRAINT "verifications_expiry_after_creation"'
        " CHECK (expires_at > created_at) NOT VALID" in main
    ), main
    assert (
        'ADD CONSTRAINT "project_files_owner_fkey" FOREIGN KEY ("owner_id")'
        ' REFERENCES "public"."users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE'
        " NOT VALID" in main
    ), main
    assert (
        'ADD CONSTRAINT "sessions_user_agent_not_null_check"'
        ' CHECK ("user_agent" IS NOT NULL) NOT VALID' in main
    ), main
    # (i) A changed CHECK expression is planned (as the official CLI does),
    # and re-added NOT VALID.
    assert (
        'DROP CONSTRAINT "projects_description_length",'
        ' ADD CONSTRAINT "projects_description_length"'
        " CHECK (char_length(description) <= 20000) NOT VALID" in main
    ), main
    assert "SET NOT NULL" not in main
    assert "INDEX" not in main

    # Outside a transaction: indexes built concurrently.
    assert concurrently.startswith(NO_TRANSACTION + "\n"), concurrently
    header(concurrently, TIMEOUTS_OUTSIDE_TRANSACTION)
    assert (
        'CREATE INDEX CONCURRENTLY "project_files_updated_at_idx"'
        ' ON "public"."project_files" ("updated_at");' in concurrently
    ), concurrently
    assert (
        'CREATE UNIQUE INDEX CONCURRENTLY "verifications_identifier_value_key"'
        ' ON "public"."verifications" ("identifier", "value");' in concurrently
    ), concurrently

    # One transaction again: validations, then what needed them.
    header(validate, TIMEOUTS_IN_TRANSACTION)
    statements = [
        line for line in validate.splitlines() if line.startswith("ALTER TABLE")
    ]
    for table, constraint in [
        ("verifications", "verifications_expiry_after_creation"),
        ("project_files", "project_files_owner_fkey"),
        ("projects", "projects_description_length"),
    ]:
        assert (
            f'ALTER TABLE "public"."{table}" VALIDATE CONSTRAINT "{constraint}";'
            in statements
        ), validate
    not_null = [
        'ALTER TABLE "public"."sessions"'
        ' VALIDATE CONSTRAINT "sessions_user_agent_not_null_check";',
        'ALTER TABLE "public"."sessions" ALTER COLUMN "user_agent" SET NOT NULL;',
        'ALTER TABLE "public"."sessions"'
        ' DROP CONSTRAINT "sessions_user_agent_not_null_check";',
    ]
    positions = [statements.index(s) for s in not_null]
    assert positions == sorted(positions), validate
    assert (
        'ALTER TABLE "public"."verifications" ADD CONSTRAINT'
        ' "verifications_identifier_value_key" UNIQUE USING INDEX'
        ' "verifications_identifier_value_key";' in statements
    ), validate

    squawk(files)
    lint_latest(history, dev_url, 3)
    conn = await asyncpg.connect(target)
    try:
        await conn.execute(ROWS)
    finally:
        await conn.close()
    await engine.applies_and_reaches_schema(
        pg_admin_url, target, history, schema, dev_url
    )


def refused_with_nothing_written(
    history: Path, schema: Path, dev_url: str, named: list[str]
) -> None:
    before = {p.name: p.read_bytes() for p in history.iterdir()}
    done = engine.diff(history, schema, dev_url, "refused")
    assert done.returncode == 1, engine.output(done)
    for part in named:
        assert part in done.stderr, done.stderr
    assert "Nothing was written" in done.stderr
    assert "migrate new" in done.stderr
    assert "migrate hash" in done.stderr
    assert {p.name: p.read_bytes() for p in history.iterdir()} == before


ENUM_IN_HISTORY = (
    "CREATE TYPE \"public\".\"file_kind\" AS ENUM ('text', 'binary', 'link');\n"
)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        # The engine plans nothing for it: found by running the plan.
        ("'text', 'binary'", ['enum "public"."file_kind": remove value "link"']),
        # The engine refuses to plan it (in its words, a reordering).
        (
            "'text', 'link'",
            [
                'the engine cannot plan this change: reordering enum "file_kind"',
                'enum "public"."file_kind": remove value "binary"',
            ],
        ),
    ],
    ids=["last value", "middle value"],
)
def test_removing_an_enum_value_is_refused(
    values: str, named: list[str], dev_url: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    engine.add_migration(history, "file_kind", ENUM_IN_HISTORY)
    schema = edited_schema(
        tmp_path,
        (
            "-- Least privilege:",
            f"CREATE TYPE file_kind AS ENUM ({values});\n\n-- Least privilege:",
        ),
    )
    refused_with_nothing_written(history, schema, dev_url, named)


def test_partitions_and_serial_sequence_types_are_refused(
    dev_url: str, tmp_path: Path
) -> None:
    """The engine sees neither: it would write a file that reaches neither."""
    history = engine.copy_history(tmp_path)
    engine.add_migration(
        history,
        "events",
        'CREATE TABLE "public"."counters" ("id" serial NOT NULL, PRIMARY KEY ("id"));\n'
        'CREATE TABLE "public"."events" ("at" date NOT NULL) PARTITION BY RANGE ("at");\n',
    )
    schema = edited_schema(
        tmp_path,
        (
            "-- Least privilege:",
            "CREATE TABLE counters (id bigserial NOT NULL, PRIMARY KEY (id));\n"
            "CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);\n"
            "CREATE TABLE events_2026 PARTITION OF events\n"
            "    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n\n"
            "-- Least privilege:",
        ),
    )
    refused_with_nothing_written(
        history,
        schema,
        dev_url,
        [
            'partition "public"."events_2026": create it as PARTITION OF "public"."events"',
            'column "public"."counters"."id": its sequence is integer, wanted bigint',
        ],
    )
