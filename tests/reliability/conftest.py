"""Reliability tests: the persistence fixtures. Tests marked `soak` (their own
restartable cluster, PgBouncer) are left out of the default run by
`-m "not soak"` in pyproject.toml's addopts; `nox -s soak` runs them."""

from __future__ import annotations

from tests.persistence.conftest import (  # noqa: F401
    database_url,
    other_user,
    store,
    user,
)
