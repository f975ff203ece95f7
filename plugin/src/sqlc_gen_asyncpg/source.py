"""Emitting Python source already in the shape `ruff format` leaves alone.

Rules we rely on: a bracketed list with a trailing comma stays one item per
line (ruff's "magic trailing comma"), and one that fits in the line length
without it stays on one line. Imports are sorted the way ruff's isort does.
"""

from __future__ import annotations

LINE_LENGTH = 88
INDENT = "    "

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


def bracketed(prefix: str, items: list[str], suffix: str, indent: str) -> str:
    """`prefix(a, b)suffix` on one line if it fits, else one item per line."""
    one_line = f"{indent}{prefix}{', '.join(items)}{suffix}"
    if len(one_line) <= LINE_LENGTH and "\n" not in one_line:
        return one_line
    inner = "".join(f"{indent}{INDENT}{item},\n" for item in items)
    return f"{indent}{prefix}\n{inner}{indent}{suffix}"


def exploded(prefix: str, items: list[str], suffix: str, indent: str) -> str:
    """Always one item per line, held that way by the trailing comma."""
    inner = "".join(f"{indent}{INDENT}{item},\n" for item in items)
    return f"{indent}{prefix}\n{inner}{indent}{suffix}"


def nested(prefix: str, items: list[str], suffix: str, indent: str) -> str:
    """An argument of an exploded call whose items sit at `indent`: one line if
    it fits there with its trailing comma, else one item per line. Returned
    without that indent and comma, ready to be an item of `exploded`."""
    return bracketed(prefix, items, f"{suffix},", indent).strip()[:-1]


def assignment(target: str, value: str) -> str:
    """`target = value`; a one-line value that only fits on its own line is
    parenthesised, as ruff format does."""
    line = f"{target} = {value}"
    if len(line) <= LINE_LENGTH or "\n" in value or len(INDENT + value) > LINE_LENGTH:
        return line
    return f"{target} = (\n{INDENT}{value}\n)"


def quoted(text: str) -> str:
    """A one-line string literal as ruff format writes it: double quotes
    unless the text holds more double than single quotes."""
    literal = repr(text)
    if literal.startswith('"') or text.count('"') > text.count("'"):
        return literal
    body = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
    return f'"{body}"'


def string_literal(text: str) -> str:
    """A triple-quoted literal of `text`, escaping only what must be escaped."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    return f'"""{body}"""'


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
            names = sorted(self._names[module], key=_name_key)
            line = bracketed(f"from {module} import (", names, ")", "")
            if "\n" not in line:
                line = f"from {module} import {', '.join(names)}"
            sections.setdefault(self._section(module), []).append(line)
        return "\n\n".join("\n".join(sections[k]) for k in sorted(sections))


def docstring(text: str) -> str:
    """string_literal for a docstring: one that starts with a quote gets the
    space ruff format puts between it and the opening quotes."""
    return string_literal(f" {text}" if text.startswith('"') else text)
