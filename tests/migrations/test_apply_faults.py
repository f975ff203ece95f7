"""`migrate apply` under faults: two runs started together apply each file
once (the database lock), and a backend killed in the middle of a file
leaves that file rolled back while the next apply finishes the history."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from urllib.parse import quote

import asyncpg

from devtools import PROJECT_ROOT, atlas, migrate

from . import engine

# The advisory lock the official CLI and the project's engine take around
# apply: FNV-1 (32-bit) of its name, as the engine's PostgreSQL driver does.
APPLY_LOCK_NAME = b"atlas_migrate_execute"


def fnv1_32(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = (value * 0x01000193) & 0xFFFFFFFF
        value ^= byte
    return value


def _start_apply(url: str, directory: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(atlas.choose().binary),
            "migrate",
            "apply",
            "--dir",
            migrate.file_url(directory),
            "--url",
            url,
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_two_concurrent_applies_apply_each_file_once(empty_db: str) -> None:
    runs = [_start_apply(empty_db, migrate.MIGRATIONS_DIR) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    printed = "".join(out for out, _ in outputs)
    for name in engine.history_files():
        assert printed.count(f"applied {name}") == 1, printed
    recorded = await engine.revisions(empty_db)
    assert len(recorded) == len(engine.history_files())
    assert all(r["applied"] == r["total"] and not r["error"] for r in recorded)


async def test_apply_waits_for_the_lock_another_run_holds(empty_db: str) -> None:
    """What makes concurrent runs safe: a run holding the lock keeps the
    other out (here the test holds it, and the apply gives up after 1 s)."""
    holder = await asyncpg.connect(empty_db)
    try:
        await holder.execute(
            "SELECT pg_advisory_lock($1::bigint)", fnv1_32(APPLY_LOCK_NAME)
        )
        done = engine.apply(empty_db, migrate.MIGRATIONS_DIR, "--lock-timeout", "1s")
    finally:
        await holder.close()
    assert done.returncode != 0
    assert "lock" in done.stderr
    assert not await engine.table_exists(empty_db, "public.users")


# Sleeps only when the connection was opened with app.migration_sleep set, so
# the same file runs instantly on the retry.
SLOW_FILE = """{directive}CREATE TABLE killed_probe (id int);
SELECT pg_sleep(coalesce(nullif(current_setting('app.migration_sleep', true), ''), '0')::float);
CREATE TABLE after_sleep (id int);
"""


def _with_sleep(url: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote('-c app.migration_sleep=600')}"


async def _apply_and_kill(url: str, history: Path) -> subprocess.CompletedProcess[str]:
    """Apply with the slow file sleeping, and kill its backend until the run
    ends: outside a transaction database/sql retries a statement whose
    connection broke, so one kill may not be the last."""
    run = _start_apply(_with_sleep(url), history)
    conn = await asyncpg.connect(url)
    try:
        database = await conn.fetchval("SELECT current_database()")
        kills = 0
        for _ in range(2400):
            if run.poll() is not None:
                break
            kills += await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%'",
                database,
            )
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    out, err = run.communicate(timeout=120)
    assert kills > 0, "the migration never reached its pg_sleep"
    return subprocess.CompletedProcess(run.args, run.returncode, out, err)


async def test_killed_backend_rolls_the_file_back_and_the_next_apply_finishes(
    empty_db: str, tmp_path: Path
) -> None:
    history = engine.copy_history(tmp_path)
    slow = engine.add_migration(history, "slow", SLOW_FILE.format(directive=""))
    killed = await _apply_and_kill(empty_db, history)
    assert killed.returncode != 0
    assert slow in killed.stderr
    assert "This file was rolled back" in killed.stderr, killed.stderr

    assert not await engine.table_exists(empty_db, "public.killed_probe")
    recorded = {r["version"]: r for r in await engine.revisions(empty_db)}
    for name in engine.history_files():  # the files before it stay applied
        version = name.split("_", 1)[0]
        assert recorded[version]["applied"] == recorded[version]["total"]
    failed = recorded[slow.split("_", 1)[0]]
    assert failed["applied"] == 0
    assert failed["error"]

    finished = engine.apply(empty_db, history)
    assert finished.returncode == 0, engine.output(finished)
    assert await engine.table_exists(empty_db, "public.after_sleep")
    assert migrate.current_version(empty_db, history) == (
        f"OK {engine.latest_version(history)}"
    )


async def test_without_a_transaction_the_kill_leaves_half_a_file(
    empty_db: str, tmp_path: Path
) -> None:
    """The rollback above is the transaction's doing: the same file marked
    `atlas:txmode none` keeps the statement that ran before the kill."""
    history = engine.copy_history(tmp_path)
    engine.add_migration(
        history, "slow", SLOW_FILE.format(directive="-- atlas:txmode none\n\n")
    )
    killed = await _apply_and_kill(empty_db, history)
    assert killed.returncode != 0
    assert "resumes at this one" in killed.stderr, killed.stderr
    assert "rolled back" not in killed.stderr
    assert await engine.table_exists(empty_db, "public.killed_probe")
