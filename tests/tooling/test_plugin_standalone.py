"""The plugin's tests run from plugin/ alone: its own pytest settings and
conftest.py, no project module on the path (no tools/, no conftest.py of the
project), the server from TEST_DATABASE_URL; without it they fail, saying
how to give one, rather than skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools import PROJECT_ROOT

PLUGIN = PROJECT_ROOT / "plugin"
# Small, and it needs everything: sqlc, ruff, mypy and a database.
TEST_FILE = "tests/test_names.py"
NO_SERVER = "TEST_DATABASE_URL is not set: the plugin's tests need a PostgreSQL server"


def plugin_pytest(
    test_database_url: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    """pytest in plugin/, with none of the project's additions to the
    environment (tools/ on PYTHONPATH, the server of this run)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "TEST_DATABASE_URL"}
    }
    if test_database_url is not None:
        env["TEST_DATABASE_URL"] = test_database_url
    # The console script, not `python -m`, which would put plugin/ on sys.path.
    pytest = Path(sys.executable).parent / "pytest"
    return subprocess.run(
        [str(pytest), "-p", "no:cacheprovider", "--rootdir", str(PLUGIN), *args],
        cwd=PLUGIN,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_plugin_tests_pass_on_their_own(pg_admin_url: str) -> None:
    done = plugin_pytest(pg_admin_url, TEST_FILE)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert f"rootdir: {PLUGIN}" in output
    assert "configfile: pyproject.toml" in output
    assert " passed" in done.stdout.splitlines()[-1]
    assert "skipped" not in done.stdout.splitlines()[-1]


def test_plugin_tests_without_a_server_fail_saying_how_to_give_one() -> None:
    done = plugin_pytest(None, "-q", f"{TEST_FILE}::test_runs")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 error" in done.stdout.splitlines()[-1]
    assert NO_SERVER in done.stdout
    assert "skipped" not in done.stdout
