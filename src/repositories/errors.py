"""The error taxonomy of the contract: the classes routes catch. Nothing
else leaves a repository.

Every error carries a stable `code` (a class attribute, so `error.code` as
well) that an HTTP layer maps onto a status, and a client-safe message:
`str(error)`, the same text as `error.public_message`. That message never
holds a host, a port, an SQLSTATE, a role or a constraint name; such
diagnostic detail is kept apart in `error.detail` (None when there is
none), added to the exception as a note so that a logged traceback shows
it, and the database error itself is the `__cause__`.

What raises them lives elsewhere: `_translate` maps asyncpg's exceptions
onto these classes, `_outcomes` tells which one a write that matched no row
is, `validation` refuses input.
"""

from __future__ import annotations

import json
from typing import ClassVar

from repositories._database import TENANT_LOGIN, TENANT_ROLE

# How much of an offending path an InvalidInput message quotes.
_QUOTED_PATH_MAX_CHARS = 200


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
        where = "" if path is None else f" at files[{self._quoted(path)}]"
        super().__init__(f"invalid {field}{where}: {reason}", detail=detail)
        self.field = field
        self.reason = reason
        self.path = path

    @staticmethod
    def _quoted(path: str) -> str:
        """A path as the message quotes it: JSON string syntax (control
        characters escaped), a lone surrogate as a backslash escape, at most
        200 characters of it."""
        shown = path
        if len(shown) > _QUOTED_PATH_MAX_CHARS:
            shown = shown[:_QUOTED_PATH_MAX_CHARS] + "…"
        text = json.dumps(shown, ensure_ascii=False)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


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
    """`Store.open` refused the login role: row-level security cannot bind
    it, or it can reach more than the pool it logs in for needs (what is
    checked: `Store.open`). `problems` names each reason found, one sentence
    apiece."""

    code: ClassVar[str] = "privileged_login"

    def __init__(self, role: str, problems: list[str]) -> None:
        super().__init__(
            "refusing to serve requests: row-level security cannot bind the "
            "database login role",
            detail=f"refusing to serve requests as the login role {role!r}: "
            + "; ".join(problems)
            + f". Log in as the application's login role ({TENANT_LOGIN}, a member"
            f" of {TENANT_ROLE} with NOINHERIT; README, Production), or pass "
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
