"""Fixtures shared by every test directory: the PostgreSQL server and fresh
databases on it (see tools/devtools/testdb.py for how the server is chosen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools import testdb


@pytest.fixture(scope="session")
def pg_admin_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """Admin URL of the server this test run uses; the run says once which
    server that is, and why, in its report (past output capturing)."""
    with testdb.server() as server:
        plugins = pytestconfig.pluginmanager
        reporter = plugins.get_plugin("terminalreporter")
        capture = plugins.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(server.describe())
        yield server.url
