"""A parallel run (`nox -s tests`: pytest-xdist's workers) gives each worker
a server of its own: the first the run's, every other a throwaway cluster of
the same major version, stopped when the run ends (devtools.workers). Two
workers on one server collide where migrations/ alter its roles."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from devtools import PROJECT_ROOT

# Every worker runs it (`--dist each`) and writes down its server.
RECORD_THE_SERVER = """
import asyncio, json, os, pathlib

import asyncpg


async def version(url):
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SHOW server_version_num"))
    finally:
        await conn.close()


def test_record_the_server():
    url = os.environ["TEST_DATABASE_URL"]
    record = {"url": url, "version": asyncio.run(version(url))}
    worker = os.environ["PYTEST_XDIST_WORKER"]
    (pathlib.Path(__file__).parent / f"{worker}.json").write_text(json.dumps(record))
"""


async def _version(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SHOW server_version_num"))
    finally:
        await conn.close()


def test_each_worker_has_a_server_of_its_own(pg_admin_url: str, tmp_path: Path) -> None:
    (tmp_path / "test_record.py").write_text(RECORD_THE_SERVER)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "devtools.workers",
            "-n",
            "3",
            "--dist",
            "each",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_record.py"),
        ],
        cwd=tmp_path,
        env={
            **os.environ,
            "TEST_DATABASE_URL": pg_admin_url,
            "PYTHONPATH": str(PROJECT_ROOT / "tools"),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    seen = {
        worker: json.loads((tmp_path / f"{worker}.json").read_text())
        for worker in ("gw0", "gw1", "gw2")
    }
    assert seen["gw0"]["url"] == pg_admin_url
    assert len({record["url"] for record in seen.values()}) == 3, seen
    # One PostgreSQL under test: every worker's server is the run's major.
    run_version = asyncio.run(_version(pg_admin_url))
    assert {record["version"] // 10000 for record in seen.values()} == {
        run_version // 10000
    }, seen
    # The workers' own clusters are gone with the run.
    for worker in ("gw1", "gw2"):
        with pytest.raises(ConnectionRefusedError):
            asyncio.run(_version(seen[worker]["url"]))
