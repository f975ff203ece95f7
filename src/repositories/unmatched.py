"""Why a write matched no row: NotFound or VersionConflict, decided in one
place.

Writes filter on the actor, the path and the expected version in one
statement, so a write that matched nothing says only that *something* did not
hold. The repositories then read the row's current version (None: no row)
and ask this module which error that is, so every method words it the same
way: "expected version N, found M".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from repositories.errors import NotFound, VersionConflict


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
