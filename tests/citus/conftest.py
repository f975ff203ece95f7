"""The Citus build these tests run on (`nox -s citus_growth`): the one
devtools.citus finds (CITUS_PG_BIN, else the first pg_config whose server
has citus.so). Without one the tests fail, saying what is needed."""

from __future__ import annotations

import pytest

from devtools import citus


@pytest.fixture(scope="session")
def citus_build() -> citus.Installation:
    try:
        return citus.find_installation()
    except citus.CitusUnavailable as exc:
        pytest.fail(str(exc))
