"""The error taxonomy of the contract; nothing else leaves a repository.

Every error carries a stable `code` (a class attribute, so `error.code` as
well) that an HTTP layer maps onto a status, and a client-safe message:
`str(error)`, the same text as `error.public_message`. That message never
holds a host, a port, an SQLSTATE, a role or a constraint name; such
diagnostic detail is kept apart in `error.detail` (None when there is
none), added to the exception as a note so that a logged traceback shows
it, and the database error itself is the `__cause__`.
"""

from __future__ import annotations

import json
from typing import ClassVar

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
    deadlock (40P01) or a serialization failure (40001). Nothing of it
    remains; running it again from the start is safe."""

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


class Unavailable(RepositoryError):
    """The database could not be reached, the connection broke or a wait ran out;
    the unit of work is rolled back."""

    code: ClassVar[str] = "unavailable"

    def __init__(self, *, detail: str | None = None) -> None:
        super().__init__("the database is unavailable", detail=detail)


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
