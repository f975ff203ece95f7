"""Find or build the Atlas CLI (community edition) at the pinned version.

Order: an ``atlas`` on PATH that reports the pinned version; else a previous
build in ``.tools/``; else a build from the Go module proxy with the installed
Go. No registry ships an Atlas binary, and ``go install`` is refused for
current releases because ``cmd/atlas/go.mod`` replaces ``ariga.io/atlas`` with
``../..``. So the build downloads the ``cmd/atlas`` module at the commit of the
release tag, points its ``ariga.io/atlas`` requirement at the same release and
builds it with the version stamped in, as distribution packagers do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools import PROJECT_ROOT

ATLAS_VERSION = "v1.2.3"
ATLAS_MODULE = "ariga.io/atlas"
ATLAS_CMD_MODULE = "ariga.io/atlas/cmd/atlas"
TOOLS_DIR = PROJECT_ROOT / ".tools"
ATLAS_BIN = TOOLS_DIR / f"atlas-{ATLAS_VERSION}" / "atlas"
QUIET_ENV = {"ATLAS_NO_UPDATE_NOTIFIER": "1", "ATLAS_NO_UPGRADE_SUGGESTIONS": "1"}


class AtlasUnavailable(RuntimeError):
    """Atlas could be neither found nor built; the message says what to do."""


def _reports_pinned_version(binary: str) -> bool:
    try:
        out = subprocess.run(
            [binary, "version"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **QUIET_ENV},
            check=False,
        ).stdout
    except OSError:
        return False
    return ATLAS_VERSION in out


def _go(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    print(f"atlas build: go {' '.join(args)}", flush=True)
    result = subprocess.run(
        ["go", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"},
    )
    if check and result.returncode != 0:
        raise AtlasUnavailable(
            f"`go {' '.join(args)}` failed:\n{result.stderr.strip()}\n"
            f"Install Atlas {ATLAS_VERSION} (community) on PATH to skip the build."
        )
    return result.stdout


def build() -> Path:
    if shutil.which("go") is None:
        raise AtlasUnavailable(
            f"Atlas {ATLAS_VERSION} is not on PATH and Go is not installed to build it: "
            "install Go 1.26+ (https://go.dev/dl) or put an atlas "
            f"{ATLAS_VERSION} binary on PATH."
        )
    release = json.loads(_go("list", "-m", "-json", f"{ATLAS_MODULE}@{ATLAS_VERSION}"))
    commit = release["Origin"]["Hash"]
    print(f"atlas build: release {ATLAS_VERSION} is commit {commit}", flush=True)
    # -json reports a refused download in the output (and exits 1): read it there.
    module = f"{ATLAS_CMD_MODULE}@{commit}"
    download = json.loads(_go("mod", "download", "-json", module, check=False))
    if download.get("Error"):
        raise AtlasUnavailable(
            f"the Go module proxy does not serve {ATLAS_CMD_MODULE}@{commit}: "
            f"{download['Error']}\nInstall Atlas {ATLAS_VERSION} (community) on PATH."
        )
    with tempfile.TemporaryDirectory(prefix="atlas-build-") as tmp:
        src = Path(tmp) / "atlas"
        shutil.copytree(download["Dir"], src)
        src.chmod(0o755)
        (src / "go.mod").chmod(0o644)
        (src / "go.sum").chmod(0o644)
        _go("mod", "edit", f"-dropreplace={ATLAS_MODULE}", cwd=src)
        _go("mod", "edit", f"-require={ATLAS_MODULE}@{ATLAS_VERSION}", cwd=src)
        _go("mod", "tidy", cwd=src)
        ATLAS_BIN.parent.mkdir(parents=True, exist_ok=True)
        ldflags = f"-X {ATLAS_CMD_MODULE}/internal/cmdapi.version={ATLAS_VERSION}"
        _go(
            "build",
            "-trimpath",
            "-ldflags",
            ldflags,
            "-o",
            str(ATLAS_BIN),
            ".",
            cwd=src,
        )
    print(f"atlas build: built {ATLAS_BIN}", flush=True)
    return ATLAS_BIN


def find_or_build() -> Path:
    on_path = shutil.which("atlas")
    if on_path and _reports_pinned_version(on_path):
        return Path(on_path)
    if ATLAS_BIN.exists() and _reports_pinned_version(str(ATLAS_BIN)):
        return ATLAS_BIN
    return build()


def main(argv: list[str]) -> int:
    """``python -m devtools.atlas [atlas args…]``: run Atlas, building it if needed."""
    try:
        binary = find_or_build()
    except AtlasUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not argv:
        print(binary)
        return 0
    return subprocess.call([str(binary), *argv], env={**os.environ, **QUIET_ENV})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
