"""One PNG: request throughput per stack, and each goal's margin (a smoke
run, which judges no goal, draws the throughput only). The PNG's Title text
chunk names the run, so a committed chart can be matched to its summary."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.requests import WORKLOADS
from bench.stacks import STACKS
from bench.summary import Summary

COLOURS = {
    "a": "#9e9e9e",
    "b": "#e57373",
    "c": "#ffb74d",
    "d": "#1e88e5",
    "h": "#6d4c41",
}


def title(meta: dict[str, Any]) -> str:
    """The chart's title, from a run's metadata (as in its summary JSON)."""
    return (
        f"{meta['mode']} run {meta['started_at']}, {meta['machine']['nproc']} CPUs, "
        f"PostgreSQL {meta['machine']['postgresql']}"
    )


def draw(summary: Summary, title: str, path: Path, *, goals: bool = True) -> None:
    if goals:
        fig, (left, middle, right) = plt.subplots(
            1, 3, figsize=(20, 6.5), gridspec_kw={"width_ratios": [3, 2, 2]}
        )
    else:
        fig, (left, middle) = plt.subplots(
            1, 2, figsize=(14, 6.5), gridspec_kw={"width_ratios": [3, 2]}
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

    _writers(summary, middle)

    if goals:
        judged = summary.goals
        names = [goal.name for goal in judged]
        margins = [goal.margin for goal in judged]
        colours = ["#43a047" if goal.met else "#e53935" for goal in judged]
        right.barh(range(len(judged)), margins, color=colours)
        right.axvline(1.0, color="black", linewidth=1)
        right.set_yticks(range(len(judged)))
        right.set_yticklabels(names, fontsize=7)
        right.invert_yaxis()
        right.set_xlim(0, max(2.0, *margins) * 1.05)
        right.set_xlabel("median / target (≥ 1: goal met)")
        right.set_title("Goals")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Title": title})
    plt.close(fig)


# (stack, layout) -> line style of the writers panel.
WRITER_LINES = {
    ("retrying", "one"): ("d", "-", "(d) store.retrying, one project"),
    ("retrying", "spread"): ("d", ":", "(d) store.retrying, spread"),
    ("hand", "one"): ("h", "-", "(h) hand-written, one project"),
    ("hand", "spread"): ("h", ":", "(h) hand-written, spread"),
}


def _writers(summary: Summary, axes: Any) -> None:
    """Puts per second against N writers: in one project and spread."""
    cells = summary.writers["cells"]
    counts = list(cells)
    xs = range(len(counts))
    for (stack, layout), (key, style, label) in WRITER_LINES.items():
        rates = [cells[n][layout][stack]["ops_per_s"].median for n in counts]
        axes.plot(xs, rates, style, marker="o", color=COLOURS[key], label=label)
    axes.set_xticks(list(xs))
    axes.set_xticklabels(counts)
    axes.set_xlabel("writers (a path each, a unit of work per put)")
    axes.set_ylabel("puts/s (median of the rounds)")
    axes.set_title("Writers: one project or spread")
    axes.legend(fontsize=8)


def title_of(png: Path) -> str | None:
    """The Title text chunk of a PNG this module drew (None: there is none)."""
    data = png.read_bytes()
    offset = 8  # the PNG signature
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"tEXt":
            key, _, text = body.partition(b"\0")
            if key == b"Title":
                return text.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            if key == b"Title":
                return zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            if key == b"Title":
                compressed, rest = rest[0], rest[2:]
                _language, _, rest = rest.partition(b"\0")
                _translated, _, text = rest.partition(b"\0")
                raw = zlib.decompress(text) if compressed else text
                return raw.decode("utf-8")
    return None
