"""src/repositories/_generated/ is exactly what sqlc and the plugin produce from
queries/ and schema.sql: `sqlc diff` exits non-zero when a generated file was edited or the
SQL changed without `nox -s generate`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from devtools import PROJECT_ROOT


def _sqlc_diff(cwd: Path) -> subprocess.CompletedProcess[str]:
    sqlc = shutil.which("sqlc") or str(Path(sys.executable).parent / "sqlc")
    return subprocess.run(
        [sqlc, "diff"], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_generated_code_matches_sources() -> None:
    result = _sqlc_diff(PROJECT_ROOT)
    assert result.returncode == 0, (
        f"src/repositories/_generated/ drifted; run `nox -s generate`:\n{result.stdout}{result.stderr}"
    )


def test_drift_is_detected(tmp_path: Path) -> None:
    for name in ("sqlc.yaml", "schema.sql"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    shutil.copytree(PROJECT_ROOT / "queries", tmp_path / "queries")
    generated = Path("src", "repositories", "_generated")
    shutil.copytree(PROJECT_ROOT / generated, tmp_path / generated)
    edited = tmp_path / generated / "models.py"
    edited.write_text(edited.read_text() + "\n# edited by hand\n")
    result = _sqlc_diff(tmp_path)
    assert result.returncode != 0
    assert "models.py" in result.stdout + result.stderr
