"""The error taxonomy of the contract; nothing else leaves a repository."""

from __future__ import annotations


class RepositoryError(Exception):
    """Base of every error a repository raises."""


class NotFound(RepositoryError):
    """Missing, or not the actor's: deliberately indistinguishable."""

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} not found")
        self.resource = resource


class Conflict(RepositoryError):
    """A version mismatch or a taken name/path; `current_version` is what the
    database holds now (None when the row does not exist)."""

    def __init__(
        self, resource: str, reason: str, current_version: int | None = None
    ) -> None:
        super().__init__(
            f"{resource} conflict: {reason} (current version: {current_version})"
        )
        self.resource = resource
        self.reason = reason
        self.current_version = current_version


class InvalidInput(RepositoryError):
    """Input that breaks the contract's rules; raised before any SQL is sent."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid {field}: {reason}")
        self.field = field
        self.reason = reason


class Contention(RepositoryError):
    """PostgreSQL rolled the unit of work back to let another one go on: a
    deadlock (40P01) or a serialization failure (40001). Nothing of it
    remains; running it again from the start is safe."""

    def __init__(self, resource: str, sqlstate: str) -> None:
        what = "a deadlock" if sqlstate == "40P01" else "a serialization failure"
        super().__init__(
            f"{resource}: the unit of work was rolled back to resolve {what}"
            f" ({sqlstate}); run it again"
        )
        self.resource = resource
        self.sqlstate = sqlstate


class Unreadable(RepositoryError):
    """A stored value this layer cannot decode into the contract's types:
    written around the API (raw SQL), it breaks the rules the API keeps.
    `resource` names what was read; the unit of work goes on."""

    def __init__(self, resource: str, reason: str) -> None:
        super().__init__(f"{resource} unreadable: {reason}")
        self.resource = resource
        self.reason = reason


class Unavailable(RepositoryError):
    """The database could not be reached, the connection broke or a wait ran out;
    the unit of work is rolled back."""


class PrivilegedLogin(RepositoryError):
    """`Store.open` refused the login role: row-level security cannot hold it
    (a superuser, BYPASSRLS, the owner of a tenant table, or privileges on
    tenant tables of its own). `problems` names each one."""

    def __init__(self, role: str, problems: list[str]) -> None:
        super().__init__(
            f"refusing to serve requests as the login role {role!r}: "
            + "; ".join(problems)
            + ". Log in as the application's login role (app_login, a member of "
            "app_user with NOINHERIT; README, Production), or pass "
            "allow_privileged_login_unsafe=True for a maintenance script"
        )
        self.role = role
        self.problems = problems
