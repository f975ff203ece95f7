"""The five stacks, each doing one request per call: acquire a connection,
begin, work, commit, release. This module is the registry: their keys and
names, and `open_stack`. What each offers the workloads is `base.Stack`."""

from __future__ import annotations

from bench.stacks.base import Stack

STACKS: dict[str, str] = {
    "a": "raw asyncpg",
    "b": "SQLAlchemy ORM",
    "c": "SQLAlchemy Core text()",
    "d": "repositories",
    "h": "hand-written SQL, RLS",
}


async def open_stack(key: str, url: str, pool_size: int) -> Stack:
    # Imported on demand: (a), (d) and (h) run without SQLAlchemy loaded.
    if key == "a":
        from bench.stacks.raw import RawStack

        return await RawStack.open(url, pool_size)
    if key == "b":
        from bench.stacks.orm import OrmStack

        return await OrmStack.open(url, pool_size)
    if key == "c":
        from bench.stacks.core import CoreStack

        return await CoreStack.open(url, pool_size)
    if key == "d":
        from bench.stacks.repo import RepoStack

        return await RepoStack.open(url, pool_size)
    if key == "h":
        from bench.stacks.hand import HandStack

        return await HandStack.open(url, pool_size)
    raise ValueError(f"unknown stack {key!r}")


__all__ = ["STACKS", "Stack", "open_stack"]
