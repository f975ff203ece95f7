"""nox -s citus's own parts that need no Citus: finding an installation
with citus.so (and the one line without one), the workers' URLs, the skips
it counts as marked, its summary line, and a Citus database refused on a
server that is not a coordinator."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from devtools import citus, citusdb, compat, database

MARKED_REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="persistence" tests="3">
<testcase classname="tests.a" name="test_passes" time="0.1" />
<testcase classname="tests.a" name="test_marked" time="0.0">
<skipped type="pytest.skip" message="not on Citus: a reason">why</skipped>
</testcase>
<testcase classname="tests.a" name="test_other_skip" time="0.0">
<skipped type="pytest.skip" message="no server">why</skipped>
</testcase>
</testsuite></testsuites>
"""


def executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def fake_installation(root: Path, *, with_citus: bool) -> Path:
    """A bin directory with a pg_config and the server programs (stubs)."""
    bins, lib = root / "bin", root / "lib"
    bins.mkdir()
    lib.mkdir()
    if with_citus:
        (lib / "citus.so").write_bytes(b"")
    for program in ("initdb", "pg_ctl", "postgres"):
        executable(bins / program, "#!/bin/sh\nexit 0\n")
    executable(
        bins / "pg_config",
        "#!/bin/sh\n"
        'case "$1" in\n'
        f"  --pkglibdir) echo {lib} ;;\n"
        f"  --bindir) echo {bins} ;;\n"
        "  --version) echo 'PostgreSQL 15.20' ;;\n"
        "esac\n",
    )
    return bins


def test_an_installation_with_citus_so_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bins = fake_installation(tmp_path, with_citus=True)
    monkeypatch.setenv("CITUS_PG_BIN", str(bins))
    found = citus.find_installation()
    assert found.bins == bins
    assert found.pkglibdir == tmp_path / "lib"
    assert found.version == "PostgreSQL 15.20"


def test_without_citus_it_says_what_it_needs_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bins = fake_installation(tmp_path, with_citus=False)
    monkeypatch.setenv("CITUS_PG_BIN", str(bins))
    assert citus.candidates() == [bins / "pg_config"]
    assert citus.main([]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "citus.so" in err
    assert "docs/scaling.md" in err
    assert str(bins / "pg_config") in err


def test_a_missing_bin_directory_is_no_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITUS_PG_BIN", str(tmp_path / "nowhere"))
    with pytest.raises(citus.CitusUnavailable):
        citus.find_installation()


def test_a_worker_url_keeps_the_login_and_the_options() -> None:
    url = "postgres://postgres:secret@127.0.0.1:5432/postgres?sslmode=disable"
    worker = citusdb.Node("10.0.0.2", 9701)
    assert citusdb.on_node(url, worker, "tests_1") == (
        "postgres://postgres:secret@10.0.0.2:9701/tests_1?sslmode=disable"
    )


def test_only_skips_for_the_marker_count_as_marked(tmp_path: Path) -> None:
    report = tmp_path / "persistence.xml"
    report.write_text(MARKED_REPORT)
    assert citus.marked_skips(report) == ["tests.a::test_marked"]
    assert citus.marked_skips(tmp_path / "missing.xml") == []


def test_the_summary_line_counts_every_suite() -> None:
    def result(suite: str, passed: int, failed: int) -> citus.SuiteResult:
        run = compat.SuiteRun(suite, 0 if not failed else 1, 1.0)
        run.passed = [f"p{i}" for i in range(passed)]
        run.failed = [f"f{i}" for i in range(failed)]
        return citus.SuiteResult(run, marked=[])

    results = [result("persistence", 3, 0), result("security", 2, 1)]
    assert citus.summary("13.2.2", 3, results) == (
        "Citus 13.2.2 (3 nodes): 5 passed, 1 failed"
    )
    assert citus.report(results) is False
    assert citus.report(results[:1]) is True


async def test_a_citus_database_is_refused_on_a_plain_server(
    pg_admin_url: str,
) -> None:
    with pytest.raises(database.DatabaseUnreachable, match="not a Citus coordinator"):
        await citusdb.create_database(pg_admin_url, "citus_refused")
