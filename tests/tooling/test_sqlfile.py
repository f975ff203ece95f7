"""devtools.sqlfile reads a migration file as the migration engine does: the
same table of cases (tools/schemaflow/testdata/lint_rules.json) runs through
`go test` against the engine's parser and `migrate lint`'s marker, so squawk's
wrapper and `migrate lint` find the same statements, transaction mode and
markers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools import atlas, sqlfile

CASES: list[dict[str, Any]] = json.loads(
    (atlas.ENGINE_SOURCE / "testdata" / "lint_rules.json").read_text()
)
PROBLEMS = {sqlfile.NO_REASON: "no reason", sqlfile.DETACHED: "detached"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_a_file_reads_as_the_engine_reads_it(case: dict[str, Any]) -> None:
    text = case["sql"]
    mode = "none" if sqlfile.runs_outside_transaction(text) else "file"
    assert mode == case["txmode"]
    marks = sqlfile.markers(text)
    starts = sqlfile.statement_starts(text)
    assert [marks.reasons.get(s, "") for s in starts] == case["reasons"]
    assert [[line, PROBLEMS[p]] for line, p in marks.problems] == case["problems"]


def test_a_finding_belongs_to_the_statement_around_it() -> None:
    text = (
        "SET LOCAL lock_timeout = '5s';\n"
        "-- schemaflow:allow-destructive why\n"
        "ALTER TABLE t\n"
        "  DROP COLUMN a;  ALTER TABLE t DROP COLUMN b;\n"
    )
    starts = sqlfile.statement_starts(text)
    reasons = sqlfile.markers(text).reasons
    # squawk puts a DROP COLUMN finding on the clause, 0-based.
    first = sqlfile.statement_at(starts, sqlfile.Position(3, 2))
    second = sqlfile.statement_at(starts, sqlfile.Position(3, 32))
    assert first == sqlfile.Position(2, 0)
    assert second == sqlfile.Position(3, 18)
    assert reasons.get(first) == "why"
    assert second not in reasons
