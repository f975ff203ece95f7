"""docs/api.md and the code say the same: every public name of `repositories`
is documented, every name the page uses exists, each documented signature is
the code's, and each section opens with the docstring of what it describes."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import repositories
from devtools import PROJECT_ROOT
from repositories.agent_states import AgentStatesRepository
from repositories.checkpoints import CheckpointsRepository
from repositories.project_files import ProjectFilesRepository
from repositories.projects import ProjectsRepository
from repositories.retention import RetentionRepository
from repositories.users import UsersRepository

API_DOC = PROJECT_ROOT / "docs" / "api.md"

# How the page names what a route holds: the class behind each prefix.
PREFIXES: dict[str, type] = {
    "Store": repositories.Store,
    "store": repositories.Store,
    "store.users": UsersRepository,
    "uow": repositories.UnitOfWork,
    "uow.projects": ProjectsRepository,
    "uow.files": ProjectFilesRepository,
    "uow.agent_states": AgentStatesRepository,
    "uow.checkpoints": CheckpointsRepository,
    "uow.retention": RetentionRepository,
}
REPOSITORIES = {cls for prefix, cls in PREFIXES.items() if prefix.count(".") == 1}
HEADING = re.compile(r"^#{2,4} `([^`]+)`\s*$")
CALL = re.compile(r"^([\w.]+)\.(\w+)\((.*)\)$")
CODE = re.compile(r"`([^`\n]+)`")
SENTINEL_DEFAULT = "..."  # the page's spelling of "not given"


@dataclass(frozen=True)
class Section:
    title: str  # the heading's code
    body: str  # up to the next heading

    @property
    def first_paragraph(self) -> str:
        return normalised(self.body.strip().split("\n\n", 1)[0])

    def table_names(self) -> list[str]:
        """The first column of the section's table, without backticks."""
        rows = [line for line in self.body.splitlines() if line.startswith("| `")]
        return [row.split("|")[1].strip().strip("`") for row in rows]


def normalised(text: str) -> str:
    return " ".join(text.split())


def sections(text: str) -> list[Section]:
    found: list[Section] = []
    title: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading or line.startswith("#"):
            if title is not None:
                found.append(Section(title, "\n".join(body)))
            title, body = (heading.group(1) if heading else None), []
        else:
            body.append(line)
    if title is not None:
        found.append(Section(title, "\n".join(body)))
    return found


def instance_attributes(cls: type) -> set[str]:
    """Names a class's instances carry: class attributes and annotations,
    pydantic fields, and what its __init__ methods assign to `self.<name>`."""
    names: set[str] = set(dir(cls))
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
        init = klass.__dict__.get("__init__")
        if init is None or klass.__module__ == "builtins":
            continue
        try:
            source = textwrap.dedent(inspect.getsource(init))
        except (OSError, TypeError):
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and isinstance(node.ctx, ast.Store)
            ):
                names.add(node.attr)
    if issubclass(cls, BaseModel):
        names.update(cls.model_fields)
    return names


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in vars(cls).items()
        if not name.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, classmethod | property))
    }


def rendered_parameters(function: Any) -> str:
    """A signature as the page writes it: names, `*`, defaults by repr, the
    unset sentinel as `...`, no annotations, no self or cls."""
    parts: list[str] = []
    star_written = False
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in ("self", "cls"):
            continue
        if parameter.kind is parameter.VAR_POSITIONAL:
            parts.append(f"*{parameter.name}")
            star_written = True
            continue
        if parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not star_written:
            parts.append("*")
            star_written = True
        text = parameter.name
        if parameter.default is not parameter.empty:
            default = parameter.default
            shown = SENTINEL_DEFAULT if type(default) is object else repr(default)
            text += f"={shown}"
        parts.append(text)
    return ", ".join(parts)


def resolve(reference: str) -> bool:
    """Whether a dotted name the page uses (`uow.files.put`,
    `Conflict.current_version`, `store.users`) exists."""
    if reference in PREFIXES or reference in repositories.__all__:
        return True
    owner, _, attribute = reference.rpartition(".")
    cls = PREFIXES.get(owner)
    if cls is None and owner in repositories.__all__:
        cls = getattr(repositories, owner)
    if cls is None:
        return False
    return attribute in instance_attributes(cls)


def looks_like_api(reference: str) -> bool:
    head = reference.split(".", 1)[0]
    return "." in reference and (
        head in {"store", "uow", "Store"} or head in repositories.__all__
    )


@pytest.fixture(scope="module")
def page() -> list[Section]:
    return sections(API_DOC.read_text())


def titled(page: list[Section]) -> dict[str, Section]:
    return {section.title: section for section in page}


def test_every_public_name_has_a_section(page: list[Section]) -> None:
    titles = titled(page)
    missing = [name for name in repositories.__all__ if name not in titles]
    assert missing == [], f"docs/api.md has no section for {missing}"


def test_every_public_method_has_a_section_with_its_signature(
    page: list[Section],
) -> None:
    documented: dict[tuple[type, str], str] = {}
    for section in page:
        call = CALL.match(section.title)
        if call:
            owner, name, parameters = call.groups()
            assert owner in PREFIXES, f"unknown prefix in `{section.title}`"
            documented[(PREFIXES[owner], name)] = parameters
    for cls in {*PREFIXES.values()}:
        for name in public_methods(cls):
            member = inspect.getattr_static(cls, name)
            if isinstance(member, property):
                continue
            assert (cls, name) in documented, f"{cls.__name__}.{name} is undocumented"
    for (cls, name), parameters in documented.items():
        assert hasattr(cls, name), f"{cls.__name__}.{name} does not exist"
        assert parameters == rendered_parameters(getattr(cls, name)), (
            f"{cls.__name__}.{name}: the page says ({parameters}), the code "
            f"({rendered_parameters(getattr(cls, name))})"
        )


def test_every_name_on_the_page_exists(page: list[Section]) -> None:
    text = API_DOC.read_text()
    references = {
        match.split("(", 1)[0]
        for match in CODE.findall(text)
        if looks_like_api(match.split("(", 1)[0])
    }
    assert len(references) > 20, "the page names suspiciously few things"
    unknown = sorted(reference for reference in references if not resolve(reference))
    assert unknown == [], f"docs/api.md names what does not exist: {unknown}"


def docstring_of(title: str) -> str | None:
    call = CALL.match(title)
    if call:
        owner, name, _ = call.groups()
        return inspect.getdoc(getattr(PREFIXES[owner], name))
    if title in PREFIXES:
        return PREFIXES[title].__doc__
    if title in repositories.__all__:
        cls: type = getattr(repositories, title)
        return cls.__doc__
    owner, _, attribute = title.rpartition(".")
    if owner in PREFIXES:
        member = inspect.getattr_static(PREFIXES[owner], attribute, None)
        if isinstance(member, property):
            return member.__doc__
    return None


def test_each_section_opens_with_the_docstring(page: list[Section]) -> None:
    checked = 0
    for section in page:
        if section.title in {"store", "uow"}:
            continue
        doc = docstring_of(section.title)
        assert doc, f"`{section.title}` has no docstring"
        summary = normalised(inspect.cleandoc(doc).split("\n\n", 1)[0])
        assert section.first_paragraph == summary, (
            f"`{section.title}`: the page opens with\n  {section.first_paragraph}\n"
            f"the docstring with\n  {summary}"
        )
        checked += 1
    assert checked >= 40


def test_model_fields_and_error_attributes_are_listed(page: list[Section]) -> None:
    titles = titled(page)
    for name in repositories.__all__:
        cls = getattr(repositories, name)
        listed = titles[name].table_names()
        if not isinstance(cls, type):  # a constant (UNSET): nothing to list
            continue
        if issubclass(cls, BaseModel):
            assert set(listed) == set(cls.model_fields), name
        elif issubclass(cls, Exception):
            own = {
                attribute
                for attribute in instance_attributes(cls)
                - instance_attributes(Exception)
                if not attribute.startswith("_")
            }
            assert set(listed) == own, name


def test_the_checks_catch_a_wrong_page(tmp_path: Path) -> None:
    """The parser and the checks see a renamed parameter, a missing name and
    a stale docstring (the faults this test guards against)."""
    text = API_DOC.read_text()
    wrong = (
        text.replace(
            "### `uow.files.put(project_id, path, content, *, expected_version=None)`",
            "### `uow.files.put(project_id, path, text, *, expected_version=None)`",
        )
        .replace("### `Unavailable`", "### `Unreachable`")
        .replace("The project's agent state.\n", "The agent state of the project.\n")
    )
    assert wrong != text
    broken = sections(wrong)
    with pytest.raises(AssertionError, match="put: the page says"):
        test_every_public_method_has_a_section_with_its_signature(broken)
    with pytest.raises(AssertionError, match="Unavailable"):
        test_every_public_name_has_a_section(broken)
    with pytest.raises(AssertionError, match=r"`uow.agent_states.get\(project_id\)`"):
        test_each_section_opens_with_the_docstring(broken)
    assert not resolve("uow.files.rename")
    assert not resolve("Conflict.version")
