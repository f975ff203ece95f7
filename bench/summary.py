"""From raw samples to the summary: min/median per cell, paired ratios, goals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import concurrency, history, requests
from bench.goals import Goal, history_goals, request_goals, writer_goals
from bench.latency import cell_stats, ratio
from bench.sync import KINDS, SyncResults
from bench.timing import Stat, paired

# d against each stack; a against b and c: the ceiling of d/b and d/c, since
# (d) runs the same statements as (a) and does more besides.
RATIOS = (("d", "a"), ("d", "b"), ("d", "c"), ("d", "h"), ("a", "b"), ("a", "c"))


def stats_of(tree: Any) -> Any:
    """A JSON tree with {min, median, max} leaves, the leaves as Stat."""
    if isinstance(tree, dict):
        if set(tree) == {"min", "median", "max"}:
            return Stat(**tree)
        return {key: stats_of(value) for key, value in tree.items()}
    return tree


def dicts_of(tree: Any) -> Any:
    """The inverse of stats_of."""
    if isinstance(tree, Stat):
        return tree.as_dict()
    if isinstance(tree, dict):
        return {key: dicts_of(value) for key, value in tree.items()}
    return tree


@dataclass(frozen=True)
class Summary:
    requests: dict[str, dict[str, Stat]]  # workload -> stack -> ops/s
    request_ratios: dict[str, dict[str, Stat]]  # workload -> "d/x" -> ratio
    depth: dict[str, Stat]  # stack -> deep page time / first page time
    concurrency: dict[str, dict[str, Stat]]  # stack -> pool | single | ratio
    sync_seconds: dict[str, Stat]
    sync_ratios: dict[str, Stat]
    sync_files: int
    payload_bytes: int
    peak_bytes: dict[str, int]
    # The workloads of many writers: JSON trees whose leaves are Stat
    # (bench/writers.py, around_sync.py, mixed.py; see many_writers).
    writers: dict[str, Any]
    around_sync: dict[str, Any]
    mixed: dict[str, Any]
    goals: list[Goal]
    # File history and checkpoints (bench/history.py, summarise); None in
    # the summary of a run from before that part existed.
    history: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        """The inverse of as_dict: a summary JSON (bench/results/) read back."""

        def table(cells: dict[str, dict[str, Any]]) -> dict[str, dict[str, Stat]]:
            return {
                k: {s: Stat(**v) for s, v in row.items()} for k, row in cells.items()
            }

        sync = data["sync"]
        return cls(
            requests=table(data["requests_ops_per_s"]),
            request_ratios=table(data["request_ratios"]),
            depth={k: Stat(**v) for k, v in data["deep_over_first_page_time"].items()},
            concurrency=table(data["concurrency_ops_per_s"]),
            sync_seconds={k: Stat(**v) for k, v in sync["seconds"].items()},
            sync_ratios={k: Stat(**v) for k, v in sync["ratios"].items()},
            sync_files=sync["files"],
            payload_bytes=sync["payload_bytes"],
            peak_bytes=sync["peak_python_bytes"],
            writers=stats_of(data["writers"]),
            around_sync=stats_of(data["around_sync"]),
            mixed=stats_of(data["mixed"]),
            goals=[Goal.from_dict(goal) for goal in data.get("goals", [])],
            history=stats_of(data["history"]) if "history" in data else None,
        )

    def as_dict(self) -> dict[str, Any]:
        def table(cells: dict[str, dict[str, Stat]]) -> dict[str, Any]:
            return {
                k: {s: v.as_dict() for s, v in row.items()} for k, row in cells.items()
            }

        part = {} if self.history is None else {"history": dicts_of(self.history)}
        return {
            "requests_ops_per_s": table(self.requests),
            "request_ratios": table(self.request_ratios),
            "deep_over_first_page_time": {
                k: v.as_dict() for k, v in self.depth.items()
            },
            "concurrency_ops_per_s": table(self.concurrency),
            "sync": {
                "files": self.sync_files,
                "payload_bytes": self.payload_bytes,
                "seconds": {k: v.as_dict() for k, v in self.sync_seconds.items()},
                "ratios": {k: v.as_dict() for k, v in self.sync_ratios.items()},
                "peak_python_bytes": self.peak_bytes,
            },
            "writers": dicts_of(self.writers),
            "around_sync": dicts_of(self.around_sync),
            "mixed": dicts_of(self.mixed),
            **part,
            "goals": [goal.as_dict() for goal in self.goals],
        }


def _request_parts(
    samples: requests.Samples,
) -> tuple[dict[str, dict[str, Stat]], dict[str, dict[str, Stat]], dict[str, Stat]]:
    cells = {w: {s: Stat.of(v) for s, v in row.items()} for w, row in samples.items()}
    ratios: dict[str, dict[str, Stat]] = {}
    for workload, row in samples.items():
        ratios[workload] = {
            f"{top}/{bottom}": Stat.of(paired(row[top], row[bottom]))
            for top, bottom in RATIOS
            if top in row and bottom in row
        }
    depth = {
        stack: Stat.of(
            paired(samples["list_first"][stack], samples["list_deep"][stack])
        )
        for stack in samples["list_first"]
    }
    return cells, ratios, depth


def _sync_ratios(results: SyncResults) -> dict[str, Stat]:
    t = results.seconds
    return {
        "put_loop/sync_initial": Stat.of(paired(t["put_loop"], t["sync_initial"])),
        "put_requests/sync_initial": Stat.of(
            paired(t["put_requests"], t["sync_initial"])
        ),
        "sync_initial/copy_floor": Stat.of(paired(t["sync_initial"], t["copy_floor"])),
        "sync_initial/sync_changed": Stat.of(
            paired(t["sync_initial"], t["sync_changed"])
        ),
        "raw_sync_initial/raw_sync_changed": Stat.of(
            paired(t["raw_sync_initial"], t["raw_sync_changed"])
        ),
        "sync_initial/raw_sync_initial": Stat.of(
            paired(t["sync_initial"], t["raw_sync_initial"])
        ),
    }


def _goals(
    ratios: dict[str, dict[str, Stat]],
    depth: dict[str, Stat],
    sync_ratios: dict[str, Stat],
    memory: Stat,
    concurrency_ratio: Stat,
) -> list[Goal]:
    goals = request_goals(requests.WORKLOADS, ratios)
    goals += [
        Goal("deep page / first page time (d)", False, 1.5, depth["d"]),
        Goal(
            "initial sync vs per-file loop",
            True,
            20.0,
            sync_ratios["put_loop/sync_initial"],
        ),
        Goal(
            "initial sync / COPY floor",
            False,
            3.0,
            sync_ratios["sync_initial/copy_floor"],
        ),
        Goal(
            "1 %-changed re-sync speed-up",
            True,
            5.0,
            sync_ratios["sync_initial/sync_changed"],
        ),
        Goal("sync peak memory / payload", False, 3.0, memory),
        Goal("32 tasks: pool of 8 / one connection (d)", True, 1.5, concurrency_ratio),
    ]
    return goals


def _writers(samples: dict[str, Any]) -> dict[str, Any]:
    """Per N: each cell's figures, and the ratios of the same rounds."""
    cells: dict[str, Any] = {}
    ratios: dict[str, dict[str, Stat]] = {}
    for n, layouts in samples["cells"].items():
        cells[n] = {
            layout: {stack: cell_stats(cell) for stack, cell in row.items()}
            for layout, row in layouts.items()
        }
        one, spread = layouts["one"], layouts["spread"]
        ratios[n] = {
            "one/spread (d)": ratio(one["retrying"], spread["retrying"], "ops_per_s"),
            "one/spread (d, unit_of_work)": ratio(
                one["plain"], spread["plain"], "ops_per_s"
            ),
            "one/spread (h)": ratio(one["hand"], spread["hand"], "ops_per_s"),
            "d/h one": ratio(one["retrying"], one["hand"], "ops_per_s"),
            "d/h spread": ratio(spread["retrying"], spread["hand"], "ops_per_s"),
            "p99 d/h one": ratio(one["retrying"], one["hand"], "p99_ms"),
            "p99 d/h spread": ratio(spread["retrying"], spread["hand"], "p99_ms"),
        }
    return {"pool_sizes": samples["pool_sizes"], "cells": cells, "ratios": ratios}


def _around_sync(samples: dict[str, Any]) -> dict[str, Any]:
    puts = samples["puts"]
    d, h = puts["retrying"], puts["hand"]
    return {
        "pool_size": samples["pool_size"],
        "files": samples["files"],
        "writers": samples["writers"],
        "puts": {stack: cell_stats(cell) for stack, cell in puts.items()},
        "syncs": {
            stack: {k: Stat.of(v) for k, v in row.items()}
            for stack, row in samples["syncs"].items()
        },
        "ratios": {
            "d/h": ratio(d, h, "ops_per_s"),
            "p50 d/h": ratio(d, h, "p50_ms"),
            "p99 d/h": ratio(d, h, "p99_ms"),
        },
    }


def _mixed(samples: dict[str, Any]) -> dict[str, Any]:
    cells = samples["cells"]
    d, h = cells["retrying"], cells["hand"]
    return {
        "pool_size": samples["pool_size"],
        "projects": samples["projects"],
        "workers": samples["workers"],
        "cells": {stack: cell_stats(cell) for stack, cell in cells.items()},
        "kinds": {
            stack: {
                kind: {m: Stat.of(v) for m, v in figures.items() if v}
                for kind, figures in row.items()
            }
            for stack, row in samples["kinds"].items()
        },
        "ratios": {
            "d/h": ratio(d, h, "ops_per_s"),
            "p50 d/h": ratio(d, h, "p50_ms"),
            "p99 d/h": ratio(d, h, "p99_ms"),
        },
    }


def around_label(around: dict[str, Any]) -> str:
    return f"{around['writers']} writers around a {around['files']:,}-file sync"


def mixed_label(mixed: dict[str, Any]) -> str:
    return f"mixed load, {mixed['projects']} projects"


def summarize(
    request_samples: requests.Samples,
    concurrency_samples: concurrency.Samples,
    sync_results: SyncResults,
    many: dict[str, Any],
    history_samples: dict[str, Any],
) -> Summary:
    """`many`: the samples of bench.writers, around_sync and mixed, under
    those names; `history_samples`, those of bench.history."""
    cells, ratios, depth = _request_parts(request_samples)
    conc = {
        stack: {
            "pool": Stat.of(row["pool"]),
            "single": Stat.of(row["single"]),
            "ratio": Stat.of(paired(row["pool"], row["single"])),
        }
        for stack, row in concurrency_samples.items()
    }
    sync_seconds = {kind: Stat.of(v) for kind, v in sync_results.seconds.items() if v}
    sync_ratios = _sync_ratios(sync_results)
    payload = sync_results.payload_bytes
    memory = Stat.of([max(sync_results.peak_bytes.values()) / payload])
    goals = _goals(ratios, depth, sync_ratios, memory, conc["d"]["ratio"])
    writers = _writers(many["writers"])
    around = _around_sync(many["around_sync"])
    mixed = _mixed(many["mixed"])
    goals += writer_goals(
        writers["ratios"],
        around["ratios"],
        around_label(around),
        mixed["ratios"],
        mixed_label(mixed),
    )
    history_part = history.summarise(history_samples)
    goals += history_goals(history_part)
    assert set(sync_seconds) == set(KINDS)
    return Summary(
        requests=cells,
        request_ratios=ratios,
        depth=depth,
        concurrency=conc,
        sync_seconds=sync_seconds,
        sync_ratios=sync_ratios,
        sync_files=sync_results.files,
        payload_bytes=payload,
        peak_bytes=sync_results.peak_bytes,
        writers=writers,
        around_sync=around,
        mixed=mixed,
        goals=goals,
        history=history_part,
    )
