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
    """Run database work; re-raise its failures as RepositoryError subclasses.

    Each is raised `from` the asyncpg exception, so a log of the traceback
    keeps PostgreSQL's SQLSTATE, message and detail (`error.__cause__`)."""
    try:
        yield
    except RepositoryError:
        raise
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(resource, "already exists") from exc
    except (
        asyncpg.ForeignKeyViolationError,
        asyncpg.InsufficientPrivilegeError,
    ) as exc:
        # A vanished parent, or a row-level-security WITH CHECK refusal: both
        # mean the actor has no such resource.
        raise NotFound(resource) from exc
    except asyncpg.CheckViolationError as exc:
        raise InvalidInput(
            resource, f"refused by the database ({exc.constraint_name})"
        ) from exc
    except _UNAVAILABLE as exc:
        raise Unavailable(f"database unavailable: {type(exc).__name__}: {exc}") from exc
    except asyncpg.PostgresError as exc:
        raise RepositoryError(f"database error {exc.sqlstate}: {exc}") from exc
