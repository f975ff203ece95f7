"""Emitting Python source already in the shape `ruff format` leaves alone.

Rules we rely on: a bracketed list with a trailing comma stays one item per
line (ruff's "magic trailing comma"), and one that fits in the line length
without it stays on one line. Imports are sorted the way ruff's isort does.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def bracketed(prefix: str, items: list[str], suffix: str, indent: str) -> str:
    """`prefix(a, b)suffix` on one line if it fits, else one item per line."""
    one_line = f"{indent}{prefix}{', '.join(items)}{suffix}"
    if _fits(one_line) and "\n" not in one_line:
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


@dataclass(frozen=True)
class Call:
    """`function(args)`: an expression ruff format splits at its parentheses
    when the line it stands on is too long."""

    function: str
    args: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.function}({', '.join(self.args)})"


Expression = Call | str  # a str is never split


def laid_out(lead: str, expression: Expression, trail: str, indent: str) -> str:
    """`lead + expression + trail` at `indent`, as ruff format lays it out:
    one line when it fits, else a call's arguments on a line of their own
    (they fit there for query names of up to 54 characters, the limit
    README states)."""
    if isinstance(expression, str):
        return f"{indent}{lead}{expression}{trail}"
    one_line = f"{indent}{lead}{expression.text}{trail}"
    if _fits(one_line):
        return one_line
    arguments = f"{indent}{INDENT}{', '.join(expression.args)}"
    return f"{indent}{lead}{expression.function}(\n{arguments}\n{indent}){trail}"


def comprehension(
    lead: str, element: Expression, clause: str, trail: str, indent: str
) -> str:
    """`lead[element clause]trail` at `indent`, as ruff format lays it out.
    A `lead` ending in "(" makes the comprehension a call's only argument."""
    text = element if isinstance(element, str) else element.text
    one_line = f"{indent}{lead}[{text} {clause}]{trail}"
    if _fits(one_line):
        return one_line
    if lead.endswith("("):
        inner = comprehension("", element, clause, "", indent + INDENT)
        return f"{indent}{lead}\n{inner}\n{indent}{trail}"
    inner = laid_out("", element, "", indent + INDENT)
    return f"{indent}{lead}[\n{inner}\n{indent}{INDENT}{clause}\n{indent}]{trail}"


def conditional_argument(
    lead: str, test: str, then: str, otherwise: Expression, indent: str
) -> str:
    """`lead(then if test else otherwise)` at `indent` (`lead` ends in "("), as
    ruff format lays it out."""
    text = otherwise if isinstance(otherwise, str) else otherwise.text
    expression = f"{then} if {test} else {text}"
    one_line = f"{indent}{lead}{expression})"
    if _fits(one_line):
        return one_line
    inner = indent + INDENT
    if _fits(f"{inner}{expression}"):
        return f"{indent}{lead}\n{inner}{expression}\n{indent})"
    parts = [
        f"{inner}{then}",
        f"{inner}if {test}",
        laid_out("else ", otherwise, "", inner),
    ]
    return "\n".join([f"{indent}{lead}", *parts, f"{indent})"])


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
