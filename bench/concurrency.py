"""32 tasks making get-file requests: on a pool of 8 connections, and on one."""

from __future__ import annotations

import asyncio
import gc
import sys
import time

from bench.config import Sizes
from bench.database import Fixture
from bench.stacks import Stack, open_stack

Samples = dict[str, dict[str, list[float]]]  # stack -> "pool" | "single" -> ops/s


async def throughput(stack: Stack, fx: Fixture, tasks: int, total: int) -> float:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            assert await stack.get_file(fx, fx.get_path) > 0

    gc.collect()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return total / (time.perf_counter() - start)


async def run(
    url: str, stacks: dict[str, Stack], fixtures: dict[str, Fixture], sizes: Sizes
) -> Samples:
    singles = {key: await open_stack(key, url, 1) for key in stacks}
    try:
        samples: Samples = {key: {"pool": [], "single": []} for key in stacks}
        for key, stack in stacks.items():  # warm-up: fill every pool
            fx = fixtures[key]
            await throughput(stack, fx, sizes.tasks, sizes.tasks * 4)
            await throughput(singles[key], fx, sizes.tasks, sizes.tasks)
        for repeat in range(sizes.repeats):
            for key, stack in stacks.items():
                fx, total = fixtures[key], sizes.concurrency_ops
                pooled = await throughput(stack, fx, sizes.tasks, total)
                single = await throughput(singles[key], fx, sizes.tasks, total)
                samples[key]["pool"].append(pooled)
                samples[key]["single"].append(single)
            print(
                f"  concurrency: round {repeat + 1}/{sizes.repeats} done",
                file=sys.stderr,
            )
        return samples
    finally:
        for single_stack in singles.values():
            await single_stack.close()
