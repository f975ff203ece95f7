"""A test run says once which PostgreSQL server it uses, with the password
masked, and why (TEST_DATABASE_URL, a container or the embedded server); the
runner of `nox -s tests` hands that server to pytest as TEST_DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

from devtools import PROJECT_ROOT
from devtools.database import redact

PASSWORD = "pw-that-must-not-show"


def with_password(url: str) -> str:
    """The URL with a password: its own, or one the server ignores (the
    embedded server trusts loopback connections)."""
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    user = parts.username or "postgres"
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{user}:{PASSWORD}@{host}").geturl()


def test_the_run_names_its_server_once_with_the_password_masked(
    pg_admin_url: str,
) -> None:
    url = with_password(pg_admin_url)
    password = urlsplit(url).password
    assert password
    done = subprocess.run(
        # Two tests that both use the server: still one line.
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/codegen/test_erd_drift.py",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "TEST_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = [
        line
        for line in done.stdout.splitlines()
        if line.startswith("database server: ")
    ]
    assert said == [f"database server: {redact(url)} (TEST_DATABASE_URL)"]
    assert ":***@" in said[0]
    assert password not in done.stdout + done.stderr


def test_the_runner_exports_its_server_to_the_command_it_runs(
    pg_admin_url: str,
) -> None:
    """`nox -s tests` runs pytest through `python -m devtools.testdb`: the
    command gets the server as TEST_DATABASE_URL and why it was chosen (the
    runner itself prints nothing, so the run names its server once), and its
    exit status is the runner's."""
    url = with_password(pg_admin_url)
    show_and_exit = (
        "import os, sys; print(os.environ['TEST_DATABASE_URL']);"
        " print(os.environ['TEST_DATABASE_REASON']); sys.exit(3)"
    )
    done = subprocess.run(
        [sys.executable, "-m", "devtools.testdb", sys.executable, "-c", show_and_exit],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "TEST_DATABASE_URL": url,
            "PYTHONPATH": str(PROJECT_ROOT / "tools"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.splitlines() == [url, f"{url} TEST_DATABASE_URL"]
