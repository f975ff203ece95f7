"""The READMEs (the project's, the plugin's and the migration command's) and
docs/ link only to what a clone has: files and folders in the repository
(tracked, not gitignored) and headings that exist. docs/ pages may also cite
public sources by https URL (docs/scaling.md cites Citus's documentation for
each claim); the READMEs may not."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from devtools import PROJECT_ROOT

PAGES = [
    PROJECT_ROOT / "README.md",
    PROJECT_ROOT / "plugin" / "README.md",
    PROJECT_ROOT / "tools" / "schemaflow" / "README.md",
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def links(text: str) -> list[str]:
    return LINK.findall(FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces
    to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in FENCE.sub("", text).splitlines()
        if line.startswith("#")
    }


def ignored(path: Path) -> bool:
    done = subprocess.run(
        ["git", "check-ignore", "-q", str(path)], cwd=PROJECT_ROOT, check=False
    )
    return done.returncode == 0


def problems(text: str, base: Path, *, citations: bool = False) -> list[str]:
    """What is wrong with the links of a page whose folder is `base`;
    `citations` lets it cite https sources."""
    found: list[str] = []
    for target in links(text):
        where, _, anchor = target.partition("#")
        if citations and where.startswith("https://"):
            continue
        if re.match(r"^[a-z][a-z0-9+.-]*:", where):
            found.append(f"{target}: not a file of the repository")
            continue
        if not where:
            if anchor not in anchors(text):
                found.append(f"{target}: no such heading")
            continue
        resolved = (base / where).resolve()
        if not resolved.is_relative_to(PROJECT_ROOT):
            found.append(f"{target}: outside the repository")
        elif ignored(resolved):
            found.append(f"{target}: gitignored, not in a clone")
        elif not resolved.exists():
            found.append(f"{target}: no such file")
        elif (
            anchor
            and resolved.suffix == ".md"
            and anchor not in anchors(resolved.read_text())
        ):
            found.append(f"{target}: no such heading")
    return found


@pytest.mark.parametrize(
    "page", PAGES, ids=lambda page: page.relative_to(PROJECT_ROOT).as_posix()
)
def test_links_lead_to_the_repository(page: Path) -> None:
    citations = page.parent.name == "docs"
    assert problems(page.read_text(), page.parent, citations=citations) == []


def test_the_readme_links_the_api_contract() -> None:
    assert "docs/api.md" in links((PROJECT_ROOT / "README.md").read_text())


def test_bad_links_are_named() -> None:
    text = (
        "# Title\n\n[a](../../shared/design/contract.md) [b](https://example.com)"
        " [c](missing.md) [d](#nowhere) [e](#title) [f](api.md)"
        " [g](../bench/results/run.json)\n"
        "```\n[h](ignored-in-a-fence.md)\n```\n"
    )
    assert problems(text, PROJECT_ROOT / "docs") == [
        "../../shared/design/contract.md: outside the repository",
        "https://example.com: not a file of the repository",
        "missing.md: no such file",
        "#nowhere: no such heading",
        # A pattern that matches files, so the path need not exist here.
        "../bench/results/run.json: gitignored, not in a clone",
    ]


def test_docs_may_cite_https_sources_but_nothing_else_outside() -> None:
    text = (
        "# T\n\n[a](https://docs.citusdata.com/) [b](http://x.test) [c](file:///etc)\n"
    )
    assert problems(text, PROJECT_ROOT / "docs", citations=True) == [
        "http://x.test: not a file of the repository",
        "file:///etc: not a file of the repository",
    ]
