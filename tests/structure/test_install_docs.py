"""README's installing section and docs/api.md state the runtime ranges
pyproject.toml declares, so an application reads what the wheel requires."""

from __future__ import annotations

import re
import tomllib

from devtools import PROJECT_ROOT


def runtime_ranges() -> dict[str, str]:
    """name -> its specifiers as written, e.g. asyncpg -> >=0.30.0,<1."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    ranges = {}
    for requirement in project["dependencies"]:
        found = re.fullmatch(r"([\w.-]+)(.*)", requirement)
        assert found, requirement
        ranges[found.group(1)] = found.group(2).replace(" ", "")
    return ranges


def section(text: str, heading: str) -> str:
    found = re.search(rf"^## {heading}\n(.*?)(?=^## )", text, re.M | re.S)
    assert found, f"no section {heading!r}"
    return found.group(1)


def test_readme_states_each_range() -> None:
    installing = section(
        (PROJECT_ROOT / "README.md").read_text(), "Installing the package"
    )
    for name, specifiers in runtime_ranges().items():
        assert f"| `{name}` | `{specifiers}` |" in installing, name


def test_api_page_states_each_range() -> None:
    text = (PROJECT_ROOT / "docs" / "api.md").read_text()
    intro = text.split("\n## ", 1)[0]
    for name, specifiers in runtime_ranges().items():
        assert f"`{name}{specifiers}`" in " ".join(intro.split()), name
