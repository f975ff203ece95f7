"""One PNG: request throughput per stack, and each goal's margin."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.requests import WORKLOADS
from bench.stacks import STACKS
from bench.summary import Summary

COLOURS = {"a": "#9e9e9e", "b": "#e57373", "c": "#ffb74d", "d": "#1e88e5"}


def draw(summary: Summary, title: str, path: Path) -> None:
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [3, 2]}
    )
    stacks = [key for key in STACKS if key in summary.requests["get"]]
    width = 0.8 / len(stacks)
    for i, key in enumerate(stacks):
        xs = [w + i * width for w in range(len(WORKLOADS))]
        cells = [summary.requests[w][key] for w in WORKLOADS]
        medians = [c.median for c in cells]
        lows = [c.median - c.min for c in cells]
        left.bar(
            xs,
            medians,
            width,
            yerr=[lows, [0.0] * len(lows)],
            label=f"({key}) {STACKS[key]}",
            color=COLOURS[key],
            capsize=2,
        )
    left.set_xticks([w + 0.4 - width / 2 for w in range(len(WORKLOADS))])
    left.set_xticklabels(
        [
            label.replace(": ", ":\n").replace(", ", ",\n").replace(" (", "\n(")
            for label in WORKLOADS.values()
        ],
        fontsize=8,
    )
    left.set_ylabel("requests/s (median; whisker to min)")
    left.set_title("One request each: acquire, begin, work, commit, release")
    left.legend(fontsize=8)

    goals = summary.goals
    names = [goal.name for goal in goals]
    margins = [goal.margin for goal in goals]
    colours = ["#43a047" if goal.met else "#e53935" for goal in goals]
    right.barh(range(len(goals)), margins, color=colours)
    right.axvline(1.0, color="black", linewidth=1)
    right.set_yticks(range(len(goals)))
    right.set_yticklabels(names, fontsize=7)
    right.invert_yaxis()
    right.set_xlim(0, max(2.0, *margins) * 1.05)
    right.set_xlabel("median / target (≥ 1: goal met)")
    right.set_title("Goals")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
