"""Fixtures shared by every test directory: the PostgreSQL server and fresh
databases on it (see tools/devtools/testdb.py for how the server is chosen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools import testdb


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """Admin URL of the server this test run uses."""
    with testdb.server() as url:
        yield url
