"""The benchmark harness still runs: every stack, every workload, at tiny
sizes (`python -m bench --smoke`). The harness checks each request's outcome
itself (created/updated/unchanged, versions, sync counts), so a query change
that breaks one of the compared stacks fails here, not at the next
`nox -s bench`. The figures of a smoke run mean nothing: they are not read,
and the run judges no goal."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_bench

STACKS = {"a", "b", "c", "d", "h"}
METRICS = {"ops_per_s", "p50_ms", "p99_ms"}


def test_bench_smoke_run_completes(pg_admin_url: str, tmp_path: Path) -> None:
    result = run_bench(pg_admin_url, "--smoke", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "summary-smoke.json").read_text())
    assert summary["mode"] == "smoke"
    for workload, per_stack in summary["requests_ops_per_s"].items():
        assert set(per_stack) == STACKS, workload
    # The workloads of many writers ran every stack at every N and layout.
    writers = summary["writers"]["cells"]
    assert set(writers) == {"1", "16"}
    for n, layouts in writers.items():
        assert set(layouts) == {"one", "spread"}, n
        for layout, cells in layouts.items():
            assert set(cells) == {"retrying", "plain", "hand"}, (n, layout)
            assert all(set(cell) == METRICS for cell in cells.values())
    assert set(summary["around_sync"]["puts"]) == {"retrying", "hand"}
    assert set(summary["mixed"]["cells"]) == {"retrying", "hand"}
    assert (tmp_path / "chart-smoke.png").stat().st_size > 0
    # At toy sizes the ratios mean nothing: no goal is judged anywhere.
    printed = result.stdout + result.stderr
    for verdict in ("### Goals", "MISSED", "goals missed", "| met"):
        assert verdict not in printed, verdict
    assert "smoke run: no goal is judged" in result.stderr
    assert "goals" not in summary
    assert "Goals" not in (tmp_path / "tables-smoke.md").read_text()


def test_bench_stat_smoke_run_completes(pg_admin_url: str, tmp_path: Path) -> None:
    """`python -m bench stat --smoke`: every call of the stat workload runs
    and checks what it got back (the file's size); no goal is judged."""
    result = run_bench(pg_admin_url, "stat", "--smoke", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "stat-smoke.json").read_text())
    assert summary["mode"] == "smoke"
    assert set(summary["us_per_call"]) == {"stat_1b", "stat_4mib", "get_1b", "get_4mib"}
    assert summary["goal"]["met"] is False
    assert "goal" not in result.stdout
