"""The wheel as an application installs it: built from the project, installed
into a fresh virtualenv next to asyncpg and pydantic versions other than the
development pins (inside the ranges pyproject.toml declares), it imports the
public API and puts no top-level name but `repositories` on the path. uv (a
pin of the dev extra) builds and installs, from its cache or PyPI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from devtools import PROJECT_ROOT

# What an application might already have: neither the dev pins nor the lower
# bounds (`nox -s lowest` tests those).
APP_VERSIONS = {"asyncpg": "0.31.0", "pydantic": "2.12.5"}
TOP_LEVEL = {"repositories"}

# Run by the virtualenv's interpreter in isolated mode (no PYTHONPATH, no
# working directory on sys.path), so only what was installed is importable.
PROBE = """
import importlib.util, json
from importlib.metadata import distribution, version
import repositories
from repositories import *
from repositories import Store, UnitOfWork, Conflict, NotFound, InvalidInput
from repositories._generated import init_connection

files = distribution("agent-persistence").files or []
print(json.dumps({
    "module": repositories.__file__,
    "public": sorted(repositories.__all__),
    "top_level": sorted({f.parts[0] for f in files if not f.parts[0].endswith(".dist-info")}),
    "generated_top_level": importlib.util.find_spec("generated") is not None,
    "versions": {name: version(name) for name in ("asyncpg", "pydantic")},
}))
"""


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    assert found, "uv is not installed (the dev extra pins it)"
    return found


def run(*args: str, cwd: Path) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]]


def dev_pins() -> dict[str, str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in project["optional-dependencies"]["dev"]:
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        pins[requirement.name] = spec.version
    return pins


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    probe: dict[str, Any]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    run(
        uv(), "build", "--wheel", "--out-dir", str(work / "dist"), ".", cwd=PROJECT_ROOT
    )
    (wheel,) = (work / "dist").glob("*.whl")
    venv = work / "venv"
    run(uv(), "venv", "--quiet", "--python", sys.executable, str(venv), cwd=work)
    python = str(venv / "bin" / "python")
    pins = [f"{name}=={v}" for name, v in APP_VERSIONS.items()]
    run(uv(), "pip", "install", "--python", python, str(wheel), *pins, cwd=work)
    probe = json.loads(run(python, "-I", "-c", PROBE, cwd=work))
    return Installed(wheel, venv, probe)


def test_the_app_versions_are_in_the_ranges_and_not_the_pins() -> None:
    ranges = {r.name: r.specifier for r in runtime_requirements()}
    assert set(ranges) == set(APP_VERSIONS)
    pins = dev_pins()
    for name, version in APP_VERSIONS.items():
        assert version in ranges[name], (name, version, ranges[name])
        lower = {s.version for s in ranges[name] if s.operator == ">="}
        assert version not in {pins[name], *lower}


def test_runtime_dependencies_are_ranges_below_the_next_major() -> None:
    for requirement in runtime_requirements():
        operators = {spec.operator: spec.version for spec in requirement.specifier}
        assert set(operators) == {">=", "<"}, requirement
        lower, upper = operators[">="], operators["<"]
        major = int(lower.split(".")[0])
        assert upper in {str(major + 1), f"{major + 1}.0", f"{major + 1}.0.0"}, (
            requirement
        )


def test_the_wheel_holds_one_top_level_package(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        (record,) = [n for n in names if n.endswith(".dist-info/RECORD")]
        recorded = [line.split(",")[0] for line in wheel.read(record).decode().split()]
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = re.findall(
            r"^Requires-Dist: (.+)$", wheel.read(metadata).decode(), re.M
        )
    top = {path.split("/")[0] for path in recorded if ".dist-info/" not in path}
    assert top == TOP_LEVEL
    assert "repositories/_generated/__init__.py" in recorded
    assert "repositories/py.typed" in recorded
    # The extras' pins come with `; extra == ...`: only the ranges are required.
    runtime = {str(Requirement(r)) for r in requires if "extra ==" not in r}
    assert runtime == {str(r) for r in runtime_requirements()}


def test_it_installs_next_to_other_versions_and_imports(installed: Installed) -> None:
    probe = installed.probe
    assert probe["versions"] == APP_VERSIONS
    assert Path(probe["module"]).is_relative_to(installed.venv), probe["module"]
    assert probe["top_level"] == sorted(TOP_LEVEL)
    assert probe["generated_top_level"] is False
    assert {"Store", "UnitOfWork", "Conflict", "NotFound"} <= set(probe["public"])
