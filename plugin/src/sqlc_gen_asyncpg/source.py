"""Python source from templates: templates/NAME.tmpl (string.Template) filled
in, imports grouped as isort groups them, and the text laid out by the
pinned `ruff format`, as sqlc lays out its Go code with go/format."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import sysconfig
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from string import Template

from sqlc_gen_asyncpg.errors import GenerateError

STDLIB = frozenset(
    {
        "__future__",
        "collections.abc",
        "datetime",
        "decimal",
        "ipaddress",
        "enum",
        "json",
        "typing",
        "uuid",
    }
)
# A line holding only `$name`: a block, indented as the placeholder is.
_BLOCK = re.compile(r"^(\s*)\$\{?(\w+)\}?$")
# The same settings whatever configuration the project around has.
RUFF_FORMAT = ("format", "--isolated", "--line-length=88", "--target-version=py311")


@cache
def _template(name: str) -> str:
    path = resources.files("sqlc_gen_asyncpg") / "templates" / f"{name}.tmpl"
    return path.read_text(encoding="utf-8")


def fill(template: str, /, **values: str) -> str:
    """templates/<template>.tmpl filled with `values`. A placeholder alone on
    its line is a block: its value's lines at the placeholder's indent, no
    line at all for an empty value. Any other is replaced within its line."""
    lines: list[str] = []
    for line in _template(template).splitlines():
        block = _BLOCK.match(line)
        if block is None:
            lines.append(Template(line).substitute(values))
            continue
        indent, value = block.group(1), values[block.group(2)]
        if value:
            lines += [indent + part if part else "" for part in value.split("\n")]
    return "\n".join(lines) + "\n"


def string_literal(text: str) -> str:
    """A triple-quoted literal of `text`, escaping only what must be escaped."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    return f'"""{body}"""'


def docstring(text: str) -> str:
    """The docstring of `text` ("" for none); one of several lines ends with
    its closing quotes on a line of their own."""
    if not text:
        return ""
    return string_literal(f"{text}\n" if "\n" in text else text)


def _name_key(name: str) -> tuple[int, str]:
    # ruff's order-by-type: CONSTANTS, then Classes, then everything else.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


class Imports:
    """`from module import name` lines grouped like isort: stdlib, third party,
    first party (the generated package itself)."""

    def __init__(self, first_party: str) -> None:
        self._first_party = first_party
        self._names: dict[str, set[str]] = {}

    def add(self, module: str, name: str) -> None:
        if module:
            self._names.setdefault(module, set()).add(name)

    def _section(self, module: str) -> int:
        root = module.split(".")[0]
        if module == "__future__":
            return 0
        if module in STDLIB or root in STDLIB:
            return 1
        if root == self._first_party.split(".")[0]:
            return 3
        return 2

    def render(self) -> str:
        sections: dict[int, list[str]] = {}
        for module in sorted(self._names, key=lambda m: m.lower()):
            names = ", ".join(sorted(self._names[module], key=_name_key))
            sections.setdefault(self._section(module), []).append(
                f"from {module} import {names}"
            )
        return "\n\n".join("\n".join(sections[k]) for k in sorted(sections))


@cache
def ruff() -> tuple[str, ...]:
    """The command running ruff: the one installed beside this plugin (its
    dependency, at the version pyproject.toml pins) before any on PATH."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        found = shutil.which("ruff", path=folder)
        if found:
            return _checked((found,))
    if importlib.util.find_spec("ruff") is not None:
        return _checked((sys.executable, "-m", "ruff"))
    found = shutil.which("ruff")
    if found:
        return _checked((found,))
    raise GenerateError(
        "ruff not found: the plugin lays out its code with `ruff format`; install "
        f"the plugin with its dependencies (sqlc-gen-asyncpg needs {_pinned()})"
    )


def _pinned() -> str:
    """The ruff requirement of the installed plugin, e.g. `ruff==0.17.5`."""
    try:
        requires = metadata.requires("sqlc-gen-asyncpg") or []
    except metadata.PackageNotFoundError:
        requires = []
    return next((r for r in requires if re.match(r"ruff\b", r)), "ruff")


def _checked(command: tuple[str, ...]) -> tuple[str, ...]:
    """`command`, once it reports the pinned version: another version may lay
    out the code otherwise, and the output would depend on the machine."""
    wanted = _pinned().partition("==")[2]
    done = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, check=False
    )
    version = done.stdout.split()[-1] if done.stdout.split() else "?"
    if done.returncode != 0 or (wanted and version != wanted):
        raise GenerateError(
            f"{' '.join(command)} reports ruff {version}; the plugin needs "
            f"{_pinned()}: reinstall it with its dependencies"
        )
    return command


def formatted(filename: str, text: str) -> str:
    """`text` as `ruff format` lays it out, with fixed settings."""
    done = subprocess.run(
        [*ruff(), *RUFF_FORMAT, "--stdin-filename", filename, "-"],
        input=text,
        capture_output=True,
        encoding="utf-8",
        check=False,
    )
    if done.returncode != 0:
        raise GenerateError(
            f"{filename}: `ruff format` refused the generated code (a fault of the "
            f"plugin; please report it): {done.stderr.strip()}"
        )
    return done.stdout
