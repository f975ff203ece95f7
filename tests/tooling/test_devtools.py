"""Clear one-line errors instead of tracebacks for a bad or dead DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys

from devtools import PROJECT_ROOT


def _check(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT / "tools")}
    return subprocess.run(
        [sys.executable, "-m", "devtools.database", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stopped_server_gives_one_line_error() -> None:
    result = _check("postgres://app:secret@127.0.0.1:1/app")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: cannot connect to postgres://app:***@127.0.0.1:1/app"
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert "secret" not in result.stderr


def test_malformed_url_gives_one_line_error() -> None:
    result = _check("mysql://root@localhost/db")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: not a PostgreSQL URL: 'mysql://root@localhost/db' "
        "(expected postgres://user@host:port/db)"
    )


def test_reachable_server_reports_its_version(pg_admin_url: str) -> None:
    result = _check(pg_admin_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("PostgreSQL ")
