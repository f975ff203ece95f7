"""Which migration engine runs, and building the project's own.

Order, first that applies:

1. ``ATLAS_BIN``, when set: that binary, whatever it is.
2. An ``atlas`` on PATH that is the official Atlas CLI v1.x.
3. ``schemaflow``, the project's command in ``tools/schemaflow/`` (Go, on Atlas's
   engine module ``ariga.io/atlas``), built into ``.tools/`` with the
   installed Go and rebuilt whenever its sources change.

All three take the same arguments (``migrate diff/new/hash/validate/apply/
status/lint``), so callers never branch on which one runs. The choice is
printed once per process.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devtools import PROJECT_ROOT

ENGINE_SOURCE = PROJECT_ROOT / "tools" / "schemaflow"
TOOLS_DIR = PROJECT_ROOT / ".tools"
BUILD_DIR = TOOLS_DIR / "schemaflow"
BUILT_BIN = BUILD_DIR / "schemaflow"
SOURCE_STAMP = BUILD_DIR / "source.sha256"
COMMAND_VERSION = "v0.1.0"
QUIET_ENV = {"ATLAS_NO_UPDATE_NOTIFIER": "1", "ATLAS_NO_UPGRADE_SUGGESTIONS": "1"}
# `atlas version` of the official builds: "atlas community version v1.2.3",
# "atlas version v1.2.3", "atlas unofficial version v1.2.3".
OFFICIAL_VERSION = re.compile(r"^atlas (?:[a-z]+ )?version v1\.", re.MULTILINE)
GO_VERSION = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?")
# What `go build` prints when it cannot reach the module proxy.
PROXY_TROUBLE = re.compile(
    r"dial tcp|no such host|i/o timeout|connection refused|403 Forbidden|"
    r"404 Not Found|proxyconnect|TLS handshake|server response",
)


class AtlasUnavailable(RuntimeError):
    """No migration engine could be found or built; the message says what to do."""


@dataclass(frozen=True)
class Engine:
    binary: Path
    why: str

    def describe(self) -> str:
        return f"migration engine: {self.binary} ({self.why})"


def _version_output(binary: str) -> str:
    try:
        done = subprocess.run(
            [binary, "version"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **QUIET_ENV},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout


def _is_official_v1(binary: str) -> bool:
    return OFFICIAL_VERSION.search(_version_output(binary)) is not None


def _required_go() -> tuple[int, int, int]:
    """The Go version the engine's go.mod asks for (its `go` line)."""
    text = (ENGINE_SOURCE / "go.mod").read_text()
    found = re.search(r"^go (\d+)\.(\d+)(?:\.(\d+))?$", text, re.MULTILINE)
    if found is None:
        raise AtlasUnavailable(f"{ENGINE_SOURCE / 'go.mod'} has no `go` line")
    major, minor, patch = found.groups()
    return int(major), int(minor), int(patch or 0)


def _installed_go() -> tuple[int, int, int] | None:
    if shutil.which("go") is None:
        return None
    done = subprocess.run(
        ["go", "env", "GOVERSION"], capture_output=True, text=True, check=False
    )
    found = GO_VERSION.search(done.stdout)
    if found is None:
        return None
    major, minor, patch = found.groups()
    return int(major), int(minor), int(patch or 0)


def source_digest() -> str:
    """A digest of everything the build reads, so an edit triggers a rebuild:
    the Go files of every package under tools/schemaflow/ (named by their path
    in it, so a file moved between packages counts too), go.mod and go.sum."""
    digest = hashlib.sha256()
    sources = [
        *sorted(ENGINE_SOURCE.rglob("*.go")),
        ENGINE_SOURCE / "go.mod",
        ENGINE_SOURCE / "go.sum",
    ]
    for path in sources:
        digest.update(path.relative_to(ENGINE_SOURCE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _dotted(version: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in version)


def build() -> Path:
    """Build schemaflow into .tools/ (progress on stdout); returns the binary."""
    need = _required_go()
    have = _installed_go()
    if have is None:
        raise AtlasUnavailable(
            f"Go is not installed: the migration engine is built with Go {_dotted(need)}+ "
            "(install it from https://go.dev/dl), or put the official atlas v1.x on "
            "PATH (or set ATLAS_BIN) to use it instead."
        )
    if have < need:
        raise AtlasUnavailable(
            f"Go {_dotted(have)} is too old: tools/schemaflow needs Go {_dotted(need)}+ "
            "(https://go.dev/dl), or put the official atlas v1.x on PATH."
        )
    digest = source_digest()
    stamp = f"{COMMAND_VERSION}+{digest[:12]}"
    print(
        f"migration engine: building tools/schemaflow with Go {_dotted(have)} "
        "(the first build downloads ariga.io/atlas and lib/pq from the module proxy)",
        flush=True,
    )
    started = time.monotonic()
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    # A name of this process's own: the workers of a parallel test run may
    # build at once, and each renames a whole binary into place.
    partial = BUILD_DIR / f"schemaflow.partial.{os.getpid()}"
    done = subprocess.run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            f"-X main.version={stamp}",
            "-o",
            str(partial),
            ".",
        ],
        cwd=ENGINE_SOURCE,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"},
    )
    if done.returncode != 0:
        detail = done.stderr.strip()
        if PROXY_TROUBLE.search(detail):
            proxy = os.environ.get("GOPROXY", "https://proxy.golang.org,direct")
            first = detail.splitlines()[-1] if detail else ""
            raise AtlasUnavailable(
                f"cannot download the engine's Go modules from the module proxy "
                f"(GOPROXY={proxy}): {first}. Check the network or GOPROXY, or put "
                "the official atlas v1.x on PATH."
            )
        raise AtlasUnavailable(f"building tools/schemaflow failed:\n{detail}")
    partial.replace(BUILT_BIN)
    SOURCE_STAMP.write_text(digest + "\n")
    print(
        f"migration engine: built {BUILT_BIN.relative_to(PROJECT_ROOT)} "
        f"in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    return BUILT_BIN


def _build_is_current() -> bool:
    if not BUILT_BIN.exists() or not SOURCE_STAMP.exists():
        return False
    return SOURCE_STAMP.read_text().strip() == source_digest()


_chosen: Engine | None = None


def choose() -> Engine:
    """The engine for this process (see the module docstring); printed once."""
    global _chosen
    if _chosen is None:
        _chosen = _choose()
        print(_chosen.describe(), flush=True)
    return _chosen


def _choose() -> Engine:
    explicit = os.environ.get("ATLAS_BIN", "").strip()
    if explicit:
        path = shutil.which(explicit)
        if path is None:
            raise AtlasUnavailable(f"ATLAS_BIN={explicit} is not an executable file")
        return Engine(Path(path), "ATLAS_BIN")
    on_path = shutil.which("atlas")
    if on_path and _is_official_v1(on_path):
        return Engine(Path(on_path), "the official Atlas CLI on PATH")
    if _build_is_current():
        return Engine(BUILT_BIN, "the project's build of tools/schemaflow")
    return Engine(build(), "the project's build of tools/schemaflow, just built")


def project_build() -> Path:
    """The project's own build, whichever engine `choose` picks: only it adds
    row-level security, policies, privileges, roles and functions to
    `migrate diff` (the official community CLI leaves them out)."""
    return BUILT_BIN if _build_is_current() else build()


def run(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the engine from the project root, capturing its output."""
    return subprocess.run(
        [str(choose().binary), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=check,
        env={**os.environ, **QUIET_ENV},
    )


def main(argv: list[str]) -> int:
    """``python -m devtools.atlas [args…]``: run the engine, building it if needed;
    without arguments, print which binary that is."""
    try:
        engine = choose()
    except AtlasUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not argv:
        return 0
    return subprocess.call([str(engine.binary), *argv], env={**os.environ, **QUIET_ENV})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
