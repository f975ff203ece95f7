"""What the linters read in a migration file besides SQL: where its
statements start, its transaction mode and the project's marker.

The rules are the migration engine's, so that squawk (devtools.squawk) and
`migrate lint` (tools/schemaflow) judge a file alike:

- statements end at a `;` outside parentheses, quotes, dollar quotes and
  comments, as the engine's parser splits them;
- `-- atlas:txmode none` counts among the header comments only (the comment
  lines at the top of the file, followed by a blank line), as the engine
  reads file directives; such a file runs outside a transaction;
- the marker `-- schemaflow:allow-destructive <reason>` lets the statement
  beginning on the line below its comment block through, as
  tools/schemaflow/internal/allowmark reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = re.compile(r"^[ \t]*--[ \t]*schemaflow:allow-destructive(?:[ \t]+(.*))?$")
COMMENT_LINE = re.compile(r"^[ \t]*--")
# A file directive as the engine matches one: anything printable, then
# atlas:NAME and its arguments.
DIRECTIVE = re.compile(r"^[ -~]*atlas:(\w+)(?: +(.+))?")
DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z\u00c8-\u00ff_][\w\u00c8-\u00ff]*)?\$")

HINT = (
    'if intended, add a line "-- schemaflow:allow-destructive <why>" directly '
    "above the statement, then nox -s migrate -- --hash"
)
NO_REASON = (
    "schemaflow:allow-destructive without a reason: write why the change is "
    "intended after it"
)
DETACHED = (
    "schemaflow:allow-destructive is not directly above a statement (no blank "
    "line may come between), so it lets nothing through"
)


@dataclass(frozen=True)
class Position:
    """0-based line and column, as squawk's JSON reports them."""

    line: int
    column: int


def statement_starts(text: str) -> list[Position]:
    """Where each statement begins (its first character after whitespace and
    leading comments)."""
    starts: list[Position] = []
    i, depth, in_statement = 0, 0, False
    line, line_start = 0, 0
    n = len(text)

    def skip_to(end: int) -> None:
        nonlocal i, line, line_start
        newlines = text.count("\n", i, end)
        if newlines:
            line += newlines
            line_start = text.rindex("\n", i, end) + 1
        i = end

    while i < n:
        c = text[i]
        if c.isspace():
            skip_to(i + 1)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            skip_to(n if end < 0 else end)
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            skip_to(n if end < 0 else end + 2)
        else:
            if not in_statement:
                starts.append(Position(line, i - line_start))
                in_statement = True
            if c in "'\"":
                escaped = c == "'" and i > 0 and text[i - 1] in "Ee"
                skip_to(_quote_end(text, i, c, escaped))
            elif c == "$" and (m := DOLLAR_QUOTE.match(text, i)):
                end = text.find(m.group(), m.end())
                skip_to(n if end < 0 else end + len(m.group()))
            else:
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth = max(0, depth - 1)
                elif c == ";" and depth == 0:
                    in_statement = False
                skip_to(i + 1)
    return starts


def _quote_end(text: str, i: int, quote: str, escaped: bool) -> int:
    """The index after the quote closing the one at i ('' is two quotes)."""
    j = i + 1
    while j < len(text):
        if escaped and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        j += 1
    return len(text)


def header_directives(text: str, name: str) -> list[str]:
    """The arguments of the file directives `atlas:<name>` ('' for none):
    the comment lines at the top, counted only when a blank line follows."""
    header: list[str] = []
    content = text
    while content.startswith(("#", "--")):
        end = content.find("\n")
        if end < 0:
            header.append(content)
            break
        header.append(content[:end].strip())
        content = content[end + 1 :]
    if content and not content.lstrip(" \t").startswith("\n"):
        return []
    found = []
    for comment in header:
        m = DIRECTIVE.match(comment)
        if m and m.group(1) == name:
            found.append((m.group(2) or "").strip())
    return found


def runs_outside_transaction(text: str) -> bool:
    """`-- atlas:txmode none` in the header, as the engine reads it."""
    return header_directives(text, "txmode") == ["none"]


@dataclass(frozen=True)
class Markers:
    """A file's markers: the reasons by the start of the statement they
    cover, and the markers that let nothing through."""

    reasons: dict[Position, str]
    problems: list[tuple[int, str]]  # (1-based line, what is wrong)


def markers(text: str) -> Markers:
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    found = {
        i: (m.group(1) or "").strip()
        for i, line in enumerate(lines)
        if (m := MARKER.match(line))
    }
    reasons: dict[Position, str] = {}
    attached: set[int] = set()
    for start in statement_starts(text):
        if lines[start.line][: start.column].strip():
            continue  # only the first statement on its line is covered
        block = []
        above = start.line - 1
        while above >= 0 and COMMENT_LINE.match(lines[above]):
            block.append(above)
            above -= 1
        attached.update(line for line in block if line in found)
        given = [found[line] for line in reversed(block) if found.get(line)]
        if given:
            reasons[start] = "; ".join(given)
    problems = [
        (line + 1, NO_REASON if not reason else DETACHED)
        for line, reason in sorted(found.items())
        if not reason or line not in attached
    ]
    return Markers(reasons, problems)


def statement_at(starts: list[Position], at: Position) -> Position | None:
    """The start of the statement holding `at` (the last one starting at or
    before it)."""
    before = [s for s in starts if (s.line, s.column) <= (at.line, at.column)]
    return before[-1] if before else None
