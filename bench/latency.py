"""Many workers at once: throughput over the whole run and the latency of
each operation (p50, p99), per round, for the workloads of many writers."""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bench.timing import Stat, paired

# One cell's figures, one value per round.
METRICS = ("ops_per_s", "p50_ms", "p99_ms")


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile `q` (0-100) of `values`."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


@dataclass(frozen=True)
class Run:
    ops_per_s: float
    seconds: list[float]  # each operation's

    @property
    def p50_ms(self) -> float:
        return percentile(self.seconds, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.seconds, 99) * 1000


async def drive(workers: int, total: int, op: Callable[[int], Awaitable[None]]) -> Run:
    """`workers` tasks share `total` calls of `op(worker index)`, each
    taking the next call as it finishes one; every call timed."""
    remaining = total
    seconds: list[float] = []

    async def worker(index: int) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            await op(index)
            seconds.append(time.perf_counter() - start)

    gc.collect()
    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return Run(total / (time.perf_counter() - start), seconds)


@dataclass
class Series:
    """One cell's figures over the rounds (JSON: a dict of lists)."""

    ops_per_s: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)

    def add(self, run: Run) -> None:
        self.ops_per_s.append(run.ops_per_s)
        self.p50_ms.append(run.p50_ms)
        self.p99_ms.append(run.p99_ms)

    def as_dict(self) -> dict[str, list[float]]:
        return {m: list(getattr(self, m)) for m in METRICS}


Cell = dict[str, list[float]]  # metric -> one value per round


def cell_stats(cell: Cell) -> dict[str, Stat]:
    return {metric: Stat.of(cell[metric]) for metric in METRICS}


def ratio(top: Cell, bottom: Cell, metric: str) -> Stat:
    """Per-round ratio of one metric of two cells measured in the same rounds."""
    return Stat.of(paired(top[metric], bottom[metric]))
