"""The footprint measurement behind docs/scaling.md still runs
(`python -m bench footprint`, here at a tiny size): the rows it counts are
the rows it wrote through the repositories. Its figures at this size mean
nothing and are not checked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_bench


def test_footprint_run_completes(pg_admin_url: str, tmp_path: Path) -> None:
    result = run_bench(
        pg_admin_url,
        "footprint",
        "--copies=1",
        "--empty-projects=3",
        "--saves=2",
        "--save-state-bytes=2048",
        f"--out={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads((tmp_path / "footprint.json").read_text())
    rows = {r["table"]: r["rows"] for r in figures["relations"]}
    files = figures["corpus"]["files"]
    # Content is stored once per project: at most one row per file and per
    # edit (the corpus repeats some files, e.g. empty __init__.py).
    contents = rows.pop("file_contents")
    assert 0 < contents <= files + 2
    assert rows == {
        "projects": 1 + 3,
        "project_files": files,
        "agent_states": 1,
        # A version per write: each file, then the two edits of one.
        "file_versions": files + 2,
        # The state saved with the files, then saved twice.
        "agent_state_versions": 1 + 2,
        "checkpoints": 0,
    }
    assert [w["operations"] for w in figures["wal"]] == [
        figures["corpus"]["files"],
        3,
        2,
        2,
    ]
    assert all(w["wal_bytes"] > 0 for w in figures["wal"])
    assert "| project_files |" in (tmp_path / "footprint.md").read_text()
