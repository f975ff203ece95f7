"""python -m bench [--quick]: run every workload, print the tables, write
bench/results/ (JSON with every sample, summary JSON, PNG chart, Markdown);
a full run also publishes itself to docs/benchmarks.md (bench/publish.py).
python -m bench footprint: disk and WAL per row instead (bench/footprint.py).
python -m bench stat: files.stat of a 4 MiB and a 1-byte file, and get of
each, instead (bench/file_stat.py).
python -m bench history [--quick | --smoke]: only the workloads of file
history and checkpoints (bench/history.py), which every run ends with.
python -m bench publish [--check]: docs/benchmarks.md and its chart from the
committed summary of the latest full run, again (bench/publish.py)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import (
    around_sync,
    chart,
    concurrency,
    database,
    file_stat,
    footprint,
    history,
    history_cli,
    machine,
    mixed,
    publish,
    report,
    requests,
    sync,
    writers,
)
from bench.config import FULL, QUICK, SMOKE, Sizes
from bench.stacks import STACKS, Stack, open_stack
from bench.stacks.raw import RawStack
from bench.stacks.repo import RepoStack
from bench.summary import Summary, summarize
from devtools.database import redact, resolve_url

RESULTS = publish.RESULTS


def parse(argv: list[str] | None) -> tuple[Sizes, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small data, few rounds (~1 minute)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny data, one round: does it still run?"
    )
    parser.add_argument("--repeats", type=int, help="rounds of the request workloads")
    parser.add_argument(
        "--ops", type=int, help="requests per stack, workload and round"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--keep-db", action="store_true", help="keep the benchmark database"
    )
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL
    if args.repeats:
        sizes = dataclasses.replace(sizes, repeats=args.repeats)
    if args.ops:
        sizes = dataclasses.replace(sizes, ops=args.ops)
    return sizes, args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def measure(url: str, sizes: Sizes) -> tuple[dict[str, Any], str]:
    """Seed, run every phase, and return (raw results, server version)."""
    admin = await asyncpg.connect(url)
    stacks: dict[str, Stack] = {}
    try:
        await database.require_bypass_rls(admin)
        log("seeding: one user and projects per stack")
        fixtures = {key: await database.seed(admin, key, sizes) for key in STACKS}
        await sync.create_copy_table(admin)
        await database.settle(admin)
        version = await database.server_version(admin)
        for key in STACKS:
            stacks[key] = await open_stack(key, url, sizes.pool_size)
        log("requests: a, b, c, d, h in turn, every round")
        request_samples = await requests.run(stacks, fixtures, sizes)
        log("concurrency: 32 tasks on a pool of 8, then on one connection")
        concurrency_samples = await concurrency.run(url, stacks, fixtures, sizes)
        log(f"sync: {sizes.sync_files:,} files")
        raw, repo = stacks["a"], stacks["d"]
        assert isinstance(raw, RawStack)
        assert isinstance(repo, RepoStack)
        sync_results = await sync.run(admin, raw, repo, fixtures, sizes)
        for stack in stacks.values():
            await stack.close()
        stacks.clear()
        counts = ", ".join(str(n) for n in sizes.writer_counts)
        log(f"writers: N = {counts}, one project and spread; a pool of N each")
        writer_samples = await writers.run(url, admin, sizes)
        log(f"writers around a sync of {sizes.around_sync_files:,} files")
        around_samples = await around_sync.run(url, admin, sizes)
        log(
            f"mixed load: {sizes.mixed_projects} projects, {sizes.mixed_workers} workers"
        )
        mixed_samples = await mixed.run(url, admin, sizes)
    finally:
        for stack in stacks.values():
            await stack.close()
        await admin.close()
    raw_results = {
        "requests": request_samples,
        "concurrency": concurrency_samples,
        "sync": dataclasses.asdict(sync_results),
        "writers": writer_samples,
        "around_sync": around_samples,
        "mixed": mixed_samples,
    }
    return raw_results, version


async def run(
    admin_url: str, sizes: Sizes, keep_db: bool
) -> tuple[dict[str, Any], str]:
    db = await database.create(admin_url)
    log(f"database {redact(db.url)}")
    try:
        results, version = await measure(db.url, sizes)
    finally:
        if not keep_db:
            await db.drop()
    # Databases of its own: what the workloads above left weighs on none of it.
    results["history"], _ = await history.run(admin_url, sizes, keep_db)
    return results, version


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["footprint"]:
        return footprint.main(arguments[1:])
    if arguments[:1] == ["stat"]:
        return file_stat.main(arguments[1:])
    if arguments[:1] == ["history"]:
        return history_cli.main(arguments[1:])
    if arguments[:1] == ["publish"]:
        return publish.main(arguments[1:])
    sizes, args = parse(arguments)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    log(f"mode {sizes.mode}")
    admin_url = resolve_url()
    load_at_start = machine.load_average()
    results, version = asyncio.run(run(admin_url, sizes, args.keep_db))
    info = machine.describe(version)
    info["load_average_at_start"] = load_at_start
    info["load_average_at_end"] = machine.load_average()
    summary = summarize(
        results["requests"],
        results["concurrency"],
        sync.SyncResults(**results["sync"]),
        {key: results[key] for key in ("writers", "around_sync", "mixed")},
        results["history"],
    )
    meta = {
        "mode": sizes.mode,
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - clock, 1),
        "command": "nox -s bench" + (" -- --quick" if sizes.mode == "quick" else ""),
        "machine": info,
        "sizes": dataclasses.asdict(sizes),
    }
    text = report.render(summary, sizes)
    print(text)
    write(args.out, sizes, meta, summary, results, text)
    if not sizes.judges_goals:
        log(f"done in {meta['duration_s']} s (smoke run: no goal is judged)")
        return 0
    failed = [goal.name for goal in summary.goals if not goal.met]
    log(
        f"done in {meta['duration_s']} s; goals missed: {len(failed)}/{len(summary.goals)}"
    )
    return 0


def write(
    out: Path,
    sizes: Sizes,
    meta: dict[str, Any],
    summary: Summary,
    results: dict[str, Any],
    text: str,
) -> None:
    """run-MODE-TIME.json (every sample), summary[-MODE].json, tables and chart."""
    summary_dict = summary.as_dict()
    if not sizes.judges_goals:
        del summary_dict["goals"]
    out.mkdir(parents=True, exist_ok=True)
    stamp = meta["started_at"].replace(":", "").replace("+0000", "Z")
    suffix = "" if sizes.mode == "full" else f"-{sizes.mode}"
    run_file = out / f"run-{sizes.mode}-{stamp}.json"
    run_file.write_text(
        json.dumps({**meta, "summary": summary_dict, "samples": results}, indent=1)
        + "\n"
    )
    summary_file = out / f"summary{suffix}.json"
    summary_file.write_text(json.dumps({**meta, **summary_dict}, indent=1) + "\n")
    (out / f"tables{suffix}.md").write_text(text)
    png = out / f"chart{suffix}.png"
    chart.draw(summary, chart.title(meta), png, goals=sizes.judges_goals)
    log(f"wrote {run_file}, {summary_file}, {png}")
    if sizes.mode == "full" and summary_file == publish.SUMMARY:
        # The committed summary changed: the docs' summary and chart follow.
        publish.publish()
        log(f"published to {publish.DOC} and {publish.CHART}")
