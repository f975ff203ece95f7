"""The `web` extra publishes ranges, and its lower bounds are what the
example's tests run on: each floor is the dev extra's pin, and the
installed version (this run's) is that floor."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

from devtools import PROJECT_ROOT


def extras() -> dict[str, list[str]]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    found: dict[str, list[str]] = project["optional-dependencies"]
    return found


def split(requirement: str) -> tuple[str, str]:
    found = re.fullmatch(r"([\w.-]+)(.*)", requirement.replace(" ", ""))
    assert found, requirement
    return found.group(1), found.group(2)


def test_the_web_extra_uses_ranges_floored_at_the_tested_pins() -> None:
    pins = dict(split(r) for r in extras()["dev"])
    web = [split(r) for r in extras()["web"]]
    assert {name for name, _ in web} == {"fastapi", "httpx"}
    for name, specifiers in web:
        assert "==" not in specifiers, f"{name} is pinned: {specifiers}"
        floor = re.search(r">=([\w.]+)", specifiers)
        ceiling = re.search(r"<([\w.]+)", specifiers)
        assert floor, f"{name} has no lower bound: {specifiers}"
        assert ceiling, f"{name} has no upper bound: {specifiers}"
        assert pins.get(name) == f"=={floor.group(1)}", (
            f"{name}: the lower bound {floor.group(1)} is not the dev pin, so no "
            "test runs at it"
        )
        assert version(name) == floor.group(1), (
            f"{name} {version(name)} installed, the tests run above the floor"
        )
