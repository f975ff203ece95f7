"""The benchmark harness still runs: every stack, every workload, at tiny
sizes (`python -m bench --smoke`). The harness checks each request's outcome
itself (created/updated/unchanged, versions, sync counts), so a query change
that breaks one of the compared stacks fails here, not at the next
`nox -s bench`. The figures of a smoke run mean nothing: they are not read,
and the run judges no goal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import history_labels

from tests.support import run_bench

STACKS = {"a", "b", "c", "d", "h"}
METRICS = {"ops_per_s", "p50_ms", "p99_ms"}
STAT = {"min", "median", "max"}


def check_history(part: dict[str, Any]) -> None:
    """The smoke sizes' history part: each workload ran (and checked its
    outcomes as it went: restore and sync counts, contents stored once)."""
    assert part["checkpoint"]["files"] == {"small": 10, "large": 60}
    assert set(part["checkpoint"]["large/small"]) == STAT
    assert part["restore"]["files"] == 60
    assert part["restore"]["changed"] == 1
    assert set(part["restore"]["ms"]) == {"restore", "sync"}
    assert set(part["storage"]) == set(history_labels.STORAGE_KINDS)
    for kind, built in part["storage"].items():
        # 50 files, then 1 changed before each of the 2 checkpoints after
        # the first: 52 contents, each one version.
        assert built["distinct_contents"] == 52, kind
        assert built["file_versions"] == 52, kind
        assert set(built["tables"]) == set(history_labels.TABLES), kind
        assert built["stored_bytes"] > 0, kind
        assert set(built["stored/distinct"]) == STAT, kind
    assert set(part["writes"]["us_per_call"]) == set(history_labels.WRITES)
    assert set(part["writes"]["ratios"]) == {
        "put d/h",
        "put h/h flat",
        "put d/h flat",
        "binary get d/a",
    }


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
    # File history and checkpoints (bench/history.py) ran, in full.
    check_history(summary["history"])
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


def test_bench_history_smoke_run_completes(pg_admin_url: str, tmp_path: Path) -> None:
    """`python -m bench history --smoke`: the part of file history and
    checkpoints alone, its tables written; no goal is judged."""
    result = run_bench(pg_admin_url, "history", "--smoke", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads((tmp_path / "history-smoke.json").read_text())
    assert written["mode"] == "smoke"
    check_history(written["history"])
    assert written["goals"] == []
    tables = (tmp_path / "history-smoke.md").read_text()
    assert "### Storage" in tables
    for verdict in ("MISSED", "| met"):
        assert verdict not in result.stdout, verdict
