"""The default run refuses a deselected test whose fixtures do not resolve
(devtools.collection_guard): the mistake that kept `nox -s soak` broken
unseen — a parametrize mark left on a helper above the soak test — fails
`nox -s tests` now, not only the long runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT

SOAK_TEST = """
import pytest

pytestmark = pytest.mark.soak


{helper_mark}def helper() -> str:
    return "url"


{test_mark}def test_restarts(mode: str) -> None:
    assert mode in ("fast", "immediate")

"""
MARK = '@pytest.mark.parametrize("mode", ["fast", "immediate"])\n'
INI = """[pytest]
markers = soak: long runs
addopts = -p devtools.collection_guard -m "not soak"
asyncio_default_fixture_loop_scope = function
"""
PLAIN_TEST = """
def test_plain() -> None:
    assert 1 + 1 == 2
"""


def run_default(
    tmp_path: Path, *, mark_on_helper: bool
) -> subprocess.CompletedProcess[str]:
    """pytest as the default run calls it (soak deselected) on a one-file
    suite whose parametrize mark sits on the helper or on the test."""
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "test_soak.py").write_text(
        SOAK_TEST.format(
            helper_mark=MARK if mark_on_helper else "",
            test_mark="" if mark_on_helper else MARK,
        )
    )
    (tmp_path / "test_plain.py").write_text(PLAIN_TEST)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "tools")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_soak_test_with_a_lost_parametrisation_fails_the_default_run(
    tmp_path: Path,
) -> None:
    result = run_default(tmp_path, mark_on_helper=True)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, (
        result.stdout + result.stderr
    )
    assert "test_soak.py::test_restarts: fixture 'mode' not found" in result.stderr


def test_the_same_suite_with_the_mark_in_place_passes(tmp_path: Path) -> None:
    result = run_default(tmp_path, mark_on_helper=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 deselected" in result.stdout
