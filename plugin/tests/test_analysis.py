"""Which statements yield a row whatever the data, so that their :one
function returns it without `| None` (analysis.always_returns_row): decided
from the statement's text, and when in doubt, not."""

from __future__ import annotations

import pytest

from sqlc_gen_asyncpg.analysis import always_returns_row
from sqlc_gen_asyncpg.request import Query

SYNC = """WITH given AS (SELECT unnest($1::text[]) AS path), written AS (
    INSERT INTO t (a) SELECT path FROM given RETURNING (xmax = 0) AS inserted
), removed AS (DELETE FROM t f WHERE f.a = $2 RETURNING 1)
SELECT
    (SELECT count(*) FROM written WHERE inserted)::bigint AS created,
    (SELECT count(*) FROM removed)::bigint AS deleted"""


def one(text: str) -> Query:
    return Query("Q", ":one", text, "query.sql", (), (), (), None)


@pytest.mark.parametrize(
    "text",
    [
        "INSERT INTO users (email, name) VALUES ($1, $2) RETURNING *",
        "SELECT EXISTS (\n  SELECT 1 FROM projects WHERE id = $1\n) AS found",
        "SELECT NOT EXISTS(SELECT 1 FROM t)",
        "SELECT count(*) FROM pilots",
        "SELECT COUNT(*) FROM t WHERE a = $1  -- counted ( one row",
        "SELECT count(*)::int AS n, max(x) FROM t WHERE a = $1 ORDER BY 1",
        "SELECT count(*) FILTER (WHERE a) AS n FROM t",
        "SELECT sum(x)::double precision FROM t",
        'SELECT count(*) AS "the (count" FROM t',
        "SELECT count(*), EXISTS (SELECT 1 FROM u) FROM t WHERE b = ')'",
        SYNC,
    ],
)
def test_one_row_whatever_the_data(text: str) -> None:
    assert always_returns_row(one(text))


@pytest.mark.parametrize(
    "text",
    [
        "SELECT upper($1::text)::text AS shout",  # one row, but not read as such
        "SELECT pg_advisory_lock($1)",
        "SELECT id FROM t WHERE id = $1",
        "SELECT count(*) FROM t GROUP BY a",
        "SELECT count(*) FROM t HAVING count(*) > 1",
        "SELECT count(*) FROM t LIMIT $1",
        "SELECT count(*) FROM t OFFSET 1",
        "SELECT count(*) FROM t FETCH FIRST 0 ROWS ONLY",
        "SELECT count(*) FROM t UNION ALL SELECT 1",
        "SELECT DISTINCT count(*) FROM t",
        "SELECT EXISTS (SELECT 1) WHERE $1",
        "SELECT EXISTS (SELECT 1) FROM t",
        "SELECT (generate_series(1, 0))",  # a set-returning call in parentheses
        "SELECT count(*), unnest(a) FROM t",
        "SELECT generate_series(1, count(*)) FROM t",
        "SELECT count(*) OVER () FROM t",
        "SELECT mycount(*) FROM t",
        "SELECT $$x$$, count(*) FROM t",
        "SELECT count(*) FROM t) (",
        "UPDATE t SET a = 1 RETURNING (SELECT count(*) FROM t)",
        "INSERT INTO t (a) SELECT 1 RETURNING *",
        "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING RETURNING *",
        "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2 "
        "WHERE t.a = 0 RETURNING *",
    ],
)
def test_maybe_no_row(text: str) -> None:
    assert not always_returns_row(one(text))
