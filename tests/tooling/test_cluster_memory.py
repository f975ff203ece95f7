"""Throwaway clusters (devtools.cluster: the test workers' servers, compat's,
Citus's nodes) live in a RAM-backed directory where the machine has one
with room, with a smaller WAL there; elsewhere under the system temp dir."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import asyncpg
import pytest

from devtools import cluster


async def _setting(url: str, name: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        value: str = await conn.fetchval(f"SHOW {name}")
        return value
    finally:
        await conn.close()


def test_a_disk_file_system_is_not_taken_for_memory() -> None:
    assert not cluster._is_tmpfs(Path("/"))


def test_memory_without_room_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "MEMORY_MIN_FREE", 1 << 62)
    assert cluster.memory_dir() is None


def test_without_memory_the_cluster_goes_to_the_temp_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cluster, "MEMORY_MIN_FREE", 1 << 62)
    with cluster.throwaway_cluster(prefix="on-disk-pg-") as made:
        assert made.root.parent == Path(tempfile.gettempdir())
        assert asyncio.run(_setting(made.url(), "max_wal_size")) == "1GB"
    assert not made.root.exists()


def test_with_memory_the_cluster_goes_there_with_a_smaller_wal() -> None:
    memory = cluster.memory_dir()
    if memory is None:
        pytest.skip("this machine has no RAM-backed directory with room")
    with cluster.throwaway_cluster(prefix="in-memory-pg-") as made:
        assert made.root.parent == memory
        assert made.data.is_relative_to(memory)
        assert asyncio.run(_setting(made.url(), "max_wal_size")) == "256MB"
    assert not made.root.exists()
