"""What a write that matched no row means, said the same way by every
method.

Writes filter on the actor, the path and the expected version in one
statement, so a write that matched nothing says only that *something* did
not hold. The repositories then read the row (`written_or_current`, which
runs the write once more in the one case docs/api.md's "Writers of one
project" names), and `unmatched_write` says which error it is, NotFound or
VersionConflict, worded "expected version N, found M" (`version_mismatch`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from repositories.errors import NotFound, VersionConflict

T = TypeVar("T")  # what a write returns
C = TypeVar("C")  # the row as read after a write that matched nothing


async def written_or_current(
    write: Callable[[], Awaitable[T | None]],
    current: Callable[[], Awaitable[C | None]],
    fits: Callable[[C], bool],
) -> tuple[T | None, C | None]:
    """Run a write; when it matched nothing, read the row it was about
    (`current`) and, when the row fits the write after all, run it once
    more. Returns what was written, or None and the row as read (None: no
    row), from which the caller says why nothing was written.

    The one case the second run is for: a write holding the lock shared
    whose statement's snapshot predates a row another writer of the
    project, holding it shared too, committed meanwhile. Under the
    exclusive lock the first run always sees every committed row."""
    written = await write()
    if written is not None:
        return written, None
    found = await current()
    if found is not None and fits(found):
        written = await write()
        if written is not None:
            return written, None
        found = await current()
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
