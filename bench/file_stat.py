"""python -m bench stat: `uow.files.stat` of a 4 MiB file against a 1-byte
file, and `uow.files.get` of each for comparison, through the repositories
as a route calls them (one unit of work per call, logged in as app_login).

stat reads no content, so its cost must not grow with the file: the goal is
stat(4 MiB) within 1.2x of stat(1 byte), by the median of the per-round
ratios of median time per call. Within a round the two files' calls
alternate (small, large, large, small, ...), so a load that comes and goes
on a shared machine weighs on both alike. The 4 MiB content is base64 text
of random bytes, which does not compress: PostgreSQL stores it out of line
(TOAST), as a large source file or a generated one is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from bench import database, machine
from bench.timing import Op, Stat
from devtools.database import app_login_url, auth_login_url, redact, resolve_url
from repositories import Store

RESULTS = Path(__file__).resolve().parent / "results"
LARGE_BYTES = 4 * 1024 * 1024
SMALL_BYTES = 1
GOAL_RATIO = 1.2
WORKLOADS: dict[str, str] = {
    "stat_1b": "stat, 1-byte file",
    "stat_4mib": "stat, 4 MiB file",
    "get_1b": "get, 1-byte file",
    "get_4mib": "get, 4 MiB file",
}
# The pairs whose calls alternate within a round.
PAIRS = (("stat_1b", "stat_4mib"), ("get_1b", "get_4mib"))


@dataclass(frozen=True)
class Sizes:
    mode: str
    rounds: int
    stat_ops: int  # calls per round of each stat
    get_ops: int  # calls per round of each get (the large one moves 4 MiB)
    warmup_ops: int


FULL = Sizes("full", rounds=9, stat_ops=400, get_ops=20, warmup_ops=20)
QUICK = Sizes("quick", rounds=3, stat_ops=200, get_ops=10, warmup_ops=10)
SMOKE = Sizes("smoke", rounds=1, stat_ops=3, get_ops=1, warmup_ops=1)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def incompressible_text(size: int, seed: int) -> str:
    """`size` bytes of ASCII (base64 of random bytes), the same per seed."""
    raw = random.Random(seed).randbytes(size * 3 // 4 + 3)
    return base64.b64encode(raw).decode("ascii")[:size]


class Workloads:
    """The four calls, each checking what it got back."""

    def __init__(self, store: Store, user: UUID, project: UUID) -> None:
        self.store = store
        self.user = user
        self.project = project

    def ops(self) -> dict[str, Op]:
        return {
            "stat_1b": lambda: self.stat("small.txt", SMALL_BYTES),
            "stat_4mib": lambda: self.stat("large.txt", LARGE_BYTES),
            "get_1b": lambda: self.get("small.txt", SMALL_BYTES),
            "get_4mib": lambda: self.get("large.txt", LARGE_BYTES),
        }

    async def stat(self, path: str, size: int) -> None:
        async with self.store.unit_of_work(self.user) as uow:
            entry = await uow.files.stat(self.project, path)
        assert entry.size_bytes == size, entry

    async def get(self, path: str, size: int) -> None:
        async with self.store.unit_of_work(self.user) as uow:
            found = await uow.files.get(self.project, path)
        assert len(found.content) == size


async def measure(url: str, sizes: Sizes) -> dict[str, Any]:
    admin = await asyncpg.connect(url)
    try:
        user = await database.new_user(admin, "stat")
        project = await database.new_project(admin, user, "stat")
        version = await database.server_version(admin)
    finally:
        await admin.close()
    store = await Store.open(
        await app_login_url(url), auth_dsn=await auth_login_url(url), max_size=2
    )
    try:
        async with store.unit_of_work(user) as uow:
            await uow.files.put(project, "small.txt", "x")
            await uow.files.put(
                project, "large.txt", incompressible_text(LARGE_BYTES, 1)
            )
        ops = Workloads(store, user, project).ops()
        for name in WORKLOADS:  # warm-up: pool, statement cache, plans
            for _ in range(sizes.warmup_ops):
                await ops[name]()
        # workload -> one list per round of the median µs per call
        samples: dict[str, list[float]] = {name: [] for name in WORKLOADS}
        for round_ in range(sizes.rounds):
            for pair, count in zip(PAIRS, (sizes.stat_ops, sizes.get_ops), strict=True):
                timed = await alternating(ops, pair, count)
                for name, micros in timed.items():
                    samples[name].append(statistics.median(micros))
            log(f"stat: round {round_ + 1}/{sizes.rounds} done")
    finally:
        await store.close()
    return {"server_version": version, "us_per_call": samples}


async def alternating(
    ops: dict[str, Op], pair: tuple[str, str], count: int
) -> dict[str, list[float]]:
    """`count` calls of each of the pair, alternating, which first changing
    every time (a b b a a b ...); the µs each call took."""
    timed: dict[str, list[float]] = {name: [] for name in pair}
    gc.collect()
    for turn in range(count):
        for name in pair if turn % 2 == 0 else pair[::-1]:
            start = time.perf_counter()
            await ops[name]()
            timed[name].append((time.perf_counter() - start) * 1e6)
    return timed


def summarise(result: dict[str, Any], sizes: Sizes) -> dict[str, Any]:
    micros: dict[str, list[float]] = result["us_per_call"]
    ratios = [
        large / small
        for small, large in zip(micros["stat_1b"], micros["stat_4mib"], strict=True)
    ]
    ratio = Stat.of(ratios)
    return {
        "mode": sizes.mode,
        "us_per_call": {
            name: Stat.of(values).as_dict() for name, values in micros.items()
        },
        "stat_4mib_over_stat_1b": ratio.as_dict(),
        "goal": {
            "target": GOAL_RATIO,
            "met": sizes.mode != "smoke" and ratio.median <= GOAL_RATIO,
        },
    }


def render(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    rounds = meta["sizes"]["rounds"]
    lines = [
        f"PostgreSQL {meta['server_version']}; {meta['machine']['nproc']} CPUs; "
        f"{rounds} rounds, the two files' calls alternating; "
        f"load average {meta['load_average'][0]:.2f} at the start, "
        f"{meta['load_average'][1]:.2f} at the end",
        "",
        "| call | µs per call: median of the rounds' medians (min-max) |",
        "|---|---:|",
    ]
    for name, what in WORKLOADS.items():
        s = summary["us_per_call"][name]
        lines.append(
            f"| {what} | {s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f}) |"
        )
    r = summary["stat_4mib_over_stat_1b"]
    verdict = ""
    if summary["mode"] != "smoke":
        met = "met" if summary["goal"]["met"] else "MISSED"
        verdict = f"; goal ≤ {GOAL_RATIO}x: {met}"
    lines += [
        "",
        f"stat(4 MiB) / stat(1 byte), median time per call, per round: "
        f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f}){verdict}",
    ]
    return "\n".join(lines) + "\n"


def parse(argv: list[str]) -> tuple[Sizes, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m bench stat", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument(
        "--smoke", action="store_true", help="a few calls: does it still run?"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    return (SMOKE if args.smoke else QUICK if args.quick else FULL), args


async def run(sizes: Sizes, keep_db: bool) -> dict[str, Any]:
    db = await database.create(resolve_url())
    log(f"database {redact(db.url)}")
    try:
        return await measure(db.url, sizes)
    finally:
        if not keep_db:
            await db.drop()


def main(argv: list[str]) -> int:
    sizes, args = parse(argv)
    clock = time.perf_counter()
    load_at_start = machine.load_average()[0]
    result = asyncio.run(run(sizes, args.keep_db))
    meta = {
        "command": "nox -s bench -- stat"
        + ("" if sizes.mode == "full" else f" --{sizes.mode}"),
        "server_version": result["server_version"],
        "machine": machine.describe(result["server_version"]),
        "sizes": vars(sizes),
        "duration_s": round(time.perf_counter() - clock, 1),
        "load_average": [load_at_start, machine.load_average()[0]],
    }
    summary = summarise(result, sizes)
    text = render(summary, meta)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if sizes.mode == "full" else f"-{sizes.mode}"
    written = args.out / f"stat{suffix}.json"
    written.write_text(
        json.dumps({**meta, **summary, "samples": result["us_per_call"]}, indent=1)
        + "\n"
    )
    (args.out / f"stat{suffix}.md").write_text(text)
    log(f"done in {meta['duration_s']} s; wrote {written}")
    return 0
