"""The migration engine's build and choice (devtools.atlas), its Go tests,
and the one-line errors of `nox -s migrate`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT, atlas


def test_go_tests_of_the_engine_pass() -> None:
    done = subprocess.run(
        ["go", "test", "-count=1", "./..."],
        cwd=atlas.ENGINE_SOURCE,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_build_reports_its_engine() -> None:
    engine = atlas.choose()
    version = subprocess.run(
        [str(engine.binary), "version"], capture_output=True, text=True, check=True
    ).stdout
    if engine.why.startswith("the project's build"):
        assert version.startswith(f"schemaflow {atlas.COMMAND_VERSION}+")
        assert "ariga.io/atlas v1.2.3" in version
        assert atlas.source_digest()[:12] in version


def test_atlas_bin_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    built = atlas.choose().binary
    monkeypatch.setenv("ATLAS_BIN", str(built))
    assert atlas._choose() == atlas.Engine(built, "ATLAS_BIN")
    monkeypatch.setenv("ATLAS_BIN", "/nonexistent/atlas")
    with pytest.raises(atlas.AtlasUnavailable, match="ATLAS_BIN"):
        atlas._choose()


def test_an_atlas_on_path_that_is_not_the_official_v1_is_passed_over(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    impostor = tmp_path / "atlas"
    impostor.write_text("#!/bin/sh\necho 'atlas version v0.13.1'\n")
    impostor.chmod(0o755)
    monkeypatch.delenv("ATLAS_BIN", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert not atlas._is_official_v1(str(impostor))
    assert atlas._choose().binary != impostor


@pytest.mark.parametrize(
    ("printed", "official"),
    [
        (
            "atlas community version v1.2.3\nhttps://github.com/ariga/atlas/releases",
            True,
        ),
        ("atlas version v1.0.0", True),
        ("atlas unofficial version v1.2.3-abc", True),
        ("atlas version v0.13.1", False),
        ("schemaflow v0.1.0 (Atlas engine ariga.io/atlas v1.2.3)", False),
    ],
)
def test_official_cli_is_recognised_by_its_version_line(
    printed: str, official: bool, tmp_path: Path
) -> None:
    binary = tmp_path / "atlas"
    binary.write_text(f"#!/bin/sh\nprintf '%s\\n' '{printed}'\n")
    binary.chmod(0o755)
    assert atlas._is_official_v1(str(binary)) is official


def test_a_source_edit_calls_for_a_rebuild(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "atlas"
    shutil.copytree(atlas.ENGINE_SOURCE, source)
    monkeypatch.setattr(atlas, "ENGINE_SOURCE", source)
    before = atlas.source_digest()
    main = source / "main.go"
    main.write_text(main.read_text() + "\n// an edit\n")
    assert atlas.source_digest() != before


def test_an_edit_in_a_sub_package_calls_for_a_rebuild(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "atlas"
    shutil.copytree(atlas.ENGINE_SOURCE, source)
    monkeypatch.setattr(atlas, "ENGINE_SOURCE", source)
    before = atlas.source_digest()
    package = source / "internal" / "probe"
    package.mkdir(parents=True)
    (package / "probe.go").write_text("package probe\n")
    added = atlas.source_digest()
    assert added != before
    (package / "probe.go").write_text("package probe\n\n// an edit\n")
    edited = atlas.source_digest()
    assert edited != added
    # The same file in another package is another build.
    moved = source / "internal" / "other"
    moved.mkdir()
    (package / "probe.go").rename(moved / "probe.go")
    assert atlas.source_digest() not in {before, added, edited}


def test_without_go_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ATLAS_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no go, no atlas
    monkeypatch.setattr(atlas, "BUILD_DIR", tmp_path / "build")
    monkeypatch.setattr(atlas, "BUILT_BIN", tmp_path / "build" / "schemaflow")
    monkeypatch.setattr(atlas, "SOURCE_STAMP", tmp_path / "build" / "source.sha256")
    with pytest.raises(
        atlas.AtlasUnavailable, match=r"Go is not installed.*go\.dev/dl"
    ):
        atlas._choose()


def test_migrate_to_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://app:secret@127.0.0.1:1/app",
        "PYTHONPATH": str(PROJECT_ROOT / "tools"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "devtools.migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert errors == [
        "error: cannot connect to postgres://app:***@127.0.0.1:1/app: "
        + errors[0].split(": ", 2)[-1]
    ]
    assert "secret" not in done.stderr + done.stdout
