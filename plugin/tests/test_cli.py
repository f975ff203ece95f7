"""cli.run in process on the GenerateRequests sqlc sends for the plugin's own
corpora (recorded by running sqlc), as is and modified in memory for input
sqlc itself would refuse."""

from __future__ import annotations

import ast
import base64
import copy
import io
import json
from typing import Any

import pytest

import test_catalog
import test_features
import test_names
import test_types
from plugin_support import Example, record_request
from sqlc_gen_asyncpg.cli import METHOD, run

EXAMPLES: dict[str, Example] = {
    "catalog": test_catalog.EXAMPLE,
    "features": test_features.EXAMPLE,
    "names": test_names.EXAMPLE,
    "types": test_types.EXAMPLE,
}
EXPECTED = ["__init__.py", "models.py", "py.typed", "query.py"]


@pytest.fixture(scope="module")
def requests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return {
        name: record_request(tmp_path_factory.mktemp(name), example)
        for name, example in EXAMPLES.items()
    }


def invoke(
    request: dict[str, Any], argv: list[str] | None = None
) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run(
        [METHOD] if argv is None else argv,
        io.StringIO(json.dumps(request)),
        stdout,
        stderr,
    )
    return status, stdout.getvalue(), stderr.getvalue()


def decoded(output: str) -> dict[str, str]:
    files = json.loads(output)["files"]
    return {f["name"]: base64.b64decode(f["contents"]).decode() for f in files}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_recorded_request(name: str, requests: dict[str, dict[str, Any]]) -> None:
    status, out, err = invoke(requests[name])
    assert (status, err) == (0, "")
    files = decoded(out)
    assert list(files) == EXPECTED
    assert files["py.typed"] == ""
    for file, text in files.items():
        compile(text, file, "exec")
    package = EXAMPLES[name].package  # settings.codegen.out
    imported = {
        alias.name
        for node in ast.parse(files["query.py"]).body
        if isinstance(node, ast.ImportFrom) and node.module == package
        for alias in node.names
    }
    assert "Executor" in imported


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_output_is_byte_identical_across_runs(
    name: str, requests: dict[str, dict[str, Any]]
) -> None:
    first, second = invoke(requests[name]), invoke(requests[name])
    assert first[0] == 0
    assert first == second


def test_no_method_argument_is_accepted(requests: dict[str, dict[str, Any]]) -> None:
    assert invoke(requests["names"], [])[0] == 0


def test_unknown_method(requests: dict[str, dict[str, Any]]) -> None:
    status, out, err = invoke(requests["names"], ["/plugin.CodegenService/Nope"])
    assert (status, out) == (2, "")
    assert "unknown method '/plugin.CodegenService/Nope'" in err


def test_query_names_sqlc_refuses(requests: dict[str, dict[str, Any]]) -> None:
    request = copy.deepcopy(requests["names"])
    names = [q["name"] for q in request["queries"]]
    request["queries"][names.index("AddVenue")]["name"] = "add-venue"
    request["queries"][names.index("List")]["name"] = "--"
    request["queries"][names.index("GetCode")]["name"] = "add_venue"
    status, out, err = invoke(request)
    assert (status, out) == (1, "")
    assert err == (
        "sqlc-gen-asyncpg: query.sql: query '--': the name is not a Python "
        "identifier\n"
        "sqlc-gen-asyncpg: query.sql: query 'add-venue' and query 'add_venue' both "
        "become the Python name 'add_venue'; rename one of them (or alias it with "
        "AS)\n"
    )


def test_same_name_in_two_files(requests: dict[str, dict[str, Any]]) -> None:
    request = copy.deepcopy(requests["names"])
    again = copy.deepcopy(request["queries"][0])
    again["filename"] = "other.sql"
    request["queries"].append(again)
    status, out, err = invoke(request)
    assert (status, out) == (1, "")
    assert "other.sql: query 'AddVenue' is also defined in query.sql" in err


def test_unknown_option(requests: dict[str, dict[str, Any]]) -> None:
    request = copy.deepcopy(requests["names"])
    request["plugin_options"] = base64.b64encode(b'{"bogus": true}').decode()
    status, out, err = invoke(request)
    assert (status, out) == (1, "")
    assert "unknown plugin option(s) ['bogus']" in err


def test_request_that_is_not_json() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run([METHOD], io.StringIO("{not json"), stdout, stderr)
    assert (status, stdout.getvalue()) == (1, "")
    assert stderr.getvalue().startswith(
        "sqlc-gen-asyncpg: the request on stdin is not JSON ("
    )
    assert len(stderr.getvalue().splitlines()) == 1


def test_cursor_iterators_option(requests: dict[str, dict[str, Any]]) -> None:
    request = copy.deepcopy(requests["features"])
    assert "async def find_owners_iter(" not in decoded(invoke(request)[1])["query.py"]
    options = {"cursor_iterators": True}
    request["plugin_options"] = base64.b64encode(json.dumps(options).encode()).decode()
    status, out, err = invoke(request)
    assert (status, err) == (0, "")
    many = [q["name"] for q in request["queries"] if q["cmd"] == ":many"]
    code = decoded(out)["query.py"]
    assert code.count("_iter(") == len(many) > 2
    assert "async def find_owners_iter(" in code


def _query(request: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in request["queries"] if q["name"] == name)
    return found


@pytest.mark.parametrize(
    ("schema", "name", "shown"),
    [
        ("", "ltree", ""),  # as sqlc names an extension's type
        ("ext", "ltree", ""),  # the extension installed in a schema of its own
        ("pg_catalog", "ltree", "ltree"),  # no such type in pg_catalog
        ("", "pg_catalog.ltree", "ltree"),
        ("information_schema", "ltree", "information_schema.ltree"),
        ("", "anyelement", "anyelement"),  # a pseudo-type
        ("", "_ltree", "_ltree"),  # an array type's own name
        ("", "nodes", "nodes"),  # a table's row type
        ("public", "nodes", "public.nodes"),
        ("", "op", ""),  # an enum: not str, the enum class
        ("", "", "(no type: sqlc could not infer one; add a ::cast)"),
    ],
)
def test_which_named_types_are_an_extensions(
    requests: dict[str, dict[str, Any]], schema: str, name: str, shown: str
) -> None:
    """A named type that is no built-in, enum, composite or table type and
    not in PostgreSQL's own schemas is an extension's: `str`. Everything
    else the mapping does not know stays refused."""
    request = copy.deepcopy(requests["catalog"])
    _query(request, "Parent")["columns"][0]["type"] = {"schema": schema, "name": name}
    status, out, err = invoke(request)
    if shown:
        assert (status, out) == (1, "")
        assert (
            "query.sql: query 'Parent', column 'subpath': unsupported PostgreSQL "
            f"type {shown!r}"
        ) in err
        return
    assert (status, err) == (0, "")
    returned = "Op" if name == "op" else "str"
    signature = f"def parent(conn: Executor, *, id: int) -> {returned} | None:\n"
    assert signature in decoded(out)["query.py"]


def test_query_reading_a_view_without_a_model(
    requests: dict[str, dict[str, Any]],
) -> None:
    """sqlc itself refuses `SELECT *` over a view with an unnamed column
    ("zero-length delimited identifier"); a request that reads all of its
    columns anyway is refused naming the view and why it has no model."""
    request = copy.deepcopy(requests["catalog"])
    view = next(
        table
        for schema in request["catalog"]["schemas"]
        for table in schema["tables"]
        if table["rel"]["name"] == "node_depths"
    )
    query = _query(request, "DepthIds")
    query["columns"] = copy.deepcopy(view["columns"])
    status, out, err = invoke(request)
    assert (status, out) == (1, "")
    assert err == (
        "sqlc-gen-asyncpg: query.sql: query 'DepthIds': table node_depths has no "
        "model: table node_depths, column 2: no name (an expression without AS in "
        "the view)\n"
    )
