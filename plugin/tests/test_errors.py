"""Bad input through the real `sqlc generate`: a non-zero exit and a message
that names the query file and the query (or, for options, the option); every
problem of the run is reported, not only the first."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from plugin_support import Example, run_sqlc

SCHEMA = """
CREATE TYPE pair AS (a int, b int);
CREATE TABLE docs (
    id int PRIMARY KEY,
    body text NOT NULL,
    spot pair,
    mac macaddr,
    "a-b" int,
    a_b int
);
CREATE TABLE "x-venues" (id int PRIMARY KEY);
CREATE TABLE x_venues (id int PRIMARY KEY);
"""


# SCHEMA without the tables whose names collide (reported on every run).
UNIQUE_NAMES = SCHEMA.replace(
    "CREATE TABLE x_venues (id int PRIMARY KEY);", ""
).replace(",\n    a_b int", "")


def generate(
    tmp_path: Path, files: dict[str, str], options: str = "{}", schema: str = ""
) -> subprocess.CompletedProcess[str]:
    """sqlc generate over `schema` (UNIQUE_NAMES by default) and `files`
    (query file name -> SQL)."""
    sources = tmp_path / "sources"
    queries = sources / "queries"
    queries.mkdir(parents=True)
    (sources / "schema.sql").write_text(schema or UNIQUE_NAMES)
    for name, sql in files.items():
        (queries / name).write_text(sql)
    workdir = tmp_path / "work"
    workdir.mkdir()
    example = Example("errs_gen", sources / "schema.sql", queries, options)
    return run_sqlc(workdir, [example])


def assert_fails(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    message = result.stdout + result.stderr
    assert result.returncode != 0, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


@pytest.mark.parametrize(
    ("sql", "fragments"),
    [
        (
            "-- name: GetDoc :one\nSELECT id, spot FROM docs WHERE id = $1;\n",
            ("query 'GetDoc'", "column 'spot'", "'pair'"),
        ),
        (
            "-- name: Anything :one\nSELECT coalesce(NULL, NULL) AS y;\n",
            ("query 'Anything'", "column 'y'", "'any'"),
        ),
        (
            "-- name: Position :one\n"
            "SELECT ordinal_position FROM information_schema.columns LIMIT 1;\n",
            ("query 'Position'", "column 'ordinal_position'", "'cardinal_number'"),
        ),
        (
            "-- name: Acl :one\nSELECT relacl FROM pg_catalog.pg_class LIMIT 1;\n",
            ("query 'Acl'", "column 'relacl'", "'_aclitem'"),
        ),
    ],
)
def test_unsupported_type(tmp_path: Path, sql: str, fragments: tuple[str, ...]) -> None:
    ok = "-- name: GetBody :one\nSELECT body FROM docs WHERE id = $1;\n\n"
    result = generate(tmp_path, {"query.sql": ok + sql})
    assert_fails(result, "query.sql: ", *fragments, "unsupported PostgreSQL type")


def test_table_with_unsupported_column_fails_only_where_used(tmp_path: Path) -> None:
    sql = "-- name: GetBody :one\nSELECT id, body FROM docs WHERE id = $1;\n"
    result = generate(tmp_path, {"query.sql": sql}, schema=UNIQUE_NAMES)
    assert result.returncode == 0, result.stderr
    models = (tmp_path / "work" / "errs_gen" / "models.py").read_text()
    assert "class Doc(" not in models
    assert "- table docs, column spot: unsupported PostgreSQL type 'pair'" in models
    assert (
        "class GetBodyRow(" in (tmp_path / "work" / "errs_gen" / "query.py").read_text()
    )


# Types sqlc names without a schema, as it does an extension's, that are
# not one: asyncpg decodes a domain as its base type, a row type as a Record.
NOT_EXTENSION_TYPES = """
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE SCHEMA other;
CREATE TYPE other.pair AS (a int, b int);
CREATE TABLE nodes (id int PRIMARY KEY, path ltree NOT NULL);
CREATE TABLE counts (id int PRIMARY KEY, n posint NOT NULL, p other.pair, up nodes);
"""


def test_domains_and_row_types_are_not_extension_types(tmp_path: Path) -> None:
    sql = (
        "-- name: GetN :one\nSELECT n FROM counts WHERE id = $1;\n\n"
        "-- name: GetP :one\nSELECT p FROM counts WHERE id = $1;\n\n"
        "-- name: GetUp :one\nSELECT up FROM counts WHERE id = $1;\n\n"
        "-- name: GetPath :one\nSELECT path FROM nodes WHERE id = $1;\n"
    )
    result = generate(tmp_path, {"query.sql": sql}, schema=NOT_EXTENSION_TYPES)
    assert_fails(
        result,
        "query.sql: query 'GetN', column 'n': unsupported PostgreSQL type 'posint' "
        "(a domain: asyncpg decodes it as its base type, which sqlc does not report)",
        "query.sql: query 'GetP', column 'p': unsupported PostgreSQL type 'other.pair'",
        "query.sql: query 'GetUp', column 'up': unsupported PostgreSQL type 'nodes'",
    )
    assert "GetPath" not in result.stderr


def test_copyfrom_of_an_extension_type(tmp_path: Path) -> None:
    sql = (
        "-- name: CopyNodes :copyfrom\nINSERT INTO nodes (id, path) VALUES ($1, $2);\n"
    )
    result = generate(tmp_path, {"query.sql": sql}, schema=NOT_EXTENSION_TYPES)
    assert_fails(
        result,
        "query.sql: query 'CopyNodes', column 'path': asyncpg sends ltree as text "
        "only, which its binary COPY cannot carry; use :batchexec",
    )


def test_table_with_an_unnameable_column_fails_only_where_used(tmp_path: Path) -> None:
    schema = UNIQUE_NAMES + 'CREATE TABLE marks (id int PRIMARY KEY, "!!" text);\n'
    ok = "-- name: MarkIds :many\nSELECT id FROM marks;\n"
    result = generate(tmp_path, {"query.sql": ok}, schema=schema)
    assert result.returncode == 0, result.stderr
    models = (tmp_path / "work" / "errs_gen" / "models.py").read_text()
    assert "class Mark(" not in models
    assert (
        "- table marks, column 2: '!!' has no letter or digit to make a Python "
        "name from\n"
    ) in models
    everything = "-- name: Marks :many\nSELECT * FROM marks;\n"
    again = generate(tmp_path / "again", {"query.sql": everything}, schema=schema)
    assert_fails(
        again,
        "query.sql: query 'Marks': table marks has no model: table marks, column 2: "
        "'!!' has no letter or digit to make a Python name from",
    )


@pytest.mark.parametrize("name", ["get-doc", "1doc", "get.doc"])
def test_name_not_an_identifier(tmp_path: Path, name: str) -> None:
    # sqlc rejects these itself; test_cli.py feeds one to the plugin directly.
    sql = f"-- name: {name} :one\nSELECT body FROM docs WHERE id = $1;\n"
    assert_fails(generate(tmp_path, {"query.sql": sql}), "query.sql", name)


def test_columns_that_become_one_name(tmp_path: Path) -> None:
    sql = "-- name: Hidden :one\nSELECT id, body AS _id FROM docs WHERE id = $1;\n"
    result = generate(tmp_path, {"query.sql": sql})
    assert_fails(
        result,
        "query.sql: query 'Hidden': column 'id' and column '_id' both become "
        "the Python name 'id'",
    )


def test_schema_names_that_become_one_name(tmp_path: Path) -> None:
    sql = "-- name: GetBody :one\nSELECT body FROM docs WHERE id = $1;\n"
    result = generate(tmp_path, {"query.sql": sql}, schema=SCHEMA)
    assert_fails(
        result,
        "models.py: table 'x-venues' and table 'x_venues' both become the Python "
        "name 'XVenue'",
        "models.py: table 'docs': column 'a-b' and column 'a_b' both become the "
        "Python name 'a_b'",
    )


def test_every_problem_is_reported(tmp_path: Path) -> None:
    files = {
        "a.sql": (
            "-- name: GetSpot :one\nSELECT spot FROM docs WHERE id = $1;\n\n"
            "-- name: Fine :one\nSELECT body FROM docs WHERE id = $1;\n\n"
            '-- name: Symbols :many\nSELECT 1 AS "!!", 2 AS b FROM docs;\n\n'
            "-- name: Nothing :one\nSELECT FROM docs WHERE id = $1;\n"
        ),
        "b.sql": (
            "-- name: CopyMacs :copyfrom\nINSERT INTO docs (id, mac) VALUES ($1, $2);\n"
        ),
    }
    result = generate(tmp_path, files)
    assert_fails(
        result,
        "a.sql: query 'GetSpot', column 'spot': unsupported PostgreSQL type 'pair'",
        "a.sql: query 'Nothing': :one needs a statement that returns columns",
        "a.sql: query 'Symbols': column '!!' has no letter or digit to make a "
        "Python name from",
        "b.sql: query 'CopyMacs', column 'mac': asyncpg sends macaddr as text only",
    )
    assert "Fine" not in result.stderr


def test_enum_value_named_like_a_position(tmp_path: Path) -> None:
    schema = UNIQUE_NAMES + "CREATE TYPE op AS ENUM ('#', 'value 0');\n"
    sql = "-- name: GetBody :one\nSELECT body FROM docs WHERE id = $1;\n"
    result = generate(tmp_path, {"query.sql": sql}, schema=schema)
    assert_fails(
        result,
        "models.py: enum 'op': value '#' and value 'value 0' both become the "
        "Python name 'VALUE_0'",
    )


def test_names_that_become_one_function(tmp_path: Path) -> None:
    sql = (
        "-- name: GetDoc :one\nSELECT body FROM docs WHERE id = $1;\n\n"
        "-- name: get_doc :one\nSELECT id FROM docs WHERE id = $1;\n"
    )
    result = generate(tmp_path, {"query.sql": sql})
    assert_fails(
        result,
        "query.sql: query 'GetDoc' and query 'get_doc' both become the Python "
        "name 'get_doc'",
    )


def test_same_name_in_two_files(tmp_path: Path) -> None:
    # sqlc rejects this itself; test_cli.py feeds one to the plugin directly.
    one = "-- name: GetBody :one\nSELECT body FROM docs WHERE id = $1;\n"
    result = generate(tmp_path, {"a.sql": one, "b.sql": one})
    assert_fails(result, "b.sql", "duplicate query name: GetBody")


def test_into_needs_rows_of_a_model(tmp_path: Path) -> None:
    sql = (
        "-- name: Touch :exec\n-- @into\nUPDATE docs SET body = body;\n\n"
        "-- name: Bodies :many\n-- @into\nSELECT body FROM docs;\n"
    )
    result = generate(tmp_path, {"query.sql": sql})
    assert_fails(
        result,
        "query.sql: query 'Touch': @into needs :one or :many",
        "query.sql: query 'Bodies': @into needs rows of a model; this query "
        "returns one column's value",
    )


def test_sqlc_slice(tmp_path: Path) -> None:
    sql = "-- name: ByIds :many\nSELECT body FROM docs WHERE id IN (sqlc.slice(ids));\n"
    result = generate(tmp_path, {"query.sql": sql})
    assert_fails(
        result, "query.sql: query 'ByIds'", "sqlc.slice()", "= ANY(@name::type[])"
    )


def test_copyfrom_of_a_text_only_type(tmp_path: Path) -> None:
    sql = "-- name: CopyDocs :copyfrom\nINSERT INTO docs (id, mac) VALUES ($1, $2);\n"
    result = generate(tmp_path, {"query.sql": sql})
    assert_fails(result, "query.sql: query 'CopyDocs', column 'mac'", "use :batchexec")


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        ('{"bogus": 1}', ("unknown plugin option(s) ['bogus']",)),
        ('{"package": "not-a-name"}', ("option package 'not-a-name'",)),
        (
            '{"overrides": [{"column": "docs.body", "python_type": "a b"}]}',
            ("override python_type 'a b'",),
        ),
        ('{"overrides": [{"python_type": "str"}]}', ("needs column or db_type",)),
        ('{"cursor_iterators": "yes"}', ("option cursor_iterators 'yes'",)),
    ],
)
def test_bad_options(tmp_path: Path, options: str, fragments: tuple[str, ...]) -> None:
    sql = "-- name: GetBody :one\nSELECT body FROM docs WHERE id = $1;\n"
    assert_fails(generate(tmp_path, {"query.sql": sql}, options), *fragments)
