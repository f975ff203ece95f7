"""Timing helpers and the min/median/max of repeated samples."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

Op = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Stat:
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        return cls(min(values), statistics.median(values), max(values))

    def as_dict(self) -> dict[str, float]:
        return {"min": self.min, "median": self.median, "max": self.max}


async def rate(op: Op, count: int) -> float:
    """Run `op` `count` times one after another; operations per second."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(count):
        await op()
    return count / (time.perf_counter() - start)


async def seconds(op: Op) -> float:
    gc.collect()
    start = time.perf_counter()
    await op()
    return time.perf_counter() - start


def paired(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    """Per-repeat ratios of two series measured side by side."""
    return [t / b for t, b in zip(top, bottom, strict=False)]
