""".ci/run, what CI runs, stays what README and docs/testing.md say it is:
README's test command first, then online, soak, compat, latest, lint and typecheck
(the order docs/testing.md lists), each run to its end whatever the others did,
a session that fails or whose pytest passes nothing counted as failed, and
only sessions that noxfile.py defines. The script runs here
with a stand-in `nox` that records its calls and plays each session's
outcome, so this takes a second and needs no database."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT

CI_RUN = PROJECT_ROOT / ".ci" / "run"
ORDER = ["tests", "online", "soak", "compat", "latest", "lint", "typecheck"]
NOX_COMMAND = re.compile(r"\bnox -s ([\w-]+)")
PIN = re.compile(r'"((?:nox|uv)==[^"]+)"')

# The stand-in nox: it records its arguments, prints what the session's
# pytest would print for the outcome asked for in OUTCOME_<session>, and
# exits as nox would (pass; fail: exit 1), or not (empty: "no tests ran",
# silent: no pytest line, both with exit 0, so the script's own check is
# what catches them).
FAKE_NOX = """#!/bin/sh
echo "$*" >> "$NOX_CALLS"
session=$2
eval outcome=\\${OUTCOME_$session:-pass}
case "$session:$outcome" in
  tests:pass) echo "==== 5 passed, 1 skipped, 2 deselected in 1.25s (0:00:01) ====";;
  online:pass) echo "==== 1 passed in 80.00s (0:01:20) ====";;
  soak:pass) echo "==== 2 passed, 9 deselected in 0.50s ===="; echo "==== 7 passed in 0.70s ====";;
  compat:pass) echo "3 passed in 0.20s"; echo "4 passed in 0.30s";;
  latest:pass) echo "==== 6 passed in 0.60s ====";;
  *:fail) echo "==== 1 failed, 3 passed in 0.40s ===="; exit 1;;
  *:empty) echo "==== 2 passed in 0.10s ===="; echo "==== no tests ran in 0.01s ====";;
  *:silent) echo "nox > Session $session was successful.";;
esac
exit 0
"""


def nox_sessions(noxfile: Path = PROJECT_ROOT / "noxfile.py") -> set[str]:
    """The sessions noxfile.py defines: functions decorated with
    nox.session, named by the function or the decorator's `name=`."""
    names = set()
    for node in ast.parse(noxfile.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            if ast.unparse(call.func if call else decorator) != "nox.session":
                continue
            name = node.name
            for keyword in call.keywords if call else []:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    name = str(keyword.value.value)
            names.add(name)
    return names


def unknown_sessions(script: str, sessions: set[str]) -> list[str]:
    """The sessions `nox -s NAME` in `script`'s commands (comments aside)
    names that are not in `sessions`."""
    code = "\n".join(line.split("#", 1)[0] for line in script.splitlines())
    return sorted(set(NOX_COMMAND.findall(code)) - sessions)


def readme_test_command() -> str:
    """The test command of README's quick start (`... && nox -s tests`)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [
        line.rsplit("&& ", 1)[-1]
        for line in quick_start.splitlines()
        if "nox -s tests" in line
    ]
    assert len(commands) == 1, commands
    return commands[0].strip()


def run_ci(
    tmp_path: Path, **outcomes: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """.ci/run in a copy of the project's layout (with a .pgdata/ to stop),
    with the stand-in nox and a python3 that installs nothing; outside CI,
    so it installs no system package either. Returns the run and nox's
    calls."""
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy(CI_RUN, clone / ".ci" / "run")
    (clone / ".pgdata").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nox").write_text(FAKE_NOX)
    # `python3 -m venv DIR` makes an activate script that changes nothing;
    # any other call (pip) installs nothing.
    (bin_dir / "python3").write_text(
        '#!/bin/sh\nif [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && '
        ': > "$3/bin/activate"; fi\nexit 0\n'
    )
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    calls = tmp_path / "nox-calls"
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "CI" and not key.startswith("OUTCOME_")
    }
    env |= {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "NOX_CALLS": str(calls),
        "TMPDIR": str(tmp_path),
        **{f"OUTCOME_{session}": outcome for session, outcome in outcomes.items()},
    }
    done = subprocess.run(
        ["bash", str(clone / ".ci" / "run")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


def table(output: str) -> dict[str, str]:
    """The closing table: session -> ok / FAILED."""
    rows = output.split("session    result  time  pytest\n", 1)[1].splitlines()
    cells = [row.split() for row in rows]
    return {words[0]: words[1] for words in cells if words and words[0] in ORDER}


def summary(output: str, session: str) -> str:
    """The line printed after `session`."""
    return next(
        line for line in output.splitlines() if line.startswith(f"--> {session} ")
    )


def test_every_session_runs_in_order_and_passes(tmp_path: Path) -> None:
    done, calls = run_ci(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [call.split()[:2] for call in calls] == [
        *(["-s", name] for name in ORDER),
        ["-s", "db"],
    ]
    assert calls[-1] == "-s db -- stop"
    assert table(done.stdout) == dict.fromkeys(ORDER, "ok")
    assert summary(done.stdout, "soak").endswith(
        "2 passed, 9 deselected in 0.50s; 7 passed in 0.70s"
    )


def test_a_failed_session_does_not_stop_the_others(tmp_path: Path) -> None:
    done, calls = run_ci(tmp_path, soak="fail", typecheck="fail")
    assert done.returncode != 0
    assert [call.split()[1] for call in calls] == [*ORDER, "db"]
    assert table(done.stdout) == {
        "tests": "ok",
        "online": "ok",
        "soak": "FAILED",
        "compat": "ok",
        "latest": "ok",
        "lint": "ok",
        "typecheck": "FAILED",
    }


@pytest.mark.parametrize("outcome", ["empty", "silent"])
@pytest.mark.parametrize("session", ["tests", "online", "soak", "compat", "latest"])
def test_a_pytest_session_without_passed_tests_fails(
    tmp_path: Path, session: str, outcome: str
) -> None:
    """pytest's exit code 5 fails a nox session already; the stand-in exits
    0 to show the script counts a run without a passed test by itself."""
    done, _ = run_ci(tmp_path, **{session: outcome})
    assert done.returncode != 0
    assert table(done.stdout)[session] == "FAILED"
    assert sum(verdict == "FAILED" for verdict in table(done.stdout).values()) == 1
    if outcome == "silent":
        assert summary(done.stdout, session).endswith("s  no pytest result line")


def test_it_starts_with_readmes_test_command() -> None:
    script = CI_RUN.read_text()
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    first = next(line for line in code if NOX_COMMAND.search(line))
    assert readme_test_command() in first


def test_docs_list_the_sessions_in_the_order_it_runs_them() -> None:
    testing = (PROJECT_ROOT / "docs" / "testing.md").read_text()
    section = testing.split("\n## What CI runs\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\d+\. `nox -s ([\w-]+)`", section, re.MULTILINE)
    assert listed == ORDER


def test_every_session_it_names_is_in_the_noxfile() -> None:
    sessions = nox_sessions()
    assert set(ORDER) | {"db"} <= sessions
    assert unknown_sessions(CI_RUN.read_text(), sessions) == []


def test_a_session_missing_from_the_noxfile_is_named() -> None:
    script = CI_RUN.read_text().replace("nox -s soak", "nox -s soak-long")
    assert unknown_sessions(script, nox_sessions()) == ["soak-long"]


def test_a_session_renamed_in_the_noxfile_is_read_by_its_name(
    tmp_path: Path,
) -> None:
    noxfile = tmp_path / "noxfile.py"
    noxfile.write_text(
        "import nox\n\n\n@nox.session(python='3.11', name='soak-long')\n"
        "def soak(session): ...\n\n\n@nox.session\ndef lint(session): ...\n"
    )
    assert nox_sessions(noxfile) == {"soak-long", "lint"}


def test_it_installs_the_nox_and_uv_readme_and_pyproject_pin() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    installed = set(PIN.findall(CI_RUN.read_text()))
    assert installed == set(PIN.findall(quick_start))
    nox_pin = next(pin for pin in installed if pin.startswith("nox=="))
    assert f'"{nox_pin}"' in pyproject
