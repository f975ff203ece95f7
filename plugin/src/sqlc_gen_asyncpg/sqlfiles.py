"""What the plugin reads from the SQL files itself, beside sqlc's request: a
query file's header comment and the domains a schema declares. sqlc's
request has neither. The files are read at the paths sqlc.yaml gives,
relative to the working directory (sqlc's, when it runs the plugin); a file
that cannot be read counts as saying nothing.

Also the handling of comment lines as sqlc hands them over."""

from __future__ import annotations

import re
from pathlib import Path


def comment_lines(comments: tuple[str, ...]) -> list[str]:
    """sqlc hands over each `--` line without the dashes (" text"): the
    lines without that one leading space."""
    return [c[1:] if c.startswith(" ") else c for c in comments]


def docstring_text(lines: list[str]) -> str:
    """The lines as one text, trailing spaces and blank first and last lines
    removed ("" for none)."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def file_header(path: Path) -> list[str]:
    """The comment block that opens a query file, when a blank line ends it
    (so it is the file's, not its first query's); [] if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    header: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and not stripped.startswith("-- name:"):
            header.append(stripped[2:])
            continue
        return comment_lines(tuple(header)) if header and not stripped else []
    return []


def query_file_header(query_paths: tuple[str, ...], filename: str) -> list[str]:
    """The header (file_header) of the query file sqlc names `filename`,
    found through sqlc.yaml's `queries` (files or folders)."""
    for configured in query_paths:
        path = Path(configured)
        candidate = path / filename if path.is_dir() else path
        if candidate.name == filename and candidate.is_file():
            return file_header(candidate)
    return []


_DOMAIN = re.compile(
    r'\bCREATE\s+DOMAIN\s+(?:(?:"[^"]*"|[\w$]+)\s*\.\s*)?("[^"]*"|[\w$]+)',
    re.IGNORECASE,
)


def declared_domains(schema_paths: tuple[str, ...]) -> frozenset[str]:
    """Lower-cased names of the domains `CREATE DOMAIN` declares in the
    schema files (a folder's `.sql` files, as sqlc reads them). sqlc's
    catalog leaves domains out and names a domain column's type as it would
    an extension's; asyncpg decodes a domain as its base type, so the two
    must not be taken for one another. A match inside a comment or string
    only makes a type of that name refused."""
    names: set[str] = set()
    for configured in schema_paths:
        path = Path(configured)
        files = sorted(path.glob("*.sql")) if path.is_dir() else [path]
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            names.update(m.group(1).strip('"').lower() for m in _DOMAIN.finditer(text))
    return frozenset(names)
