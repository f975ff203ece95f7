"""Atlas-driven migration commands against DATABASE_URL or the embedded server.

    python -m devtools.migrate            apply migrations/ (atlas migrate apply)
    python -m devtools.migrate --diff N   diff schema.sql into migration N
    python -m devtools.migrate --lint     atlas migrate validate + lint --latest 1

Commands that need Atlas's dev database get a fresh, separate database on the
same server, dropped afterwards; the target is never used as the dev database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from devtools import PROJECT_ROOT, atlas, database, embedded

MIGRATIONS_DIR = "file://migrations"
SCHEMA_SRC = "file://schema.sql"


@contextmanager
def dev_database(url: str) -> Iterator[str]:
    """A fresh, empty database for Atlas to replay and diff in; dropped after."""
    dev_url, drop = asyncio.run(database.create_database(url, "atlas_dev"))
    try:
        yield dev_url
    finally:
        asyncio.run(drop())


def run_atlas(*args: str) -> int:
    binary = atlas.find_or_build()
    print(f"$ atlas {' '.join(args)}", flush=True)
    return subprocess.call(
        [str(binary), *args], cwd=PROJECT_ROOT, env={**os.environ, **atlas.QUIET_ENV}
    )


def main(argv: list[str]) -> int:
    try:
        url = database.resolve_url()
        database.check(url)
        if not argv:
            return run_atlas("migrate", "apply", "--dir", MIGRATIONS_DIR, "--url", url)
        if argv[0] == "--diff" and len(argv) == 2:
            with dev_database(url) as dev:
                return run_atlas(
                    "migrate",
                    "diff",
                    argv[1],
                    "--dir",
                    MIGRATIONS_DIR,
                    "--to",
                    SCHEMA_SRC,
                    "--dev-url",
                    dev,
                )
        if argv == ["--lint"]:
            with dev_database(url) as dev:
                code = run_atlas(
                    "migrate", "validate", "--dir", MIGRATIONS_DIR, "--dev-url", dev
                )
                if code == 0:
                    code = run_atlas(
                        "migrate",
                        "lint",
                        "--dir",
                        MIGRATIONS_DIR,
                        "--dev-url",
                        dev,
                        "--latest",
                        "1",
                    )
                return code
    except (
        database.DatabaseUnreachable,
        embedded.EmbeddedServerError,
        atlas.AtlasUnavailable,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("usage: python -m devtools.migrate [--diff NAME | --lint]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
