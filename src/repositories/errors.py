"""The error taxonomy of the contract; nothing else leaves a repository.

Every error carries a stable `code` (a class attribute, so `error.code` as
well) that an HTTP layer maps onto a status, and a client-safe message:
`str(error)`, the same text as `error.public_message`. That message never
holds a host, a port, an SQLSTATE, a role or a constraint name; such
diagnostic detail is kept apart in `error.detail` (None when there is
none), added to the exception as a note so that a logged traceback shows
it, and the database error itself is the `__cause__`.

Two translations live here too, each in one place. `translated` maps
asyncpg's exceptions onto the taxonomy. `unmatched_write` says why a write
matched no row: writes filter on the actor, the path and the expected
version in one statement, so a write that matched nothing says only that
*something* did not hold. The repositories then read the row's current
version (None: no row) and ask `unmatched_write` which error that is, so
every method words it the same way: "expected version N, found M".
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import ClassVar, TypeVar

import asyncpg

# How much of an offending path an InvalidInput message quotes.
_QUOTED_PATH_MAX_CHARS = 200
W = TypeVar("W")  # what a write returns


class RepositoryError(Exception):
    """Base of every error a repository raises; raised as itself (code
    `internal`) for what no subclass names."""

    code: ClassVar[str] = "internal"

    def __init__(
        self, message: str = "internal error", *, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.public_message = message
        self.detail = detail
        if detail is not None:
            self.add_note(f"detail: {detail}")


class NotFound(RepositoryError):
    """Missing, or not the actor's: deliberately indistinguishable."""

    code: ClassVar[str] = "not_found"

    def __init__(self, resource: str, *, detail: str | None = None) -> None:
        super().__init__(f"{resource} not found", detail=detail)
        self.resource = resource


class Conflict(RepositoryError):
    """A write refused by what the database holds now; `current_version` is
    the version held now (None when there is no row). Raised as itself (code
    `conflict`) only for a uniqueness the subclasses do not name."""

    code: ClassVar[str] = "conflict"

    def __init__(
        self,
        resource: str,
        reason: str,
        current_version: int | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        held = (
            "" if current_version is None else f" (current version: {current_version})"
        )
        super().__init__(f"{resource} conflict: {reason}{held}", detail=detail)
        self.resource = resource
        self.reason = reason
        self.current_version = current_version


class VersionConflict(Conflict):
    """`expected_version` did not hold: the row is at another version, exists
    already (expected 0) or does not exist."""

    code: ClassVar[str] = "version_conflict"


class PathTaken(Conflict):
    """A move's `new_path` holds a file already; `current_version` is that
    file's version."""

    code: ClassVar[str] = "path_taken"


class EmailTaken(Conflict):
    """The e-mail address is registered already, in some letter case."""

    code: ClassVar[str] = "email_taken"


def quoted_path(path: str) -> str:
    """A path as an InvalidInput message quotes it: JSON string syntax
    (control characters escaped), a lone surrogate as a backslash escape,
    at most 200 characters of it."""
    shown = path
    if len(shown) > _QUOTED_PATH_MAX_CHARS:
        shown = shown[:_QUOTED_PATH_MAX_CHARS] + "…"
    text = json.dumps(shown, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class InvalidInput(RepositoryError):
    """Input that breaks the contract's rules; raised before any SQL is sent.
    Inside `uow.files.sync`, `path` is the offending key of `files`."""

    code: ClassVar[str] = "invalid_input"

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        path: str | None = None,
        detail: str | None = None,
    ) -> None:
        where = "" if path is None else f" at files[{quoted_path(path)}]"
        super().__init__(f"invalid {field}{where}: {reason}", detail=detail)
        self.field = field
        self.reason = reason
        self.path = path


class Contention(RepositoryError):
    """PostgreSQL rolled the unit of work back to let another one go on: a
    deadlock (40P01) or a serialization failure (40001), or on Citus a
    shard move that switched a shard to its new node under a statement
    (CIINF, docs/scaling.md). Nothing of it remains; running it again from
    the start is safe."""

    code: ClassVar[str] = "contention"

    def __init__(
        self, resource: str, sqlstate: str, *, detail: str | None = None
    ) -> None:
        super().__init__(
            f"{resource}: the unit of work was rolled back to let another one"
            " go on; run it again",
            detail=detail,
        )
        self.resource = resource
        self.sqlstate = sqlstate


class Unreadable(RepositoryError):
    """A stored value this layer cannot decode into the contract's types:
    written around the API (raw SQL), it breaks the rules the API keeps.
    `resource` names what was read; the unit of work goes on."""

    code: ClassVar[str] = "unreadable"

    def __init__(
        self, resource: str, reason: str, *, detail: str | None = None
    ) -> None:
        super().__init__(f"{resource} unreadable: {reason}", detail=detail)
        self.resource = resource
        self.reason = reason


class Timeout(RepositoryError):
    """A statement of the unit of work ran out of time: it waited for a lock
    or ran past `command_timeout` (or a server-side limit: statement_timeout,
    lock_timeout, idle_in_transaction_session_timeout). The server is
    healthy; the unit of work was rolled back and nothing of it remains, so
    running it again from the start is safe (`store.retrying`)."""

    code: ClassVar[str] = "timeout"

    def __init__(
        self, resource: str, sqlstate: str | None = None, *, detail: str | None = None
    ) -> None:
        super().__init__(
            f"{resource}: timed out waiting for the database; run it again",
            detail=detail,
        )
        self.resource = resource
        self.sqlstate = sqlstate


class Unavailable(RepositoryError):
    """The database could not be reached or the connection broke (a commit
    whose answer did not come within `command_timeout` included: whether it
    committed is unknown); the unit of work is rolled back."""

    code: ClassVar[str] = "unavailable"

    def __init__(self, *, detail: str | None = None) -> None:
        super().__init__("the database is unavailable", detail=detail)


class PoolExhausted(RepositoryError):
    """Every connection of the Store's pool stayed in use for
    `acquire_timeout` seconds: this process is at its capacity, while the
    server may be fine. Nothing was sent; running the call later is safe.
    Not retried by `store.retrying`: more attempts would add to the load."""

    code: ClassVar[str] = "pool_exhausted"

    def __init__(self, *, detail: str | None = None) -> None:
        super().__init__(
            "the service is at its capacity: no database connection freed up",
            detail=detail,
        )


class UnitOfWorkMisuse(RepositoryError):
    """A unit of work used in a way it cannot serve; a bug of the calling
    code, refused before any SQL is sent. Raised as itself (code
    `unit_of_work_misuse`) for a unit of work used outside its block."""

    code: ClassVar[str] = "unit_of_work_misuse"

    def __init__(
        self,
        message: str = "the unit of work is not open",
        *,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail)


class NestedUnitOfWork(UnitOfWorkMisuse):
    """A write that would wait for a lock an enclosing unit of work of the
    same Store and user holds (it wrote the same project and is still
    open): the inner unit of work would wait on the outer one, which waits
    for it. Refused at once; the inner unit of work goes on."""

    code: ClassVar[str] = "nested_unit_of_work"

    def __init__(self) -> None:
        super().__init__(
            "a unit of work inside another of the same user would wait for"
            " the project lock the outer one holds: write in the outer unit of"
            " work, or after it ends"
        )


class ConcurrentCalls(UnitOfWorkMisuse):
    """A call on a unit of work while another of its calls is still running
    (asyncio.gather on one unit of work): its one connection runs one call
    at a time. The refused call did nothing; the unit of work goes on."""

    code: ClassVar[str] = "concurrent_calls"

    def __init__(self) -> None:
        super().__init__(
            "another call of this unit of work is still running: await its"
            " calls one at a time, or give each task a unit of work of its own"
        )


class PrivilegedLogin(RepositoryError):
    """`Store.open` refused the login role: row-level security cannot hold it
    (a superuser, BYPASSRLS, the owner of a tenant table, or privileges on
    tenant tables of its own). `problems` names each one."""

    code: ClassVar[str] = "privileged_login"

    def __init__(self, role: str, problems: list[str]) -> None:
        super().__init__(
            "refusing to serve requests: row-level security cannot bind the "
            "database login role",
            detail=f"refusing to serve requests as the login role {role!r}: "
            + "; ".join(problems)
            + ". Log in as the application's login role (app_login, a member of "
            "app_user with NOINHERIT; README, Production), or pass "
            "allow_privileged_login_unsafe=True for a maintenance script",
        )
        self.role = role
        self.problems = problems


class UnsafeLoginSettings(RepositoryError):
    """`Store.open` refused the login: settings stored on it or on the
    database (`ALTER ROLE … SET`, `ALTER DATABASE … SET`) would change every
    unit of work, and the Store cannot pin them. `settings` names each."""

    code: ClassVar[str] = "unsafe_login_settings"

    def __init__(self, role: str, settings: list[str]) -> None:
        super().__init__(
            "refusing to serve requests: settings stored on the database login"
            " would change every unit of work",
            detail=f"refusing to serve requests as the login role {role!r}: "
            + "; ".join(settings)
            + ". Remove them (ALTER ROLE … RESET …, ALTER DATABASE … RESET …);"
            " the Store bounds each statement with its command_timeout",
        )
        self.role = role
        self.settings = settings


# asyncpg's exceptions mapped onto the taxonomy: `translated`.

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
            # Writers of one project cannot deadlock (they lock the project
            # first); a unit of work that writes two projects in one order
            # and another that writes them in the other still can.
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


# A write that matched no row: run it once more when its snapshot predates
# the row (`once_more`), else say why, NotFound or VersionConflict
# (`unmatched_write`).


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
