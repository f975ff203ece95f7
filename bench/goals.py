"""The goals, checked against ratios measured in the same run: benchmarks,
not timed tests (a missed goal is reported, the run does not fail).

Retired (docs/benchmarks.md, "Goals"): (d) ≥ 3x the SQLAlchemy ORM (d/b)
on every request, and (d) ≥ 1.4x Core `text()` (d/c) on the agent-state
save. (d) runs the statements (a) runs, and more, so d/b cannot pass a/b
and d/c cannot pass a/c; the runs measured a/b at 2.1-2.8x on get, the
changed put and the save (on listings 3.1-3.4x, which the d/a goals on them
now state in the form that can be met) and a/c at 1.3x on the save. A goal
no code can meet on the machine says nothing about the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.timing import Stat

# Request workloads (bench/requests.py): ratio of (d) the repositories over
# (a) raw asyncpg in a transaction (the generated statements, no RLS), (c)
# SQLAlchemy Core text(), or (h) the hand-written stack (its own SQL, RLS).
REQUEST_TARGETS: dict[str, dict[str, float]] = {
    "get": {"d/a": 0.9, "d/c": 1.4},
    "put_unchanged": {"d/a": 0.7, "d/c": 1.4, "d/h": 1.2},
    "put_changed": {"d/a": 0.7, "d/c": 1.4},
    "cas_save": {"d/a": 0.7},
    "list_first": {"d/a": 0.85, "d/c": 1.4},
    "list_deep": {"d/a": 0.85, "d/c": 1.4},
}

# Writers of one project (bench/writers.py, around_sync.py, mixed.py).
GOAL_WRITERS = 16  # the N the writers' goals are judged at
ONE_OVER_SPREAD = 0.9  # one project's rate / the same writers spread
ONE_OVER_HAND = 0.8  # one project's rate, (d) / (h)
ONE_P99_OVER_HAND = 1.5  # one project's p99, (d) / (h)
AROUND_SYNC_P99_OVER_HAND = 2.0  # puts' p99 around a sync, (d) / (h)
MIXED_OVER_HAND = 0.85  # the mixed load's rate, (d) / (h)

# File history and checkpoints (bench/history.py).
CHECKPOINT_LARGE_OVER_SMALL = 2.0  # create's time, 10,000 files / 10
RESTORE_OVER_SYNC = 2.0  # restore 1 % changed / the same files.sync
STORED_OVER_DISTINCT = 1.2  # 100 checkpoints' bytes / distinct contents'
PUT_OVER_HAND_WITH_HISTORY = 0.9  # put of new content, (d) / (h), same schema
BINARY_GET_OVER_RAW = 0.9  # binary files.get, (d) / (a)


@dataclass(frozen=True)
class Goal:
    name: str
    at_least: bool  # True: ratio >= target; False: ratio <= target
    target: float
    ratio: Stat

    @property
    def met(self) -> bool:
        """Judged on the median of the per-round ratios."""
        return self._holds(self.ratio.median)

    @property
    def every_round(self) -> bool:
        worst = self.ratio.min if self.at_least else self.ratio.max
        return self._holds(worst)

    def _holds(self, value: float) -> bool:
        return value >= self.target if self.at_least else value <= self.target

    @property
    def target_text(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.target:g}x"

    @property
    def margin(self) -> float:
        """Median over target, oriented so that ≥ 1 means met."""
        median = self.ratio.median
        return median / self.target if self.at_least else self.target / median

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Goal:
        """The inverse of as_dict (a summary JSON read back)."""
        target = str(data["target"])
        at_least = target.startswith("≥")
        return cls(data["name"], at_least, float(target[2:-1]), Stat(**data["ratio"]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target_text,
            "ratio": self.ratio.as_dict(),
            "met": self.met,
            "every_round": self.every_round,
        }


def request_goals(
    labels: dict[str, str], ratios: dict[str, dict[str, Stat]]
) -> list[Goal]:
    """The request workloads' goals (workload label: ratio ≥ target)."""
    return [
        Goal(f"{labels[workload]}: {key}", True, target, ratios[workload][key])
        for workload, targets in REQUEST_TARGETS.items()
        for key, target in targets.items()
    ]


def writer_goals(
    writer_ratios: dict[str, dict[str, Stat]],
    around_ratios: dict[str, Stat],
    around_label: str,
    mixed_ratios: dict[str, Stat],
    mixed_label: str,
) -> list[Goal]:
    """The goals of many writers: one project against spread and against
    the hand-written stack, around a sync, and the mixed load."""
    at = writer_ratios[str(GOAL_WRITERS)]
    n = GOAL_WRITERS
    return [
        Goal(
            f"{n} writers, one project / spread (d)",
            True,
            ONE_OVER_SPREAD,
            at["one/spread (d)"],
        ),
        Goal(f"{n} writers, one project: d/h", True, ONE_OVER_HAND, at["d/h one"]),
        Goal(
            f"{n} writers, one project: p99 d/h",
            False,
            ONE_P99_OVER_HAND,
            at["p99 d/h one"],
        ),
        Goal(
            f"{around_label}: put p99 d/h",
            False,
            AROUND_SYNC_P99_OVER_HAND,
            around_ratios["p99 d/h"],
        ),
        Goal(f"{mixed_label}: d/h", True, MIXED_OVER_HAND, mixed_ratios["d/h"]),
    ]


def history_goals(part: dict[str, Any]) -> list[Goal]:
    """The goals of file history and checkpoints, from that part of the
    summary (bench/history.py, summarise)."""
    checkpoint, restore = part["checkpoint"], part["restore"]
    text = part["storage"]["text"]
    ratios = part["writes"]["ratios"]
    files = checkpoint["files"]
    changed = text["changed_per_checkpoint"] / text["files"]
    return [
        Goal(
            f"checkpoint: {files['large']:,}-file / {files['small']:,}-file project",
            False,
            CHECKPOINT_LARGE_OVER_SMALL,
            checkpoint["large/small"],
        ),
        Goal(
            f"restore {restore['changed']:,} of {restore['files']:,} files / same sync",
            False,
            RESTORE_OVER_SYNC,
            restore["restore/sync"],
        ),
        Goal(
            f"{text['checkpoints']} checkpoints, {changed:.0%} changed: "
            "bytes / contents'",
            False,
            STORED_OVER_DISTINCT,
            text["stored/distinct"],
        ),
        Goal(
            "put, history kept: d/h",
            True,
            PUT_OVER_HAND_WITH_HISTORY,
            ratios["put d/h"],
        ),
        Goal(
            "binary get (5 KB): d/a",
            True,
            BINARY_GET_OVER_RAW,
            ratios["binary get d/a"],
        ),
    ]
