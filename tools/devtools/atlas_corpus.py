"""The schema states of Atlas's PostgreSQL integration tests, as pairs to diff.

Atlas keeps its PostgreSQL integration tests as testscript archives
(``internal/integration/testdata/postgres/*.txtar``): a script, then files
introduced by ``-- NAME --`` lines. A test moves a schema through states:
``apply N.hcl`` / ``synced N.hcl`` (an HCL state), ``atlas … --to
file://X`` or ``-u file://X`` (the state in file X, SQL or HCL), ``execsql
'…'`` (one statement on top of the current state), and a ``migrations/``
folder (each file adds to the previous ones). This module reads those states
in script order, without running anything; ``devtools.atlas_parity`` renders
the HCL ones to SQL and runs the pairs.

Scripts name their schema ``$db`` (``script_<test name>`` when run); here
every state lives in ``public``, so both names become ``public``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SCHEMA = "public"

_FILE_HEADER = re.compile(r"^-- (\S+) --$", re.MULTILINE)
# The flags by which a CLI command reads a schema from a file.
_SCHEMA_FLAGS = ("--to", "-u", "--url")
_MIGRATION_VERSION = re.compile(r"^migrations/(\d+)[^/]*\.sql$")
# Statements the engine does not diff but later states build on (a domain a
# column's type names, a function a default calls): kept in front of every
# later HCL state, as they stay in the test's database.
_PRELUDE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:DOMAIN|FUNCTION|EXTENSION)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Archive:
    """A txtar file: its script and its named files."""

    script: str
    files: dict[str, str]


@dataclass(frozen=True)
class Part:
    """A piece of a state's source: SQL as is, or HCL to be rendered to SQL."""

    kind: Literal["sql", "hcl"]
    text: str


@dataclass(frozen=True)
class State:
    """One schema state a test moves through: its parts, run in order (an HCL
    part is rendered to SQL on a database holding the parts before it)."""

    test: str
    label: str
    parts: tuple[Part, ...]

    def has_hcl(self) -> bool:
        return any(p.kind == "hcl" for p in self.parts)


@dataclass(frozen=True)
class Extracted:
    """A test's states in order, and what was left out, with why."""

    test: str
    states: tuple[State, ...]
    skipped: tuple[str, ...]


def parse_archive(text: str) -> Archive:
    """Split a txtar text into its script (the comment) and its files."""
    headers = list(_FILE_HEADER.finditer(text))
    script = text[: headers[0].start()] if headers else text
    files: dict[str, str] = {}
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        files[header.group(1)] = text[header.end() + 1 : end]
    return Archive(script, files)


def split_words(line: str) -> list[str]:
    """A script line's words as testscript splits them: on blanks, with
    single-quoted strings kept whole and ``''`` inside them as one quote."""
    words: list[str] = []
    current: list[str] = []
    quoted = in_word = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "'" and line[i + 1 : i + 2] == "'":
                current.append("'")
                i += 1
            elif ch == "'":
                quoted = False
            else:
                current.append(ch)
        elif ch == "'":
            quoted = in_word = True
        elif ch.isspace():
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        else:
            current.append(ch)
            in_word = True
        i += 1
    if quoted:
        raise ValueError(f"unterminated quote in script line: {line!r}")
    if in_word:
        words.append("".join(current))
    return words


def in_public(text: str, test: str) -> str:
    """The text with the script's schema (``$db``, ``script_<test>``) renamed
    to ``public``."""
    script_schema = "script_" + test.replace("-", "_")
    text = text.replace("$db", SCHEMA)
    return re.sub(rf"\b{re.escape(script_schema)}\b", SCHEMA, text)


_TOKEN = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\$\w*\$)|;")


def split_statements(sql: str) -> list[str]:
    """The statements of a script: split after semicolons outside quotes,
    dollar quotes and comments (a last one without ``;`` as it is)."""
    statements: list[str] = []
    start = pos = 0
    while (token := _TOKEN.search(sql, pos)) is not None:
        pos = token.end()
        if token.group(1):
            # A dollar quote runs to the same tag.
            close = sql.find(token.group(1), pos)
            pos = len(sql) if close < 0 else close + len(token.group(1))
        elif token.group(0) == ";":
            statements.append(sql[start:pos].strip())
            start = pos
    rest = sql[start:].strip()
    if _uncommented(rest).strip():
        statements.append(rest)
    return [s for s in statements if s != ";"]


def _prelude_of(sql: str) -> list[str]:
    return [s for s in split_statements(sql) if _PRELUDE.match(_uncommented(s))]


def _uncommented(statement: str) -> str:
    lines = statement.splitlines()
    return "\n".join(ln for ln in lines if not ln.strip().startswith("--"))


def _joined(*parts: str) -> str:
    return "\n".join(p.rstrip() for p in parts if p.strip()) + "\n"


def _migration_states(test: str, files: dict[str, str]) -> list[State]:
    """A migrations/ folder: each prefix of its files, in version order."""
    versioned: list[tuple[int, str]] = []
    for name in files:
        match = _MIGRATION_VERSION.match(name)
        if match:
            versioned.append((int(match.group(1)), name))
    states: list[State] = []
    sql = ""
    for _, name in sorted(versioned):
        sql = _joined(sql, in_public(files[name], test))
        states.append(State(test, name, (Part("sql", sql),)))
    return states


def _file_argument(words: list[str], files: dict[str, str]) -> str | None:
    """The archive file a CLI command reads a schema from, if any."""
    pairs = [tuple(w.split("=", 1)) for w in words if w.startswith("-") and "=" in w]
    pairs += itertools.pairwise(words)
    for flag, value in pairs:
        if flag in _SCHEMA_FLAGS and value.startswith("file://"):
            name = value.removeprefix("file://").removeprefix("./")
            if name in files:
                return name
    return None


def extract(test: str, text: str) -> Extracted:
    """The states of one test, in the order its script reaches them."""
    archive = parse_archive(text)
    states = _migration_states(test, archive.files)
    # The folder's states are cumulative: the last one holds every file.
    prelude = _prelude_of(states[-1].parts[0].text) if states else []
    skipped: list[str] = []

    def source(name: str) -> State | None:
        body = in_public(archive.files[name], test)
        if name.endswith(".sql"):
            return State(test, name, (Part("sql", body),))
        if name.endswith(".hcl"):
            before = (Part("sql", _joined(*prelude)),) if prelude else ()
            return State(test, name, (*before, Part("hcl", body)))
        skipped.append(f"{name}: neither SQL nor HCL")
        return None

    for raw in archive.script.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = split_words(line)
        expected_to_fail = words[0] == "!"
        if expected_to_fail:
            words = words[1:]
        command, args = words[0], words[1:]
        state: State | None = None
        if command in ("apply", "synced") and args and args[0] in archive.files:
            state = source(args[0])
        elif command == "execsql" and args:
            statement = Part(
                "sql", in_public(args[0], test).rstrip().rstrip(";") + ";\n"
            )
            prelude += _prelude_of(statement.text)
            if states:
                last = states[-1]
                state = State(test, f"{last.label} + execsql", (*last.parts, statement))
            else:
                state = State(test, "execsql", (statement,))
        elif command == "atlas":
            name = _file_argument(args, archive.files)
            if name is not None:
                state = source(name)
        if state is not None and expected_to_fail:
            # An apply the test expects to fail never reaches its state; a CLI
            # command expected to fail is a check of its flags, its file read
            # again by the next, passing command.
            if command == "apply":
                skipped.append(f"{state.label}: expected to fail")
        elif state is not None and (not states or states[-1].parts != state.parts):
            states.append(state)
    return Extracted(test, tuple(states), tuple(skipped))


def extract_tree(atlas_src: Path) -> list[Extracted]:
    """Every PostgreSQL test of an ariga/atlas source tree, by file name."""
    folder = atlas_src / "internal" / "integration" / "testdata" / "postgres"
    archives = sorted(folder.glob("*.txtar"))
    if not archives:
        raise FileNotFoundError(f"no PostgreSQL test scripts under {folder}")
    return [extract(p.stem, p.read_text()) for p in archives]
