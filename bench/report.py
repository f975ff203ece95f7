"""The summary as Markdown tables: printed, and pasted into docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench import around_sync, history_labels, mixed, writers
from bench.config import Sizes
from bench.goals import Goal
from bench.requests import WORKLOADS
from bench.stacks import STACKS
from bench.summary import Summary, around_label, mixed_label
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
    names = ("d/a", "d/b", "d/c", "d/h", "a/b", "a/c")
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


def _ms(stat: Stat) -> str:
    return f"{stat.median:,.1f} ({stat.min:,.1f}-{stat.max:,.1f})"


def _cells_row(label: str, cell: dict[str, Stat]) -> list[str]:
    return [label, _ops(cell["ops_per_s"]), _ms(cell["p50_ms"]), _ms(cell["p99_ms"])]


CELL_HEADER = ["ops/s, median (min)", "p50 ms, median (min-max)", "p99 ms"]


def writers_table(summary: Summary) -> list[str]:
    part: dict[str, Any] = summary.writers
    rows = []
    for n, layouts in part["cells"].items():
        pool = part["pool_sizes"][n]
        for layout, label in writers.LAYOUTS.items():
            for stack, name in writers.VARIANTS.items():
                cell = layouts[layout][stack]
                rows.append([f"{n} (pool {pool})", label, *_cells_row(name, cell)])
    lines = _table(["writers", "projects", "stack", *CELL_HEADER], rows)
    ratio_names = list(next(iter(part["ratios"].values())))
    lines.append("")
    lines += _table(
        ["writers", *ratio_names],
        [
            [n, *(_ratio(row[name]) for name in ratio_names)]
            for n, row in part["ratios"].items()
        ],
    )
    return lines


def around_sync_table(summary: Summary) -> list[str]:
    part: dict[str, Any] = summary.around_sync
    rows = []
    for stack, name in around_sync.VARIANTS.items():
        syncs = part["syncs"][stack]
        rows.append(
            [
                *_cells_row(name, part["puts"][stack]),
                f"{syncs['count'].median:,.0f}",
                f"{syncs['median_ms'].median:,.0f}",
            ]
        )
    header = ["stack", *CELL_HEADER, "syncs a round", "ms a sync"]
    lines = _table(header, rows)
    lines.append("")
    lines += _table(
        ["ratio", "median (min-max)"],
        [[name, _ratio(stat)] for name, stat in part["ratios"].items()],
    )
    return lines


def mixed_table(summary: Summary) -> list[str]:
    part: dict[str, Any] = summary.mixed
    kinds = list(mixed.WEIGHTS)
    rows = []
    for stack, name in mixed.VARIANTS.items():
        row = _cells_row(name, part["cells"][stack])
        for kind in kinds:
            figures = part["kinds"][stack][kind]
            row.append(
                f"{figures['p50_ms'].median:,.1f} / {figures['p99_ms'].median:,.1f}"
                if figures
                else "-"
            )
        rows.append(row)
    header = ["stack", *CELL_HEADER, *(f"{k}: p50 / p99 ms" for k in kinds)]
    lines = _table(header, rows)
    lines.append("")
    lines += _table(
        ["ratio", "median (min-max)"],
        [[name, _ratio(stat)] for name, stat in part["ratios"].items()],
    )
    return lines


def history_tables(part: dict[str, Any], sizes: Sizes) -> list[str]:
    """File history and checkpoints (bench/history.py): its four tables."""
    cp, rs = part["checkpoint"], part["restore"]
    files = cp["files"]
    lines = [
        f"### Checkpoints: `checkpoints.create`, {sizes.checkpoint_ops} calls a "
        f"round on each project (alternating), {sizes.repeats} rounds; µs per "
        "call, median of the rounds' medians (min-max); the ratio per round",
        "",
        *_table(
            ["project", "µs per call"],
            [
                [f"{files[k]:,} files", _us(cp["us_per_call"][k])]
                for k in ("small", "large")
            ]
            + [["large / small", _ratio(cp["large/small"])]],
        ),
        "",
        f"### Restore: {rs['changed']:,} of {rs['files']:,} files changed since "
        "a checkpoint, back to it by `checkpoints.restore` and by the "
        f"`files.sync` of the whole tree as it was; {sizes.repeats} rounds, "
        "each from the same edited tree, in turn",
        "",
        *_table(
            ["call", "ms, median (min-max)"],
            [
                ["checkpoints.restore", _ms(rs["ms"]["restore"])],
                ["files.sync, the same change", _ms(rs["ms"]["sync"])],
                ["restore / sync", _ratio(rs["restore/sync"])],
            ],
        ),
        "",
    ]
    lines += storage_table(part["storage"])
    writes = part["writes"]
    lines += [
        "",
        f"### Writes with history kept, and a binary read: {sizes.ops} calls "
        f"of each a round, the puts' and the gets' interleaved, {sizes.repeats} "
        "rounds; each call a unit of work (new content every put); µs per "
        "call, median of the rounds' medians (min-max); ratios of speed "
        "(the other's time over this one's) per round",
        "",
        *_table(
            ["call", "µs per call"],
            [
                [label, _us(writes["us_per_call"][name])]
                for name, label in history_labels.WRITES.items()
            ],
        ),
        "",
        *_table(
            ["ratio", "median (min-max)"],
            [[name, _ratio(stat)] for name, stat in writes["ratios"].items()],
        ),
    ]
    return lines


def _us(stat: Stat) -> str:
    return f"{stat.median:,.0f} ({stat.min:,.0f}-{stat.max:,.0f})"


def storage_table(storage: dict[str, Any]) -> list[str]:
    first = next(iter(storage.values()))
    lines = [
        f"### Storage: {first['checkpoints']} checkpoints of a "
        f"{first['files']:,}-file project, {first['changed_per_checkpoint']:,} "
        "files changed before each but the first; growth of the tables "
        "(pg_total_relation_size after VACUUM ANALYZE: heap, TOAST, indexes, "
        "maps) against the distinct contents' bytes",
        "",
    ]
    kinds = [k for k in history_labels.STORAGE_KINDS if k in storage]
    header = ["", *(history_labels.STORAGE_KINDS[k] for k in kinds)]

    def mb(value: int) -> str:
        return f"{value / 1e6:,.1f}"

    rows = [
        ["distinct contents", *(f"{storage[k]['distinct_contents']:,}" for k in kinds)],
        ["their bytes, MB", *(mb(storage[k]["distinct_bytes"]) for k in kinds)],
        [
            "their bytes as stored (pg_column_size), MB",
            *(mb(storage[k]["content_column_bytes"]) for k in kinds),
        ],
        ["file versions", *(f"{storage[k]['file_versions']:,}" for k in kinds)],
    ]
    for table in history_labels.TABLES:
        rows.append(
            [
                f"{table}, MB (of it indexes)",
                *(
                    f"{mb(storage[k]['tables'][table]['total'])} "
                    f"({mb(storage[k]['tables'][table]['indexes'])})"
                    for k in kinds
                ),
            ]
        )
    rows += [
        ["all six, MB", *(mb(storage[k]["stored_bytes"]) for k in kinds)],
        [
            "stored / distinct bytes",
            *(f"{storage[k]['stored/distinct'].median:.2f}x" for k in kinds),
        ],
        ["build, s", *(f"{storage[k]['build_s']:,.0f}" for k in kinds)],
    ]
    return lines + _table(header, rows)


def goals_table(summary: Summary) -> list[str]:
    return goals_rows(summary.goals)


def goals_rows(goals: list[Goal]) -> list[str]:
    rows = [
        [
            goal.name,
            goal.target_text,
            _ratio(goal.ratio),
            ("met" if goal.met else "MISSED")
            + ("" if goal.every_round or not goal.met else " (not every round)"),
        ]
        for goal in goals
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
        "",
        f"### Writers of one project and spread: {sizes.writer_ops} puts a round "
        f"shared by the N writers, {sizes.writer_rounds} rounds; latency of "
        "each put (a unit of work), p50 and p99 per round, median (min-max) of "
        "the rounds; ratios per round",
        "",
        *writers_table(summary),
        "",
        f"### {around_label(summary.around_sync)}: {sizes.writer_ops} puts "
        f"a round, {sizes.writer_rounds} rounds, the sync running throughout",
        "",
        *around_sync_table(summary),
        "",
        f"### {mixed_label(summary.mixed)}, {summary.mixed['workers']} workers: "
        f"{sizes.writer_ops * 2} operations a round (put:get:list:save = "
        f"3:5:1:1), {sizes.writer_rounds} rounds",
        "",
        *mixed_table(summary),
    ]
    if summary.history is not None:
        lines += ["", *history_tables(summary.history, sizes)]
    if sizes.judges_goals:
        lines += ["", "### Goals", "", *goals_table(summary)]
    return "\n".join(lines) + "\n"
