"""One way through both linters for a deliberate destructive change: the
marker `-- schemaflow:allow-destructive <reason>` directly above the
statement. `migrate lint` (the engine's analyzers) and squawk (through
devtools.squawk) each refuse a dropped column naming the marker, let it
through with a reason and print the reason, refuse the marker without one,
and let only the marked statement through. `migrate lint` honours the
official CLI's `atlas:nolint` too; squawk checks a `txmode none` file outside
a transaction; `nox -s lint` (devtools.lint) reports every linter's findings
in one run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT, migrate, squawk

from . import engine

# The project's header, so that squawk's timeout rules have nothing to say.
HEADER = "SET LOCAL lock_timeout = '5s';\nSET LOCAL statement_timeout = 0;\n"
DROP_IMAGE = 'ALTER TABLE "public"."users" DROP COLUMN "image";\n'
DROP_NAME = 'ALTER TABLE "public"."users" DROP COLUMN "name";\n'
REASON = "avatars moved to object storage in release 12"
MARKER = f"-- schemaflow:allow-destructive {REASON}\n"
WAY_THROUGH = (
    'add a line "-- schemaflow:allow-destructive <why>" directly above the '
    "statement, then nox -s migrate -- --hash"
)


def findings_on_added_files(history: Path) -> squawk.Verdict:
    """squawk's verdict on the files a test added to its copy of the
    history: the project's own files hold deliberate, marked changes whose
    findings are allowed, and are no business of these tests."""
    committed = tuple(f"migrations/{name}:" for name in engine.history_files())
    verdict = squawk.check(history)
    return squawk.Verdict(
        files=verdict.files,
        refused=[line for line in verdict.refused if committed_free(line, committed)],
        allowed=[line for line in verdict.allowed if committed_free(line, committed)],
    )


def committed_free(line: str, committed: tuple[str, ...]) -> bool:
    return not any(name in line for name in committed)


def drop_migration(tmp_path: Path, sql: str) -> tuple[Path, str]:
    history = engine.copy_history(tmp_path)
    return history, engine.add_migration(history, "drop", sql)


def test_a_dropped_column_is_refused_by_both_naming_the_marker(
    dev_url: str, tmp_path: Path
) -> None:
    history, name = drop_migration(tmp_path, HEADER + DROP_IMAGE)
    lint = engine.lint(history, dev_url)
    assert lint.returncode != 0
    assert (
        f'{name}:3: destructive changes detected: Dropping non-virtual column "image" [DS103]'
        in lint.stderr
    )
    assert WAY_THROUGH in lint.stderr
    verdict = findings_on_added_files(history)
    assert verdict.allowed == []
    assert len(verdict.refused) == 1
    assert verdict.refused[0].startswith(f"migrations/{name}:3:30: ban-drop-column: ")
    assert WAY_THROUGH in verdict.refused[0]


def test_the_marker_with_a_reason_lets_it_through_both(
    dev_url: str, tmp_path: Path
) -> None:
    history, name = drop_migration(tmp_path, HEADER + MARKER + DROP_IMAGE)
    lint = engine.lint(history, dev_url)
    assert lint.returncode == 0, engine.output(lint)
    assert (
        f"allowed ({REASON}): {name}:4: destructive changes detected: " in lint.stdout
    )
    verdict = findings_on_added_files(history)
    assert verdict.refused == []
    assert len(verdict.allowed) == 1
    assert verdict.allowed[0].startswith(
        f"allowed ({REASON}): migrations/{name}:4:30: ban-drop-column: "
    )


def test_the_marker_excuses_no_other_finding_on_its_statement(tmp_path: Path) -> None:
    history, name = drop_migration(tmp_path, MARKER + DROP_IMAGE)
    verdict = findings_on_added_files(history)
    assert [line.split(": ")[1] for line in verdict.refused] == [
        "require-lock-timeout",
        "require-statement-timeout",
    ]
    assert len(verdict.allowed) == 1
    assert f"migrations/{name}:2:30: ban-drop-column" in verdict.allowed[0]


def test_a_marker_without_a_reason_is_refused_by_both(
    dev_url: str, tmp_path: Path
) -> None:
    history, name = drop_migration(
        tmp_path, HEADER + "-- schemaflow:allow-destructive\n" + DROP_IMAGE
    )
    lint = engine.lint(history, dev_url)
    assert lint.returncode != 0
    assert f"{name}:3: schemaflow:allow-destructive without a reason" in lint.stderr
    assert f"{name}:4: destructive changes detected" in lint.stderr
    verdict = findings_on_added_files(history)
    assert verdict.allowed == []
    assert verdict.refused[0].startswith(
        f"migrations/{name}:3: schemaflow:allow-destructive without a reason"
    )
    assert verdict.refused[1].startswith(f"migrations/{name}:4:30: ban-drop-column")


def test_the_marker_lets_only_its_own_statement_through(
    dev_url: str, tmp_path: Path
) -> None:
    history, name = drop_migration(tmp_path, HEADER + MARKER + DROP_IMAGE + DROP_NAME)
    lint = engine.lint(history, dev_url)
    assert lint.returncode != 0
    assert f"allowed ({REASON}): {name}:4: " in lint.stdout
    assert "lint refused 1 finding(s)" in lint.stderr
    assert (
        f'{name}:5: destructive changes detected: Dropping non-virtual column "name"'
        in lint.stderr
    )
    verdict = findings_on_added_files(history)
    assert [line.split(": ")[0] for line in verdict.allowed] == [f"allowed ({REASON})"]
    assert len(verdict.refused) == 1
    assert verdict.refused[0].startswith(f"migrations/{name}:5:30: ban-drop-column")


def test_a_renamed_column_is_refused_by_both_as_a_deliberate_change(
    dev_url: str, tmp_path: Path
) -> None:
    rename = 'ALTER TABLE "public"."users" RENAME COLUMN "image" TO "avatar";\n'
    history, name = drop_migration(tmp_path, HEADER + rename)
    lint = engine.lint(history, dev_url)
    assert lint.returncode != 0
    assert (
        f'{name}:3: destructive changes detected: Dropping non-virtual column "image"'
        in lint.stderr
    )
    assert WAY_THROUGH in lint.stderr
    verdict = findings_on_added_files(history)
    assert [line.split(": ")[1] for line in verdict.refused] == ["renaming-column"]
    history, name = drop_migration(tmp_path / "marked", HEADER + MARKER + rename)
    assert engine.lint(history, dev_url).returncode == 0
    assert findings_on_added_files(history).refused == []


@pytest.mark.parametrize(
    "directive",
    ["-- atlas:nolint DS103", "-- atlas:nolint destructive", "-- atlas:nolint"],
)
def test_migrate_lint_honours_atlas_nolint_and_squawk_does_not(
    directive: str, dev_url: str, tmp_path: Path
) -> None:
    history, name = drop_migration(
        tmp_path, HEADER + directive + "\n" + DROP_IMAGE + DROP_NAME
    )
    lint = engine.lint(history, dev_url)
    assert lint.returncode != 0
    assert f"skipped (atlas:nolint): {name}:4: " in lint.stdout
    # Only the statement below the directive: the next one is still refused.
    assert "lint refused 1 finding(s)" in lint.stderr
    assert f"{name}:5: " in lint.stderr
    # squawk knows nothing of atlas:nolint; its refusal names the project's
    # marker, the one way through both.
    verdict = findings_on_added_files(history)
    assert len(verdict.refused) == 2
    assert all(WAY_THROUGH in line and "nolint" not in line for line in verdict.refused)


# A change the online-safe `migrate diff` writes as three files: a CHECK added
# NOT VALID in a transaction, an index built concurrently outside one, and
# the validation.
GROUP = {
    "check": HEADER
    + 'ALTER TABLE "public"."project_files" ADD CONSTRAINT "project_files_small"'
    " CHECK (size_bytes < 1073741824) NOT VALID;\n",
    "concurrently": "-- atlas:txmode none\n\n"
    "SET lock_timeout = 0;\nSET statement_timeout = 0;\n"
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "project_files_updated_at"'
    ' ON "public"."project_files" ("updated_at");\n',
    "validate": HEADER
    + 'ALTER TABLE "public"."project_files" VALIDATE CONSTRAINT "project_files_small";\n',
}


def test_a_group_with_a_concurrent_index_passes_every_linter(
    dev_url: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    for name, sql in GROUP.items():
        engine.add_migration(history, name, sql)
    verdict = findings_on_added_files(history)
    assert verdict.refused == []
    validate = engine.run(
        "migrate", "validate", "--dir", migrate.file_url(history), "--dev-url", dev_url
    )
    assert validate.returncode == 0, engine.output(validate)
    lint = engine.lint(history, dev_url, *migrate.lint_selection(history))
    assert lint.returncode == 0, engine.output(lint)
    assert all(name in lint.stdout for name in engine.history_files(history))


def test_a_concurrent_index_in_a_transactional_file_is_refused(tmp_path: Path) -> None:
    transactional = GROUP["concurrently"].replace("-- atlas:txmode none\n\n", "")
    history, _ = drop_migration(tmp_path, transactional)
    verdict = findings_on_added_files(history)
    assert [line.split(": ")[1] for line in verdict.refused] == [
        "ban-concurrent-index-creation-in-transaction"
    ]


def test_the_lint_session_reports_every_linter_then_names_the_failed(
    pg_admin_url: str, tmp_path: Path
) -> None:
    history, name = drop_migration(tmp_path, HEADER + DROP_IMAGE)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.lint",
            "--dir",
            str(history),
            "squawk",
            "migrate validate",
            "migrate lint",
        ],
        env={
            **os.environ,
            "DATABASE_URL": pg_admin_url,
            "PYTHONPATH": str(PROJECT_ROOT / "tools"),
        },
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    # squawk failed first, and migrate validate and lint still ran.
    assert f"migrations/{name}:3:30: ban-drop-column" in done.stdout
    files = len(list(history.glob("*.sql")))  # the project's and the drop
    assert f"atlas.sum matches its {files} files" in done.stdout
    assert f"{name}:3: destructive changes detected" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        "lint failed: squawk, migrate lint (2 of 3 linters)"
    )
