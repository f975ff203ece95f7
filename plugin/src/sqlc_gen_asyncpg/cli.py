"""Entry point sqlc runs: `sqlc-gen-asyncpg /plugin.CodegenService/Generate`.

Reads the GenerateRequest (JSON) on stdin, writes the GenerateResponse on
stdout. Bad input ends with one line per problem on stderr and exit status 1,
which `sqlc generate` reports with the plugin's output.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any, TextIO

from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.generate import generate
from sqlc_gen_asyncpg.request import GenerateRequest

METHOD = "/plugin.CodegenService/Generate"


def default_package(settings: dict[str, Any] | None) -> str:
    """The output directory's last part, e.g. src/generated -> generated."""
    out = ((settings or {}).get("codegen") or {}).get("out") or "generated"
    return str(out).rstrip("/").rsplit("/", 1)[-1]


def respond(raw: dict[str, Any]) -> dict[str, Any]:
    request = GenerateRequest.parse(raw)
    files = generate(request, default_package(raw.get("settings")))
    return {
        "files": [
            {"name": name, "contents": base64.b64encode(text.encode()).decode()}
            for name, text in sorted(files.items())
        ]
    }


def run(argv: list[str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if argv and argv[0] != METHOD:
        stderr.write(
            f"sqlc-gen-asyncpg: unknown method {argv[0]!r}; expected {METHOD}\n"
        )
        return 2
    try:
        raw = json.load(stdin)
    except json.JSONDecodeError as exc:
        stderr.write(f"sqlc-gen-asyncpg: the request on stdin is not JSON ({exc})\n")
        return 1
    try:
        response = respond(raw)
    except GenerateError as exc:
        for problem in exc.problems:
            stderr.write(f"sqlc-gen-asyncpg: {problem}\n")
        return 1
    json.dump(response, stdout)
    return 0


def main() -> None:
    raise SystemExit(run(sys.argv[1:], sys.stdin, sys.stdout, sys.stderr))
