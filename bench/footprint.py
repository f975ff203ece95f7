"""python -m bench footprint: what one file row, one project and one agent-state
save cost on disk and in WAL, measured on a real server (docs/scaling.md).

Files are real source text: the .py files of the running interpreter's
standard library (realistic sizes and compressibility), written through the
repositories (`files.sync`, `agent_states.save`, `files.put`) as the
application writes them, several copies of the tree under distinct prefixes
in one project. The figures are estimates for this kind of content; other
content compresses differently.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import sysconfig
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from bench import data, database
from devtools.database import app_login_url, auth_login_url, redact, resolve_url
from repositories import InvalidInput, Store, validation
from repositories._database import TENANT_TABLES

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Relation:
    """Sizes of one table after VACUUM, in bytes."""

    table: str
    rows: int
    heap: int
    toast: int  # the TOAST table and its index
    indexes: dict[str, int]
    total: int


@dataclass(frozen=True)
class WalCost:
    what: str
    operations: int
    wal_bytes: int
    stored_bytes: int | None = None  # the value as stored, when one is measured

    @property
    def per_operation(self) -> float:
        return self.wal_bytes / self.operations


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def source_tree() -> dict[str, str]:
    """The standard library's .py files that the contract accepts, by path."""
    root = Path(sysconfig.get_paths()["stdlib"])
    tree: dict[str, str] = {}
    for file in sorted(root.rglob("*.py")):
        relative = file.relative_to(root)
        if "site-packages" in relative.parts:
            continue
        try:
            text = file.read_text(encoding="utf-8")
            path = validation.path(f"lib/{relative.as_posix()}")
            validation.content(text, validation.DEFAULT_MAX_CONTENT_BYTES)
        except (UnicodeDecodeError, InvalidInput):
            continue  # a few test fixtures are not UTF-8 or not valid paths
        tree[path] = text
    return tree


def copies(tree: dict[str, str], count: int) -> Iterator[dict[str, str]]:
    for copy in range(count):
        yield {f"copy{copy:03d}/{path}": text for path, text in tree.items()}


async def wal_position(conn: asyncpg.Connection[Any]) -> int:
    lsn: int = await conn.fetchval(
        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint"
    )
    return lsn


async def relation_sizes(conn: asyncpg.Connection[Any], table: str) -> Relation:
    row = await conn.fetchrow(
        "SELECT pg_relation_size(c.oid) AS heap, "
        "coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast, "
        "pg_total_relation_size(c.oid) AS total "
        "FROM pg_class c WHERE c.oid = $1::regclass",
        table,
    )
    assert row is not None
    indexes = await conn.fetch(
        "SELECT i.relname, pg_relation_size(i.oid) AS size FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = $1::regclass ORDER BY 1",
        table,
    )
    rows: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return Relation(
        table=table,
        rows=rows,
        heap=row["heap"],
        toast=row["toast"],
        indexes={r["relname"]: r["size"] for r in indexes},
        total=row["total"],
    )


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    tree = source_tree()
    raw_bytes = sum(len(text.encode("utf-8")) for text in tree.values())
    log(f"corpus: {len(tree):,} files, {raw_bytes / 1e6:.1f} MB; {args.copies} copies")
    admin = await asyncpg.connect(url)
    wal: list[WalCost] = []
    try:
        login = await app_login_url(url)
        auth = await auth_login_url(url)
        async with Store.open(login, auth_dsn=auth, min_size=1, max_size=2) as store:
            user = await store.users.create(
                email=f"footprint-{uuid.uuid4().hex[:8]}@example.com", name="footprint"
            )
            async with store.unit_of_work(user.id) as uow:
                project = await uow.projects.create("footprint")
                state = data.agent_state(0, args.state_bytes)
                await uow.agent_states.save(project.id, state)
            start = await wal_position(admin)
            for number, copy in enumerate(copies(tree, args.copies), 1):
                async with store.unit_of_work(user.id) as uow:
                    await uow.files.sync(project.id, copy, delete_missing=False)
                if number % 10 == 0:
                    log(f"  {number} copies written")
            files = len(tree) * args.copies
            wal.append(
                WalCost("file created (sync)", files, await wal_position(admin) - start)
            )
            log(f"{args.empty_projects:,} more projects (1,000 per user)")
            start = await wal_position(admin)
            await more_projects(store, args.empty_projects)
            wal.append(
                WalCost(
                    "project created",
                    args.empty_projects,
                    await wal_position(admin) - start,
                )
            )
            for size in args.save_state_bytes:
                wal.append(
                    await state_saves(store, admin, user.id, project.id, size, args)
                )
            wal.append(await file_puts(store, admin, user.id, project.id, tree, args))
        log("VACUUM (ANALYZE), then sizes")
        await admin.execute(f"VACUUM (ANALYZE) {', '.join(TENANT_TABLES)}")
        relations = [await relation_sizes(admin, table) for table in TENANT_TABLES]
        # Content lives in file_contents (once per project and hash); per
        # current file, as the rows below count.
        content = await admin.fetchrow(
            "SELECT sum(f.size_bytes)::bigint AS raw, "
            "sum(pg_column_size(c.content))::bigint AS stored, "
            "avg(octet_length(f.path))::float AS path_bytes, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY f.size_bytes) AS median "
            "FROM project_files AS f JOIN file_contents AS c "
            "ON c.project_id = f.project_id AND c.sha256 = f.sha256"
        )
        assert content is not None
        settings = {
            name: await admin.fetchval(f"SHOW {name}")
            for name in ("server_version", "default_toast_compression", "block_size")
        }
    finally:
        await admin.close()
    return {
        "corpus": {
            "source": "the interpreter's standard library (*.py)",
            "python": sys.version.split()[0],
            "files": len(tree),
            "bytes": raw_bytes,
        },
        "copies": args.copies,
        "server": settings,
        "content": dict(content),
        "relations": [asdict(r) for r in relations],
        "wal": [{**asdict(w), "per_operation": w.per_operation} for w in wal],
    }


async def more_projects(store: Store, count: int) -> None:
    """`count` empty projects, 1,000 per user, each created by the repository."""
    for first in range(0, count, 1000):
        owner = await store.users.create(
            email=f"footprint-{uuid.uuid4().hex[:8]}@example.com", name="owner"
        )
        async with store.unit_of_work(owner.id) as uow:
            for number in range(first, min(first + 1000, count)):
                await uow.projects.create(f"project {number}", description=None)


async def state_saves(
    store: Store,
    admin: asyncpg.Connection[Any],
    user: UUID,
    project: UUID,
    size: int,
    args: argparse.Namespace,
) -> WalCost:
    """Last-writer-wins saves of a state of about `size` bytes, one unit of
    work each (as an agent checkpointing)."""
    start = await wal_position(admin)
    for step in range(args.saves):
        async with store.unit_of_work(user) as uow:
            await uow.agent_states.save(project, data.agent_state(step, size))
    used = await wal_position(admin) - start
    stored: int = await admin.fetchval(
        "SELECT pg_column_size(state) FROM agent_states WHERE project_id = $1", project
    )
    return WalCost(f"agent state saved (~{size // 1024} KiB)", args.saves, used, stored)


async def file_puts(
    store: Store,
    admin: asyncpg.Connection[Any],
    user: UUID,
    project: UUID,
    tree: dict[str, str],
    args: argparse.Namespace,
) -> WalCost:
    """Edits of a file of the corpus's median size, one unit of work each."""
    by_size = sorted(tree, key=lambda path: len(tree[path]))
    path = f"copy000/{by_size[len(by_size) // 2]}"
    text = tree[by_size[len(by_size) // 2]]
    start = await wal_position(admin)
    for edit in range(args.saves):
        async with store.unit_of_work(user) as uow:
            await uow.files.put(project, path, f"{text}# edit {edit}\n")
    used = await wal_position(admin) - start
    return WalCost(f"file edited (put, {len(text.encode()):,} bytes)", args.saves, used)


def render(result: dict[str, Any]) -> str:
    files = next(r for r in result["relations"] if r["table"] == "project_files")
    projects = next(r for r in result["relations"] if r["table"] == "projects")
    # What a file costs: its row, its content and its version.
    file_parts = [
        r
        for r in result["relations"]
        if r["table"] in ("project_files", "file_contents", "file_versions")
    ]
    content = result["content"]
    rows = files["rows"]
    lines = [
        f"PostgreSQL {result['server']['server_version']}, "
        f"default_toast_compression = {result['server']['default_toast_compression']}; "
        f"{result['corpus']['files']:,} standard-library files of Python "
        f"{result['corpus']['python']} x {result['copies']} copies = {rows:,} file rows",
        "",
        "| table | rows | heap | TOAST | indexes | total |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["relations"]:
        index_list = ", ".join(f"{n} {mib(s)}" for n, s in r["indexes"].items())
        lines.append(
            f"| {r['table']} | {r['rows']:,} | {mib(r['heap'])} | {mib(r['toast'])} "
            f"| {index_list} | {mib(r['total'])} |"
        )
    lines += [
        "",
        "| per file row | bytes |",
        "|---|---:|",
        f"| content as written (mean; median {content['median']:,.0f}) | {content['raw'] / rows:,.0f} |",
        f"| content as stored (after compression) | {content['stored'] / rows:,.0f} |",
        "| heap + TOAST (project_files, file_contents, file_versions) | "
        f"{sum(r['heap'] + r['toast'] for r in file_parts) / rows:,.0f} |",
    ]
    for name, size in files["indexes"].items():
        lines.append(
            f"| index {name} (path mean {content['path_bytes']:.0f} bytes) | {size / rows:,.0f} |"
        )
    lines += [
        "| total (pg_total_relation_size of the three) | "
        f"{sum(r['total'] for r in file_parts) / rows:,.0f} |",
        f"| per project row, indexes included ({projects['rows']:,} rows) | {projects['total'] / projects['rows']:,.0f} |",
        "",
        "| WAL | operations | bytes each | value as stored |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {w['what']} | {w['operations']:,} | {w['per_operation']:,.0f} "
        f"| {'' if w['stored_bytes'] is None else format(w['stored_bytes'], ',')} |"
        for w in result["wal"]
    ]
    return "\n".join(lines) + "\n"


def mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench footprint", description=__doc__
    )
    parser.add_argument(
        "--copies", type=int, default=56, help="copies of the corpus in the project"
    )
    parser.add_argument("--empty-projects", type=int, default=10_000)
    parser.add_argument("--state-bytes", type=int, default=10 * 1024)
    parser.add_argument(
        "--save-state-bytes",
        type=int,
        nargs="+",
        default=[10 * 1024, 100 * 1024],
        help="agent-state sizes whose saves are measured",
    )
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    db = await database.create(resolve_url())
    log(f"database {redact(db.url)}")
    try:
        return await measure(db.url, args)
    finally:
        if not args.keep_db:
            await db.drop()


def main(argv: list[str]) -> int:
    args = parse(argv)
    result = asyncio.run(run(args))
    text = render(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "footprint.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "footprint.md").write_text(text)
    log(f"wrote {args.out / 'footprint.json'} and footprint.md")
    return 0
