"""nox -s compat's own bookkeeping, on the server of this test run (no
PostgreSQL 15 needed): a suite run counts what pytest reports and names the
server its test session asked, a run on another server than the one under
test is refused, the engine's proofs it requires are real tests of the
migration suite, the embedded major needs no package, and a missing major
says what to install."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import asyncpg
import pytest

from devtools import compat

# Its own settings: the sample lives outside the project, so pyproject.toml's
# do not reach it.
SAMPLE_INI = """
[pytest]
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""

SAMPLE_CONFTEST = """
import os

import pytest


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    return os.environ["TEST_DATABASE_URL"]
"""

SAMPLE_TESTS = """
import pytest


def test_passes() -> None:
    pass


def test_fails() -> None:
    assert 1 == 2


@pytest.mark.skip(reason="a skip must not count as passed")
def test_skipped() -> None:
    pass
"""


async def asked_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return version
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def sample_run(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> compat.SuiteRun:
    root = tmp_path_factory.mktemp("compat")
    tests = root / "sample"
    tests.mkdir()
    (tests / "pytest.ini").write_text(SAMPLE_INI)
    (tests / "conftest.py").write_text(SAMPLE_CONFTEST)
    (tests / "test_sample.py").write_text(SAMPLE_TESTS)
    return await asyncio.to_thread(
        compat.run_suite, "sample", pg_admin_url, root, tests
    )


async def test_suite_run_counts_outcomes_and_names_the_server_it_asked(
    sample_run: compat.SuiteRun, pg_admin_url: str
) -> None:
    assert [t.rsplit("::", 1)[1] for t in sample_run.passed] == ["test_passes"]
    assert [t.rsplit("::", 1)[1] for t in sample_run.failed] == ["test_fails"]
    assert [t.rsplit("::", 1)[1] for t in sample_run.skipped] == ["test_skipped"]
    assert sample_run.exit_code == 1
    assert not sample_run.ok
    assert sample_run.server_version == await asked_version(pg_admin_url)


def test_a_suite_that_ran_on_another_server_is_refused(
    sample_run: compat.SuiteRun,
) -> None:
    assert sample_run.server_version is not None
    assert compat.suite_problems(sample_run, 18, sample_run.server_version) == []
    under_test = "15.20 (Debian 15.20-0+deb12u1)"
    assert sample_run.server_version != under_test
    assert compat.suite_problems(sample_run, 15, under_test) == [
        f"tests/sample ran on {sample_run.server_version}, "
        f"not on the {under_test} under test"
    ]


def test_engine_proofs_are_tests_of_the_migration_suite() -> None:
    for test_id in compat.ENGINE_PROOFS.values():
        module, name = test_id.split("::")
        assert module.startswith("tests.migrations.")
        assert callable(getattr(importlib.import_module(module), name, None)), test_id


def test_a_migration_run_without_an_engine_proof_is_refused() -> None:
    version = "15.20"
    proofs = list(compat.ENGINE_PROOFS.values())
    complete = compat.SuiteRun("migrations", 0, 1.0, version, passed=proofs)
    assert compat.suite_problems(complete, 15, version) == []
    (first_what, first_test), *_ = compat.ENGINE_PROOFS.items()
    without_first = compat.SuiteRun(
        "migrations", 0, 1.0, version, passed=proofs[1:], skipped=[first_test]
    )
    assert compat.suite_problems(without_first, 15, version) == [
        f"the engine's {first_what} did not pass on 15"
    ]


def test_the_embedded_major_needs_no_package() -> None:
    assert compat.embedded_major() == 18
    bins = compat.server_bins(18)
    assert bins is not None
    assert compat.has_server_programs(bins)


def test_a_missing_major_says_what_to_install(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert not Path("/usr/lib/postgresql/99").exists()
    assert compat.main(["99"]) == 1
    err = capsys.readouterr().err
    assert "/usr/lib/postgresql/99/bin" in err
    assert "apt-get install postgresql-99" in err


def test_a_major_that_is_not_a_number_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert compat.main(["fifteen"]) == 2
    assert "usage:" in capsys.readouterr().err
