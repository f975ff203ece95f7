"""The opening summary of docs/benchmarks.md, its section of figures (the
machine and every table) and the chart next to them (docs/benchmarks.png),
all from the summary of the latest full run, which is committed as
bench/results/summary.json.

    python -m bench.publish           write all three
    python -m bench.publish --check   exit 1 when any is out of step

(`python -m bench publish [--check]`, `nox -s bench -- publish`, the same.)
A full `nox -s bench` run publishes itself; a test runs the check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench import chart, report
from bench.config import Sizes
from bench.goals import Goal
from bench.summary import Summary

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SUMMARY = RESULTS / "summary.json"
DOCS = BENCH.parent / "docs"
DOC = DOCS / "benchmarks.md"
CHART = DOCS / "benchmarks.png"
BEGIN = (
    "<!-- summary: written by `python -m bench.publish` from "
    "bench/results/summary.json (the latest full run); do not edit -->"
)
END = "<!-- end of summary -->"
FIGURES_BEGIN = (
    "<!-- figures: written by `python -m bench.publish` from "
    "bench/results/summary.json (the latest full run); do not edit -->"
)
FIGURES_END = "<!-- end of figures -->"


def _figure(goal: Goal) -> str:
    ratio = goal.ratio
    text = f"{ratio.median:.2f}x ({ratio.min:.2f}-{ratio.max:.2f})"
    if goal.met and not goal.every_round:
        text += ", not every round"
    return text


def _table(goals: list[Goal]) -> list[str]:
    rows = [f"| {g.name} | {g.target_text} | {_figure(g)} |" for g in goals]
    return ["| goal | target | median (min-max) |", "|---|---|---|", *rows]


def summary_block(data: dict[str, Any]) -> str:
    """The block between BEGIN and END: goals met and missed, each with its
    figure, for the run `data` (a summary JSON) describes."""
    if data.get("mode") != "full":
        raise ValueError("only a full run's summary is published")
    goals = Summary.from_dict(data).goals
    met = [g for g in goals if g.met]
    missed = [g for g in goals if not g.met]
    machine = data["machine"]
    lines = [
        BEGIN,
        "",
        f"Latest full run: `{data['command']}`, {data['started_at'][:10]}, "
        f"{data['duration_s']:.0f} s, {machine['nproc']} CPUs, "
        f"PostgreSQL {machine['postgresql']}. "
        f"**{len(met)} of {len(goals)} goals met, {len(missed)} missed.** "
        "A figure is the median of the per-round ratios (min-max); d/a, d/c "
        "and d/h compare (d) the repositories with (a) raw asyncpg running "
        "the generated statements, (c) SQLAlchemy Core `text()` and (h) "
        "SQL written by hand with row-level security and no project lock.",
        "",
        f"**Met ({len(met)})**",
        "",
        *_table(met),
        "",
        f"**Missed ({len(missed)})**",
        "",
        *_table(missed),
        "",
        END,
    ]
    return "\n".join(lines)


def _machine(data: dict[str, Any]) -> list[str]:
    machine = data["machine"]
    load = (
        f"1-minute load average {machine['load_average_at_start'][0]:.2f} at the "
        f"start, {machine['load_average_at_end'][0]:.2f} at the end"
        if machine.get("load_average_at_start") and machine.get("load_average_at_end")
        else "not recorded"
    )
    return [
        "| | |",
        "|---|---|",
        f"| CPU | {machine['cpu_model']}, `nproc` = {machine['nproc']} |",
        f"| memory | {machine['memory_gib']} GiB |",
        f"| PostgreSQL | {machine['postgresql']} |",
        f"| Python | {machine['python']}; asyncpg {machine['asyncpg']}, "
        f"SQLAlchemy {machine['sqlalchemy']}, pydantic {machine['pydantic']} |",
        f"| load | {load} |",
        f"| run | `{data['command']}` ({data['mode']}), {data['started_at']}, "
        f"{data['duration_s']:.0f} s |",
    ]


def sizes_of(data: dict[str, Any]) -> Sizes:
    fields = dict(data["sizes"])
    fields["writer_counts"] = tuple(fields["writer_counts"])
    return Sizes(**fields)


def figures_block(data: dict[str, Any]) -> str:
    """The block between FIGURES_BEGIN and FIGURES_END: the machine and
    every table of the run `data` describes."""
    if data.get("mode") != "full":
        raise ValueError("only a full run's figures are published")
    tables = report.render(Summary.from_dict(data), sizes_of(data))
    lines = [
        FIGURES_BEGIN,
        "",
        f"Full run of {data['started_at'][:10]}, on this machine:",
        "",
        *_machine(data),
        "",
        tables.rstrip("\n"),
        "",
        FIGURES_END,
    ]
    return "\n".join(lines)


def _current_block(doc: str, begin: str = BEGIN, end: str = END) -> str | None:
    start = doc.find(begin)
    stop = doc.find(end)
    if start < 0 or stop < start:
        return None
    return doc[start : stop + len(end)]


def problems(summary: Path = SUMMARY, doc: Path = DOC, png: Path = CHART) -> list[str]:
    """What is out of step with the summary (empty: nothing)."""
    data = json.loads(summary.read_text())
    found: list[str] = []
    text = doc.read_text()
    if _current_block(text) != summary_block(data):
        found.append(f"{doc.name}: the summary block differs from {summary.name}")
    if _current_block(text, FIGURES_BEGIN, FIGURES_END) != figures_block(data):
        found.append(f"{doc.name}: the figures differ from {summary.name}")
    if not png.exists():
        found.append(f"{png.name} is missing")
    elif chart.title_of(png) != chart.title(data):
        found.append(
            f"{png.name} is not the chart of {chart.title(data)!r} "
            f"(it is of {chart.title_of(png)!r})"
        )
    return found


def publish(summary: Path = SUMMARY, doc: Path = DOC, png: Path = CHART) -> None:
    data = json.loads(summary.read_text())
    text = doc.read_text()
    current = _current_block(text)
    block = summary_block(data)
    if current is None:
        # First publication: the block goes right under the title line.
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{block}\n{rest}"
    else:
        text = text.replace(current, block)
    figures = figures_block(data)
    current = _current_block(text, FIGURES_BEGIN, FIGURES_END)
    if current is None:
        # First publication: the figures go at the end of the page.
        text = f"{text.rstrip()}\n\n## Latest figures\n\n{figures}\n"
    else:
        text = text.replace(current, figures)
    doc.write_text(text)
    chart.draw(Summary.from_dict(data), chart.title(data), png)


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        found = problems()
        for problem in found:
            print(f"{problem}: run `python -m bench.publish`", file=sys.stderr)
        return 1 if found else 0
    if argv:
        print("usage: python -m bench.publish [--check]", file=sys.stderr)
        return 2
    publish()
    print(f"wrote {DOC.name} (summary, figures) and {CHART.name} from {SUMMARY.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
