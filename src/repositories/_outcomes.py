"""What a write that matched no row means, said the same way by every
method.

Writes filter on the actor, the path and the expected version in one
statement, so a write that matched nothing says only that *something* did
not hold. The repositories then read the row's current version (None: no
row); `once_more` runs the write again when its snapshot predated the row,
and `unmatched_write` says which error it is, NotFound or VersionConflict,
worded "expected version N, found M" (`version_mismatch`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from repositories.errors import NotFound, VersionConflict

W = TypeVar("W")  # what a write returns


async def once_more(
    write: Callable[[], Awaitable[W | None]],
    current_version: Callable[[], Awaitable[int | None]],
    expected: int | None,
) -> tuple[W | None, int | None]:
    """Run `write`; when it matched nothing while the row is there at the
    version it expects (None: any), run it once more, and return what it
    wrote, else None and the version the row holds (None: no row).

    Every write first waits for the project lock (the lock order:
    queries/project_files.sql), and a statement that waited still reads with
    the snapshot it took before: a row the previous holder of the lock made
    is invisible to it. The second run starts after the lock is held, so it
    sees the row, and nobody else can change it meanwhile."""
    written = await write()
    if written is not None:
        return written, None
    found = await current_version()
    if found is not None and expected in (None, found):
        written = await write()
        if written is not None:
            return written, None
        found = await current_version()
    return None, found


def version_mismatch(expected: int | None, found: int | None) -> str:
    """The reason of a VersionConflict: "expected version 2, found 3";
    version 0 is "none exists yet", None is "any version"."""
    wanted = "any version" if expected is None else f"version {expected}"
    held = "none" if found is None else str(found)
    return f"expected {wanted}, found {held}"


async def unmatched_write(
    resource: str,
    *,
    expected: int | None,
    found: int | None,
    parent: str = "project",
    parent_exists: Callable[[], Awaitable[bool]] | None = None,
) -> VersionConflict | NotFound:
    """The error for a write of `resource` that matched no row.

    `expected` is the version the caller asked for, `found` the version the
    row holds now (None: there is no row). A row that exists is a
    VersionConflict. Without a row, a write that creates rows inside a parent
    (it passes `parent_exists`) is NotFound(parent) when the parent is
    missing or not the actor's, else a VersionConflict (the row it expected
    is gone); a write that needs the row (delete) is NotFound(resource).
    """
    reason = version_mismatch(expected, found)
    if found is not None:
        return VersionConflict(resource, reason, found)
    if parent_exists is None:
        return NotFound(resource)
    if not await parent_exists():
        return NotFound(parent)
    return VersionConflict(resource, reason, None)
