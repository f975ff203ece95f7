"""squawk over the migration files, the one way the project runs it
(`nox -s lint` and tests/migrations both come here).

    python -m devtools.squawk [DIR]    every .sql file of DIR (default: migrations/)

- The project's `.squawk.toml` applies, with each file named relative to
  DIR's parent, so its `excluded_paths` hold for a copy of migrations/ too.
- A file whose header says `-- atlas:txmode none` runs outside a
  transaction (the migration engine's rule, devtools.sqlfile): it is checked
  with `--no-assume-in-transaction`, so `CREATE INDEX CONCURRENTLY` passes
  there and is still refused in a transactional file.
- A finding of a rule in DELIBERATE_RULES on a statement carrying the
  project's marker, `-- schemaflow:allow-destructive <reason>` directly
  above it, is allowed and printed with its reason; `migrate lint` honours
  the same marker. A marker without a reason, or above no statement, is
  refused.

Every finding is printed as `file:line:column: rule: message`; the exit
status is 1 when any is refused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools import PROJECT_ROOT, sqlfile
from devtools.migrate import MIGRATIONS_DIR

CONFIG = PROJECT_ROOT / ".squawk.toml"

# squawk 2.70.0's rules about taking data, an object or a name away from the
# code that uses it: a deliberate change can mean exactly that, so the
# marker lets them through. Rules about locks, timeouts, types and
# transactions are not here: no reason makes a table lock short.
DELIBERATE_RULES = frozenset(
    {
        "ban-drop-column",
        "ban-drop-constraint",
        "ban-drop-database",
        "ban-drop-default",
        "ban-drop-domain",
        "ban-drop-extension",
        "ban-drop-function",
        "ban-drop-generated-expression",
        "ban-drop-index",
        "ban-drop-not-null",
        "ban-drop-schema",
        "ban-drop-sequence",
        "ban-drop-table",
        "ban-drop-trigger",
        "ban-drop-type",
        "ban-drop-view",
        "ban-set-schema",
        "ban-truncate-cascade",
        "renaming-column",
        "renaming-object",
        "renaming-table",
    }
)


class SquawkFailed(RuntimeError):
    """squawk did not run or did not answer in JSON."""


@dataclass(frozen=True)
class Finding:
    path: str  # as squawk names it: relative to the directory's parent
    at: sqlfile.Position
    rule: str
    message: str
    help: str | None

    def __str__(self) -> str:
        text = f"{self.path}:{self.at.line + 1}:{self.at.column + 1}: {self.rule}: {self.message}"
        return f"{text} ({self.help})" if self.help else text


@dataclass
class Verdict:
    files: int = 0
    refused: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)


def binary() -> str:
    found = shutil.which("squawk")
    if found is None:
        raise SquawkFailed("squawk not found: squawk-cli is part of the dev extra")
    # Absolute: squawk runs in the migrations' parent directory.
    return str(Path(found).absolute())


def run(root: Path, paths: list[str], *, in_transaction: bool) -> list[Finding]:
    """squawk's findings for files named relative to `root`."""
    mode = "--assume-in-transaction" if in_transaction else "--no-assume-in-transaction"
    done = subprocess.run(
        [
            binary(),
            "--config",
            str(CONFIG),
            "--reporter",
            "json",
            mode,
            # A file the config excludes is no error.
            "--no-error-on-unmatched-pattern",
            *paths,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        raw: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise SquawkFailed(
            f"squawk exited {done.returncode} without its JSON report:\n"
            f"{done.stdout}{done.stderr}"
        ) from exc
    if done.returncode not in (0, 1) or (done.returncode == 1 and not raw):
        raise SquawkFailed(f"squawk exited {done.returncode}:\n{done.stderr}")
    return [
        Finding(
            f["file"],
            sqlfile.Position(f["line"], f["column"]),
            f["rule_name"],
            f["message"],
            f.get("help"),
        )
        for f in raw
    ]


def check(directory: Path = MIGRATIONS_DIR) -> Verdict:
    """Every .sql file of `directory` through squawk, judged."""
    root = directory.parent
    texts = {
        f"{directory.name}/{p.name}": p.read_text()
        for p in sorted(directory.glob("*.sql"))
    }
    verdict = Verdict(files=len(texts))
    outside = [
        path for path, text in texts.items() if sqlfile.runs_outside_transaction(text)
    ]
    inside = [path for path in texts if path not in outside]
    findings = []
    for paths, in_transaction in ((inside, True), (outside, False)):
        if paths:
            findings += run(root, paths, in_transaction=in_transaction)
    marks = {path: sqlfile.markers(text) for path, text in texts.items()}
    starts = {path: sqlfile.statement_starts(text) for path, text in texts.items()}
    for path, mark in marks.items():
        verdict.refused += [
            f"{path}:{line}: {problem}" for line, problem in mark.problems
        ]
    for finding in sorted(findings, key=lambda f: (f.path, f.at.line, f.at.column)):
        if finding.rule not in DELIBERATE_RULES:
            verdict.refused.append(str(finding))
            continue
        start = sqlfile.statement_at(starts[finding.path], finding.at)
        reason = marks[finding.path].reasons.get(start) if start else None
        if reason:
            verdict.allowed.append(f"allowed ({reason}): {finding}")
        else:
            verdict.refused.append(f"{finding} ({sqlfile.HINT})")
    return verdict


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: python -m devtools.squawk [MIGRATIONS_DIR]", file=sys.stderr)
        return 2
    directory = Path(argv[0]).resolve() if argv else MIGRATIONS_DIR
    try:
        verdict = check(directory)
    except SquawkFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in verdict.allowed + verdict.refused:
        print(line)
    print(
        f"squawk: {verdict.files} file(s) checked, {len(verdict.refused)} refused, "
        f"{len(verdict.allowed)} allowed"
    )
    return 1 if verdict.refused else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
