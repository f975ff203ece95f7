"""Sizes of a run: --quick for development, full for the published figures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    mode: str
    list_files: int  # files in each stack's listing project
    sync_files: int  # files in one sync
    repeats: int  # rounds of the request workloads (every stack once a round)
    ops: int  # requests timed per stack, workload and round
    concurrency_ops: int  # requests per concurrency measurement
    sync_repeats: int
    loop_repeats: int  # the per-file put loops are slow: fewer rounds of them
    deep_fraction: float = 0.9
    file_bytes: int = 5 * 1024
    state_bytes: int = 10 * 1024
    sync_avg_bytes: int = 2 * 1024
    sync_changed_fraction: float = 0.01
    tasks: int = 32
    pool_size: int = 8
    warmup_ops: int = 20
    # Many writers (bench/writers.py, around_sync.py, mixed.py): rounds, and
    # operations timed per stack and round (shared by the workers).
    writer_rounds: int = 5
    writer_ops: int = 800
    writer_counts: tuple[int, ...] = (1, 4, 16, 64)
    around_sync_files: int = 1_000
    around_sync_writers: int = 8
    mixed_projects: int = 50
    mixed_workers: int = 16
    mixed_files: int = 120  # files of each mixed-load project (a listing fills)
    # File history and checkpoints (bench/history.py): the project sizes the
    # goals name, calls timed per project and round, the storage build.
    history_files: int = 10_000
    history_small_files: int = 10
    checkpoint_ops: int = 200
    storage_files: int = 10_000
    storage_checkpoints: int = 100
    source_bytes: int = 4 * 1024  # each source-like file of those projects

    @property
    def judges_goals(self) -> bool:
        """A smoke run's sizes are toys: its ratios say nothing about the goals."""
        return self.mode != "smoke"

    @property
    def deep_index(self) -> int:
        """How many files come before the deep page."""
        return int(self.list_files * self.deep_fraction)


QUICK = Sizes(
    mode="quick",
    list_files=10_000,
    sync_files=1_000,
    repeats=3,
    ops=200,
    concurrency_ops=600,
    sync_repeats=3,
    loop_repeats=2,
    writer_rounds=3,
    writer_ops=400,
    checkpoint_ops=100,
)

FULL = Sizes(
    mode="full",
    list_files=100_000,
    sync_files=10_000,
    repeats=9,
    ops=400,
    concurrency_ops=2_000,
    sync_repeats=5,
    loop_repeats=3,
)

# Seconds, not minutes: proves every stack and workload still runs (and that
# the harness's own outcome checks pass); its figures mean nothing.
SMOKE = Sizes(
    mode="smoke",
    list_files=1_200,  # the deep page (90 %) still needs 100 files after it
    sync_files=40,
    repeats=1,
    ops=3,
    concurrency_ops=64,
    sync_repeats=1,
    loop_repeats=1,
    warmup_ops=1,
    writer_rounds=1,
    writer_ops=12,
    writer_counts=(1, 16),  # 16: the writers' goals are judged there
    around_sync_files=40,
    around_sync_writers=2,
    mixed_projects=3,
    mixed_workers=4,
    mixed_files=100,  # one listing page exactly
    history_files=60,
    checkpoint_ops=3,
    storage_files=50,
    storage_checkpoints=3,
)
