"""Facts about a query that decide the shape of its function, read from the
statement's text (all the request says about it)."""

from __future__ import annotations

import re

from sqlc_gen_asyncpg.request import Query

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_QUOTED_NAME = re.compile(r'"(?:[^"]|"")*"')


def _normalised(sql: str) -> str:
    return " ".join(_STRING.sub("''", _COMMENT.sub(" ", sql)).upper().split())


def always_returns_row(query: Query) -> bool:
    """True when the statement yields a row whatever the data, so that a
    :one returns it without `| None` (and raises NoRowReturned should it
    not): `INSERT … VALUES … RETURNING` (see _inserts_its_row) and a SELECT
    of one row by construction (see _selects_one_row). Anything else may
    match nothing and keeps `| None`; when in doubt, so does this."""
    sql = _normalised(query.text)
    return _inserts_its_row(sql) or _selects_one_row(sql)


def _inserts_its_row(sql: str) -> bool:
    """`INSERT … VALUES … RETURNING` that cannot skip its row.

    UPDATE/DELETE may match nothing, `INSERT … SELECT` may insert nothing,
    and ON CONFLICT DO NOTHING or DO UPDATE … WHERE may return no row, so
    all of those keep `| None`.
    """
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


# A statement is read with each parenthesised group, at any depth, replaced
# by `(#n)`, n indexing the groups' own texts (read likewise).
_CTE = r"[\w\"]+ (?:\(#\d+\) )?AS (?:NOT )?(?:MATERIALIZED )?\(#\d+\)"
_MAIN_SELECT = re.compile(
    rf"^(?:WITH (?:RECURSIVE )?{_CTE}(?: ?, ?{_CTE})* )?SELECT (.*)$"
)
# Clauses that group, cut or combine rows, or select into a table.
_ROW_CHANGING = re.compile(
    r"\b(?:GROUP|HAVING|LIMIT|OFFSET|FETCH|UNION|INTERSECT|EXCEPT|WINDOW|INTO"
    r"|DISTINCT|FOR)\b"
)
_CAST = r"(?: ?:: ?\w+(?: (?:PRECISION|VARYING))?(?: ?\(#\d+\))?(?: ?\[\])*)*"
_ALIAS = r"(?: (?:AS )?[\w\"]+)?"
# The built-in aggregates: over any rows, one value.
_AGGREGATE = re.compile(
    r"(?:COUNT|SUM|MIN|MAX|AVG|BOOL_AND|BOOL_OR|EVERY|BIT_AND|BIT_OR|BIT_XOR"
    r"|ARRAY_AGG|STRING_AGG|JSON_AGG|JSONB_AGG|JSON_OBJECT_AGG|JSONB_OBJECT_AGG)"
    rf" ?\(#\d+\)(?: FILTER ?\(#\d+\))?{_CAST}{_ALIAS}"
)
# `EXISTS (subquery)` or `(subquery)`: one value each (the group is checked
# to be a query, not an expression that could hold a set-returning call).
_SUBQUERY = re.compile(rf"(?:(?:NOT )?EXISTS ?)?\(#(\d+)\){_CAST}{_ALIAS}")


def _collapsed(sql: str) -> tuple[str, list[str]] | None:
    """(`sql` with its groups as `(#n)`, the groups), or None when the text
    cannot be read that way (unbalanced, dollar-quoted)."""
    if re.search(r"\$(?!\d)", sql):
        return None
    groups: list[str] = []
    stack: list[list[str]] = [[]]
    for char in _QUOTED_NAME.sub('"Q"', sql):
        if char == "(":
            stack.append([])
        elif char == ")":
            if len(stack) == 1:
                return None
            groups.append("".join(stack.pop()).strip())
            stack[-1].append(f"(#{len(groups) - 1})")
        else:
            stack[-1].append(char)
    if len(stack) != 1:
        return None
    return "".join(stack[0]), groups


def _selects_one_row(sql: str) -> bool:
    """A SELECT that yields exactly one row, whatever the data:

    - every item of its select list is a built-in aggregate, EXISTS
      (subquery) or a scalar (subquery), each maybe cast and aliased (no
      other expression, so no set-returning call), and
    - it has no GROUP BY, HAVING, LIMIT, OFFSET, FETCH, set operation,
      DISTINCT, WINDOW, INTO or locking clause at its top level, and
    - at least one item is an aggregate (an aggregate without GROUP BY
      yields one row even over no rows, WHERE or not), or else it has no
      FROM and no WHERE (one row of EXISTS or subquery values).

    CTEs before it (`WITH … AS (…)`) may be anything: they change no row
    count of the SELECT. Anything not read this way is not one row.
    """
    collapsed = _collapsed(sql)
    if collapsed is None:
        return False
    text, groups = collapsed
    main = _MAIN_SELECT.match(" ".join(text.split()))
    if main is None or _ROW_CHANGING.search(main.group(1)):
        return False
    body = main.group(1)
    select_list = re.split(r" (?:FROM|WHERE|ORDER BY) ", body, maxsplit=1)[0]
    aggregates = 0
    for item in select_list.split(","):
        if _AGGREGATE.fullmatch(item.strip()):
            aggregates += 1
            continue
        subquery = _SUBQUERY.fullmatch(item.strip())
        if subquery is None:
            return False
        if not re.match(r"(?:SELECT|WITH|VALUES)\b", groups[int(subquery.group(1))]):
            return False
    return aggregates > 0 or not re.search(r"\b(?:FROM|WHERE)\b", body)
