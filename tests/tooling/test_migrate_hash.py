"""`nox -s migrate -- --hash` in a copy of the clone (its tools/devtools and
migrations/, so the project's own atlas.sum is never touched): after a hand
edit of a file not yet applied anywhere, the engine's check fails and names
the command; the command re-hashes, says which file changed, and the check
passes again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT, atlas, database, migrate
from tests.migrations import engine


@pytest.fixture
async def dev_url(pg_admin_url: str) -> AsyncIterator[str]:
    url, drop = await database.create_database(pg_admin_url, "hash_dev")
    yield url
    await drop()


def clone(root: Path) -> Path:
    """What `nox -s migrate` runs, copied: devtools resolves the project root
    from where it lies, so the copy's migrations/ is the one it works on."""
    shutil.copytree(
        PROJECT_ROOT / "tools" / "devtools",
        root / "tools" / "devtools",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(migrate.MIGRATIONS_DIR, root / "migrations")
    return root / "migrations"


def rehash(root: Path) -> subprocess.CompletedProcess[str]:
    """`nox -s migrate -- --hash` as the session runs it, with the project's
    build of the engine (the message under test is that command's)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(root / "tools"),
        "ATLAS_BIN": str(atlas.project_build()),
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "devtools.migrate", "--hash"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def validate(history: Path, dev_url: str) -> subprocess.CompletedProcess[str]:
    return engine.own(
        "migrate", "validate", "--dir", migrate.file_url(history), "--dev-url", dev_url
    )


def test_hash_after_an_edit_makes_validate_pass_again(
    tmp_path: Path, dev_url: str
) -> None:
    project_sum = (migrate.MIGRATIONS_DIR / "atlas.sum").read_bytes()
    history = clone(tmp_path)
    added = engine.add_migration(history, "add_note", "CREATE TABLE note (id int);\n")
    edited = history / added
    edited.write_text(edited.read_text() + "ALTER TABLE note ADD COLUMN body text;\n")

    refused = validate(history, dev_url)
    assert refused.returncode != 0
    assert "checksum mismatch" in refused.stderr
    assert added in refused.stderr
    assert "re-hash: `nox -s migrate -- --hash`" in refused.stderr

    done = rehash(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    files = len(engine.history_files(history))
    assert (
        f"atlas.sum re-hashed ({files} files); changed since the last hash: "
        f"{added} (changed)"
    ) in done.stdout.splitlines()
    assert "Re-hash only a file not yet applied anywhere" in done.stdout
    assert not (tmp_path / ".pgdata").exists()  # files only: no server started

    passed = validate(history, dev_url)
    assert passed.returncode == 0, engine.output(passed)
    again = rehash(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (
        f"atlas.sum already matched the {files} files: nothing changed"
        in again.stdout.splitlines()
    )
    assert (migrate.MIGRATIONS_DIR / "atlas.sum").read_bytes() == project_sum
