"""`python -m bench history`: the history workloads (bench/history.py)
alone, their tables printed and written with their samples. Apart from
bench/history.py, which the report and the summary read."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict
from pathlib import Path

from bench import history, machine, report
from bench.config import FULL, QUICK, SMOKE, Sizes
from bench.goals import history_goals
from bench.summary import dicts_of
from devtools.database import resolve_url


def parse(argv: list[str]) -> tuple[Sizes, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m bench history", description=__doc__
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny data, one round: does it still run?"
    )
    parser.add_argument(
        "--out", type=Path, default=history.RESULTS, help="results folder"
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    return (SMOKE if args.smoke else QUICK if args.quick else FULL), args


def main(argv: list[str]) -> int:
    """This part alone: its tables printed and written with its samples."""
    sizes, args = parse(argv)
    clock = time.perf_counter()
    load_at_start = machine.load_average()
    samples, version = asyncio.run(history.run(resolve_url(), sizes, args.keep_db))
    part = history.summarise(samples)
    meta = {
        "mode": sizes.mode,
        "command": "nox -s bench -- history"
        + ("" if sizes.mode == "full" else f" --{sizes.mode}"),
        "machine": {
            **machine.describe(version),
            "load_average_at_start": load_at_start,
            "load_average_at_end": machine.load_average(),
        },
        "sizes": asdict(sizes),
        "duration_s": round(time.perf_counter() - clock, 1),
    }
    goals = history_goals(part) if sizes.judges_goals else []
    text = "\n".join(report.history_tables(part, sizes))
    if goals:
        text += "\n\n" + "\n".join(report.goals_rows(goals))
    text += "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if sizes.mode == "full" else f"-{sizes.mode}"
    written = args.out / f"history{suffix}.json"
    written.write_text(
        json.dumps(
            {
                **meta,
                "history": dicts_of(part),
                "goals": [goal.as_dict() for goal in goals],
                "samples": samples,
            },
            indent=1,
        )
        + "\n"
    )
    (args.out / f"history{suffix}.md").write_text(text)
    history.log(f"done in {meta['duration_s']} s; wrote {written}")
    return 0
