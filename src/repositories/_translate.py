"""asyncpg's exceptions mapped onto the error taxonomy, in one place:
`with translated(resource):` around database work."""

from __future__ import annotations

from types import TracebackType

import asyncpg

from repositories.errors import (
    Conflict,
    Contention,
    InvalidInput,
    NotFound,
    RepositoryError,
    Timeout,
    Unavailable,
    Unreadable,
)

# The server's own time limits: a statement cancelled (statement_timeout,
# or a cancel request), a lock not granted in time (lock_timeout), a session
# ended for idling in a transaction or for a transaction's length. By
# SQLSTATE: asyncpg 0.30 has no class for the last.
_TIMED_OUT_SQLSTATES = frozenset({"57014", "55P03", "25P03", "25P04"})

# Citus's coordinator fails a statement whose intermediate results went to
# a shard's old node when a shard move switched the shard to its new one
# meanwhile (ERRCODE_CITUS_INTERMEDIATE_RESULT_NOT_FOUND, raised as an
# error): the transaction is rolled back, and the same statement run again
# is planned for the new node.
_SHARD_MOVED_SQLSTATE = "CIINF"

# Citus's coordinator reports a worker connection that broke under a
# transaction that wrote through it (the worker crashed or was stopped) as
# an error without a SQLSTATE of its own (XX000), known by its message:
# during the transaction, or at its commit ("could not commit transaction
# for shard N on at least one active node", which a deferred constraint's
# failure on a worker would raise too; the schema has none). As with any
# broken connection, a commit's outcome is then unknown: Unavailable.
_NODE_LOST_SQLSTATE = "XX000"
_NODE_LOST_MESSAGES = (
    "failure on connection marked as essential",
    "could not commit transaction for shard",
)

# Errors that mean "the database is not there for us right now".
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutdown, terminated
    asyncpg.InterfaceError,  # connection closed or lost under us
    # The server closed the connection before the client saw the end of the
    # stream: asyncpg's state machine refuses the next call this way.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
)

# What asyncpg's decoders raise for a stored value Python cannot hold: a
# timestamp before year 1 (OverflowError), an integer of more digits than
# int() takes (ValueError), JSON nested deeper than the interpreter's
# recursion limit (RecursionError). asyncpg raises them as they are, from
# the fetch; checked after asyncpg's own errors, some of which are
# ValueErrors too.
_UNDECODABLE: tuple[type[BaseException], ...] = (
    ValueError,
    OverflowError,
    RecursionError,
)


def translated(resource: str) -> Translated:
    """`with translated(resource):` run database work; re-raise its failures
    as RepositoryError subclasses.

    Each is raised `from` the asyncpg exception, so a log of the traceback
    keeps PostgreSQL's SQLSTATE, message and detail (`error.__cause__`)."""
    return Translated(resource)


class Translated:
    """The context manager `translated` returns. A class, not a
    @contextmanager generator: every repository call enters one, and a
    generator costs several times as much to set up."""

    __slots__ = ("_resource",)

    def __init__(self, resource: str) -> None:
        self._resource = resource

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, RepositoryError):
            return
        resource = self._resource
        # The messages are client-safe; what PostgreSQL or the driver said
        # (constraint, SQLSTATE, host, port, role) goes to `detail`.
        if isinstance(exc, asyncpg.UniqueViolationError):
            raise Conflict(resource, "already exists", detail=_described(exc)) from exc
        if isinstance(
            exc, asyncpg.ForeignKeyViolationError | asyncpg.InsufficientPrivilegeError
        ):
            # A vanished parent, or a row-level-security WITH CHECK refusal:
            # both mean the actor has no such resource.
            raise NotFound(resource, detail=_described(exc)) from exc
        if isinstance(exc, asyncpg.CheckViolationError):
            raise InvalidInput(
                resource, "refused by the database", detail=_described(exc)
            ) from exc
        if isinstance(exc, TimeoutError):
            # asyncpg's command_timeout: it has sent the server a cancel
            # request for the statement, which the transaction does not
            # survive. (A wait for a connection is PoolExhausted, raised
            # where the pool is asked; a commit's, Unavailable.)
            raise Timeout(resource, detail=_described(exc)) from exc
        if (
            isinstance(exc, asyncpg.PostgresError)
            and exc.sqlstate in _TIMED_OUT_SQLSTATES
        ):
            raise Timeout(resource, exc.sqlstate, detail=_described(exc)) from exc
        if _refused_argument(exc):
            raise InvalidInput(
                resource,
                "a query argument has the wrong type or value",
                detail=_described(exc),
            ) from exc
        if isinstance(exc, _UNAVAILABLE) or _node_lost(exc):
            raise Unavailable(detail=_described(exc)) from exc
        if isinstance(
            exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError
        ) or (
            isinstance(exc, asyncpg.PostgresError)
            and exc.sqlstate == _SHARD_MOVED_SQLSTATE
        ):
            # A deadlock: writers side by side (store.retrying's first
            # attempt), or two units of work that write two projects in
            # opposite orders (docs/api.md, "Writers of one project").
            raise Contention(resource, exc.sqlstate, detail=_described(exc)) from exc
        if isinstance(exc, asyncpg.PostgresError):
            raise RepositoryError("database error", detail=_described(exc)) from exc
        if isinstance(exc, _UNDECODABLE):
            raise Unreadable(
                resource,
                "a stored value cannot be decoded",
                detail=_described(exc).partition("\n")[0],
            ) from exc


def _node_lost(exc: BaseException) -> bool:
    """Whether a Citus coordinator lost a worker under the transaction."""
    return (
        isinstance(exc, asyncpg.PostgresError)
        and exc.sqlstate == _NODE_LOST_SQLSTATE
        and str(exc).startswith(_NODE_LOST_MESSAGES)
    )


def _refused_argument(exc: BaseException) -> bool:
    """Whether asyncpg refused to encode a query argument (a str for a
    uuid, say) before the statement ran: a DataError the client raises
    itself, without the severity every server error carries."""
    if isinstance(exc, asyncpg.PostgresError):
        return (
            isinstance(exc, asyncpg.exceptions.DataError)
            and getattr(exc, "severity", None) is None
        )
    return isinstance(exc, asyncpg.InterfaceError) and isinstance(exc, ValueError)


def _described(exc: BaseException) -> str:
    """What the driver or the server said, for `detail`: the exception's
    type, SQLSTATE, constraint, message and PostgreSQL's DETAIL."""
    parts = [type(exc).__name__]
    if isinstance(exc, asyncpg.PostgresError):
        parts.append(f"SQLSTATE {exc.sqlstate}")
        if exc.constraint_name:
            parts.append(f"constraint {exc.constraint_name}")
    text = f"{', '.join(parts)}: {exc}"
    if isinstance(exc, asyncpg.PostgresError) and exc.detail:
        text += f" ({exc.detail})"
    return text
