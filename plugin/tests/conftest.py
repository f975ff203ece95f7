"""The PostgreSQL server of the plugin's tests: the one TEST_DATABASE_URL
names. Nothing chooses or starts one here, so the plugin is tested the same
way on its own and inside a project (whose test runner sets the variable)."""

from __future__ import annotations

import os

import pytest

NO_SERVER = (
    "TEST_DATABASE_URL is not set: the plugin's tests need a PostgreSQL server, "
    "e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "
    "(a role that may create databases)"
)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """Admin URL of the server; each test that needs a database creates its
    own on it (plugin_support.fresh_database) and drops it afterwards."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        pytest.fail(NO_SERVER, pytrace=False)
    return url
