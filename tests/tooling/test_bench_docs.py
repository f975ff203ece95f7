"""docs/benchmarks.md opens with the goals of the latest full run, met and
missed, each with its figure, shows the chart of that run, committed next
to it (docs/benchmarks.png), and ends with that run's figures (the machine
and every table); all agree with bench/results/summary.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import chart, publish
from bench.summary import Summary

SCREEN_LINES = 50


def test_the_docs_summary_and_chart_match_the_latest_full_run() -> None:
    assert publish.problems() == []


def test_the_page_opens_with_the_summary_and_shows_the_chart() -> None:
    lines = publish.DOC.read_text().splitlines()
    begin, end = lines.index(publish.BEGIN), lines.index(publish.END)
    assert lines[0] == "# Benchmarks"
    assert begin <= 2
    assert end < SCREEN_LINES, "the summary does not fit on one screen"
    data = json.loads(publish.SUMMARY.read_text())
    block = "\n".join(lines[begin : end + 1])
    for goal in data["goals"]:
        row = next(line for line in block.splitlines() if f"| {goal['name']} |" in line)
        assert f"{goal['ratio']['median']:.2f}x" in row
    met = sum(goal["met"] for goal in data["goals"])
    assert f"**Met ({met})**" in block
    assert f"**Missed ({len(data['goals']) - met})**" in block
    assert any(
        line.startswith("![") and line.endswith("](benchmarks.png)")
        for line in lines[end:]
    )


def test_a_stale_summary_or_chart_is_named(tmp_path: Path) -> None:
    data = json.loads(publish.SUMMARY.read_text())
    data["goals"][0]["ratio"]["median"] += 1.0
    changed = tmp_path / "summary.json"
    changed.write_text(json.dumps(data))
    # The figures end with the goals' table, so they differ too.
    assert publish.problems(summary=changed) == [
        "benchmarks.md: the summary block differs from summary.json",
        "benchmarks.md: the figures differ from summary.json",
    ]

    data = json.loads(publish.SUMMARY.read_text())
    data["mixed"]["cells"]["hand"]["ops_per_s"]["median"] += 1.0
    changed.write_text(json.dumps(data))
    assert publish.problems(summary=changed) == [
        "benchmarks.md: the figures differ from summary.json"
    ]

    other_run = dict(json.loads(publish.SUMMARY.read_text()))
    other_run["started_at"] = "2000-01-01T00:00:00+00:00"
    png = tmp_path / "benchmarks.png"
    chart.draw(Summary.from_dict(other_run), chart.title(other_run), png)
    (found,) = publish.problems(png=png)
    assert found.startswith("benchmarks.png is not the chart of 'full run ")


def data_of_summary() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(publish.SUMMARY.read_text())
    return loaded


def test_publish_writes_all_three(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nThe rest of the page.\n")
    png = tmp_path / "benchmarks.png"
    publish.publish(doc=doc, png=png)
    assert publish.problems(doc=doc, png=png) == []
    text = doc.read_text()
    assert text.startswith(f"# Benchmarks\n\n{publish.BEGIN}\n")
    rest = "The rest of the page.\n\n## Latest figures\n\n"
    assert text.endswith(f"{rest}{publish.figures_block(data_of_summary())}\n")
    publish.publish(doc=doc, png=png)  # a second run changes nothing
    assert doc.read_text() == text
