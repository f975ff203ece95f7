"""The summary as Markdown tables: printed, and pasted into docs/benchmarks.md."""

from __future__ import annotations

from bench.config import Sizes
from bench.requests import WORKLOADS
from bench.stacks import STACKS
from bench.summary import Summary
from bench.sync import KINDS
from bench.timing import Stat


def _ops(stat: Stat) -> str:
    return f"{stat.median:,.0f} ({stat.min:,.0f})"


def _ratio(stat: Stat) -> str:
    return f"{stat.median:.2f}x ({stat.min:.2f}-{stat.max:.2f})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def requests_table(summary: Summary) -> list[str]:
    stacks = [key for key in STACKS if key in summary.requests["get"]]
    names = ("d/a", "d/b", "d/c", "a/b", "a/c")
    header = ["workload", *(f"({k}) {STACKS[k]}" for k in stacks), *names]
    rows = []
    for workload, label in WORKLOADS.items():
        cells = summary.requests[workload]
        ratios = summary.request_ratios[workload]
        rows.append(
            [
                label,
                *(_ops(cells[k]) for k in stacks),
                *(_ratio(ratios[r]) if r in ratios else "-" for r in names),
            ]
        )
    depth = [
        "deep page time / first page time",
        *(_ratio(summary.depth[k]) for k in stacks),
    ]
    rows.append(depth + [""] * len(names))
    return _table(header, rows)


def concurrency_table(summary: Summary) -> list[str]:
    rows = [
        [
            f"({key}) {STACKS[key]}",
            _ops(cells["pool"]),
            _ops(cells["single"]),
            _ratio(cells["ratio"]),
        ]
        for key, cells in summary.concurrency.items()
    ]
    header = ["stack", "32 tasks, pool of 8", "32 tasks, one connection", "ratio"]
    return _table(header, rows)


def sync_table(summary: Summary) -> list[str]:
    mb = summary.payload_bytes / 1e6
    rows = []
    for kind, label in KINDS.items():
        stat = summary.sync_seconds[kind]
        rows.append(
            [
                label,
                f"{stat.median * 1000:,.0f} ({stat.min * 1000:,.0f})",
                f"{summary.sync_files / stat.median:,.0f}",
                f"{mb / stat.median:,.1f}",
            ]
        )
    header = ["run", "ms, median (min)", "files/s", "MB/s"]
    lines = _table(header, rows)
    lines.append("")
    lines += _table(
        ["ratio", "median (min-max)"],
        [[name, _ratio(stat)] for name, stat in summary.sync_ratios.items()],
    )
    lines.append("")
    peaks = ", ".join(
        f"{kind} {peak / 1e6:,.1f} MB ({peak / summary.payload_bytes:.2f}x payload)"
        for kind, peak in summary.peak_bytes.items()
    )
    lines.append(
        f"Payload {summary.sync_files:,} files, {mb:,.1f} MB; "
        f"peak Python allocation during the call (tracemalloc): {peaks}."
    )
    return lines


def goals_table(summary: Summary) -> list[str]:
    rows = [
        [
            goal.name,
            goal.target_text,
            _ratio(goal.ratio),
            ("met" if goal.met else "MISSED")
            + ("" if goal.every_round or not goal.met else " (not every round)"),
        ]
        for goal in summary.goals
    ]
    return _table(["goal", "target", "median (min-max)", "result"], rows)


def render(summary: Summary, sizes: Sizes) -> str:
    lines = [
        f"### Requests: ops/s, median (min) of {sizes.repeats} rounds x {sizes.ops} "
        "requests; ratios are per round, median (min-max); a/b and a/c, the "
        "floor over b and c, bound what d/b and d/c can reach",
        "",
        *requests_table(summary),
        "",
        f"### Concurrency: get file, {sizes.concurrency_ops:,} requests by "
        f"{sizes.tasks} tasks, ops/s median (min) of {sizes.repeats} rounds",
        "",
        *concurrency_table(summary),
        "",
        f"### Sync: {summary.sync_files:,} files, {sizes.sync_repeats} rounds "
        f"({sizes.loop_repeats} for the put loops)",
        "",
        *sync_table(summary),
    ]
    if sizes.judges_goals:
        lines += ["", "### Goals", "", *goals_table(summary)]
    return "\n".join(lines) + "\n"
