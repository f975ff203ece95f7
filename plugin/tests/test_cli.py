"""cli.run on GenerateRequests sqlc recorded (plugin/tests/requests/), as is
and modified in memory for input sqlc itself would refuse."""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from sqlc_gen_asyncpg.cli import METHOD, run

REQUESTS = Path(__file__).parent / "requests"
EXPECTED = {
    "authors": ["__init__.py", "models.py", "py.typed", "query.py"],
    "batch": ["__init__.py", "models.py", "py.typed", "query.py"],
    "jets": ["__init__.py", "models.py", "py.typed", "query_building.py"],
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REQUESTS / f"{name}.json").read_text())
    return data


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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_request(name: str) -> None:
    status, out, err = invoke(load(name))
    assert (status, err) == (0, "")
    files = decoded(out)
    assert list(files) == EXPECTED[name]
    assert files["py.typed"] == ""
    for file, text in files.items():
        compile(text, file, "exec")
    package = f"{name}_gen"  # settings.codegen.out is gen/<name>_gen
    assert f"from {package} import Executor" in files[EXPECTED[name][-1]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_output_is_byte_identical_across_runs(name: str) -> None:
    first, second = invoke(load(name)), invoke(load(name))
    assert first[0] == 0
    assert first == second


def test_no_method_argument_is_accepted() -> None:
    assert invoke(load("jets"), [])[0] == 0


def test_unknown_method() -> None:
    status, out, err = invoke(load("jets"), ["/plugin.CodegenService/Nope"])
    assert (status, out) == (2, "")
    assert "unknown method '/plugin.CodegenService/Nope'" in err


def test_name_not_an_identifier() -> None:
    request = load("authors")
    request["queries"][0]["name"] = "get-author"
    status, out, err = invoke(request)
    assert (status, out) == (1, "")
    assert (
        err
        == "sqlc-gen-asyncpg: query.sql: query 'get-author': the name is not a Python identifier\n"
    )


def test_same_name_in_two_files() -> None:
    request = load("authors")
    again = copy.deepcopy(request["queries"][0])
    again["filename"] = "other.sql"
    request["queries"].append(again)
    status, out, err = invoke(request)
    assert (status, out) == (1, "")
    assert "other.sql: query 'GetAuthor' is also defined in query.sql" in err


def test_unknown_option() -> None:
    request = load("authors")
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
