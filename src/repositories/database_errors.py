"""asyncpg's exceptions mapped onto the contract's taxonomy, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from repositories.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    RepositoryError,
    Unavailable,
)

# Errors that mean "the database is not there for us right now".
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutdown, cancel, timeout
    asyncpg.InterfaceError,  # connection closed or lost under us
    # The server closed the connection before the client saw the end of the
    # stream: asyncpg's state machine refuses the next call this way.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)


@contextmanager
def translated(resource: str) -> Iterator[None]:
    """Run database work; re-raise its failures as RepositoryError subclasses."""
    try:
        yield
    except RepositoryError:
        raise
    except asyncpg.UniqueViolationError:
        raise Conflict(resource, "already exists") from None
    except (asyncpg.ForeignKeyViolationError, asyncpg.InsufficientPrivilegeError):
        # A vanished parent, or a row-level-security WITH CHECK refusal: both
        # mean the actor has no such resource.
        raise NotFound(resource) from None
    except asyncpg.CheckViolationError as exc:
        raise InvalidInput(
            resource, f"refused by the database ({exc.constraint_name})"
        ) from None
    except _UNAVAILABLE as exc:
        raise Unavailable(
            f"database unavailable: {type(exc).__name__}: {exc}"
        ) from None
    except asyncpg.PostgresError as exc:
        raise RepositoryError(f"database error {exc.sqlstate}: {exc}") from None
