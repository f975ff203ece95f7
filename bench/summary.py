"""From raw samples to the summary: min/median per cell, paired ratios, goals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import concurrency, requests
from bench.goals import Goal
from bench.sync import KINDS, SyncResults
from bench.timing import Stat, paired

TARGETS = {"d/b": 3.0, "d/c": 1.4, "d/a": 0.7}
# d against each stack; a against b and c: the ceiling of d/b and d/c, since
# (d) runs the same statements as (a) and does more besides.
RATIOS = (("d", "a"), ("d", "b"), ("d", "c"), ("a", "b"), ("a", "c"))


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
    goals: list[Goal]

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
            goals=[Goal.from_dict(goal) for goal in data.get("goals", [])],
        )

    def as_dict(self) -> dict[str, Any]:
        def table(cells: dict[str, dict[str, Stat]]) -> dict[str, Any]:
            return {
                k: {s: v.as_dict() for s, v in row.items()} for k, row in cells.items()
            }

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
    goals: list[Goal] = []
    for workload, label in requests.WORKLOADS.items():
        for key, target in TARGETS.items():
            if key in ratios[workload]:
                goals.append(
                    Goal(f"{label}: {key}", True, target, ratios[workload][key])
                )
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


def summarize(
    request_samples: requests.Samples,
    concurrency_samples: concurrency.Samples,
    sync_results: SyncResults,
) -> Summary:
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
        goals=goals,
    )
