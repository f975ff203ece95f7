"""Facts about a query that decide the shape of its function."""

from __future__ import annotations

import re

from sqlc_gen_asyncpg.request import Query

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")


def _normalised(sql: str) -> str:
    return " ".join(_STRING.sub("''", _COMMENT.sub(" ", sql)).upper().split())


def always_returns_row(query: Query) -> bool:
    """True for `INSERT … VALUES … RETURNING` that cannot skip its row.

    UPDATE/DELETE/SELECT may match nothing, `INSERT … SELECT` may insert
    nothing, and ON CONFLICT DO NOTHING or DO UPDATE … WHERE may return no
    row, so all of those keep `| None`.
    """
    sql = _normalised(query.text)
    if not sql.startswith("INSERT ") or " RETURNING " not in f"{sql} ":
        return False
    head = sql.split(" RETURNING ")[0]
    if " VALUES" not in head or " SELECT " in head:
        return False
    if " ON CONFLICT " in head:
        action = head.split(" ON CONFLICT ", 1)[1]
        if "DO NOTHING" in action or " WHERE " in action.split(" DO UPDATE ", 1)[-1]:
            return False
    return True
