"""Git holds sources, not builds: no tracked file is over 1 MB or a compiled
executable (ELF, Mach-O, PE, or anything else with the executable bit that
is not a script). A binary committed once stays in every clone's history, so
this runs in the default suite, where a stray `go build` output is caught
before it lands. Nor does any tracked file hold a merge's conflict markers:
a merge resolved in haste once committed both sides of a document."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT

MAX_BYTES = 1_000_000
# The first bytes of the executable formats a toolchain here can write.
BINARY_MAGIC = (
    b"\x7fELF",  # Linux
    b"MZ",  # Windows PE
    b"\xfe\xed\xfa\xce",  # Mach-O 32-bit
    b"\xfe\xed\xfa\xcf",  # Mach-O 64-bit
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal
)
# A conflict's opening and closing lines, as git writes them (the middle
# line, seven '=', is also a setext heading's underline, so it is not used).
CONFLICT_MARKER = re.compile(rb"^(<{7}|>{7}) ", re.MULTILINE)


def tracked_files(root: Path) -> list[tuple[Path, bool]]:
    """Every file git tracks under `root`, with its executable bit as git
    records it (mode 100755)."""
    listing = subprocess.run(
        ["git", "ls-files", "--stage", "-z"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    files = []
    for entry in filter(None, listing.split("\0")):
        meta, name = entry.split("\t", 1)
        mode = meta.split()[0]
        if mode.startswith("100"):  # regular files; not links or submodules
            files.append((root / name, mode == "100755"))
    return files


def problem(path: Path, executable: bool) -> str | None:
    """Why `path` may not be tracked, or None."""
    if not path.exists():  # deleted in the work tree, not yet committed
        return None
    size = path.stat().st_size
    if size > MAX_BYTES:
        return f"{size:,} bytes (limit {MAX_BYTES:,})"
    content = path.read_bytes()
    if content.startswith(BINARY_MAGIC):
        return "a compiled executable"
    if executable and not content.startswith(b"#!"):
        return "executable but not a script"
    marker = CONFLICT_MARKER.search(content)
    if marker:
        line = content.count(b"\n", 0, marker.start()) + 1
        return f"a merge conflict marker on line {line}"
    return None


def problems(root: Path) -> dict[str, str]:
    found = {}
    for path, executable in tracked_files(root):
        reason = problem(path, executable)
        if reason:
            found[str(path.relative_to(root))] = reason
    return found


def test_no_tracked_file_is_large_or_a_binary() -> None:
    assert problems(PROJECT_ROOT) == {}


@pytest.mark.parametrize(
    ("content", "mode", "expected"),
    [
        (b"\x7fELF" + b"\0" * 64, "100644", "a compiled executable"),
        (b"MZ" + b"\0" * 64, "100644", "a compiled executable"),
        (b"plain bytes", "100755", "executable but not a script"),
        (b"x" * (MAX_BYTES + 1), "100644", f"{MAX_BYTES + 1:,} bytes"),
        (b"a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> web\n", "100644", "a merge"),
        (b"Title\n=======\n\n<<<<<<<< eight\n", "100644", None),
        (b"#!/bin/sh\necho ok\n", "100755", None),
        (b"print('ok')\n", "100644", None),
    ],
)
def test_the_check_names_what_it_refuses(
    tmp_path: Path, content: bytes, mode: str, expected: str | None
) -> None:
    """The check itself, on a scratch repository: each kind of file it must
    refuse is refused, and ordinary sources pass."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    target = tmp_path / "tools" / "built"
    target.parent.mkdir()
    target.write_bytes(content)
    target.chmod(0o755 if mode == "100755" else 0o644)
    subprocess.run(["git", "add", "tools/built"], cwd=tmp_path, check=True)
    found = problems(tmp_path)
    if expected is None:
        assert found == {}
    else:
        assert list(found) == ["tools/built"]
        assert found["tools/built"].startswith(expected)
