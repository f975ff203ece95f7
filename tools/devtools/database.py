"""Which PostgreSQL server a command talks to, and a clear word when it can't.

``DATABASE_URL`` wins everywhere; without it the embedded server is started on
demand. ``python -m devtools.database url`` prints the URL, ``check`` connects
once and fails with one line instead of a traceback.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from devtools import embedded

CONNECT_TIMEOUT_S = 10.0


class DatabaseUnreachable(RuntimeError):
    """The server at the URL did not accept a connection; the message is one line."""


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def with_database(url: str, name: str) -> str:
    """The same server URL, pointed at database `name`."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(
    admin_url: str, prefix: str, *, template: str | None = None
) -> tuple[str, Callable[[], Coroutine[Any, Any, None]]]:
    """A new database on the server of `admin_url` (tests, Atlas's dev
    database, the ER diagram), empty or a copy of database `template`;
    returns its URL and the coroutine that drops it."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    copy = f' TEMPLATE "{template}"' if template is not None else ""
    await _admin(admin_url, f'CREATE DATABASE "{name}"{copy}')

    async def drop() -> None:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return with_database(admin_url, name), drop


APP_LOGIN_ROLE = "app_login"
AUTH_LOGIN_ROLE = "app_auth_login"
# Set on a login role only where the server asks it for a password (the
# embedded server and test clusters trust loopback): one per process.
_LOGIN_PASSWORD = secrets.token_urlsafe(24)


def as_role(url: str, role: str, password: str | None = None) -> str:
    """The same URL, logging in as `role` (with `password`, if given)."""
    parts = urlsplit(url)
    userinfo = role if password is None else f"{role}:{quote(password, safe='')}"
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{userinfo}@{host}").geturl()


async def login_url(owner_url: str, role: str) -> str:
    """The URL of the login role `role` (created by migrations/) on the
    database of `owner_url`. Where the server asks it for a password, a
    random one is set first, with the owner's connection; nothing is changed
    on a server that trusts it."""
    import asyncpg

    url = as_role(owner_url, role)
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except asyncpg.InvalidAuthorizationSpecificationError:
        owner = await asyncpg.connect(owner_url, timeout=CONNECT_TIMEOUT_S)
        try:
            # Utility statements take no parameters; the role is one of the
            # project's names and the password is token_urlsafe, so letters,
            # digits, '-' and '_' only.
            await owner.execute(f"ALTER ROLE {role} PASSWORD '{_LOGIN_PASSWORD}'")
        finally:
            await owner.close()
        return as_role(owner_url, role, _LOGIN_PASSWORD)
    await conn.close()
    return url


async def app_login_url(owner_url: str) -> str:
    """The URL the application's units of work use: app_login."""
    return await login_url(owner_url, APP_LOGIN_ROLE)


async def auth_login_url(owner_url: str) -> str:
    """The URL store.users uses (Store.open's auth_dsn): app_auth_login."""
    return await login_url(owner_url, AUTH_LOGIN_ROLE)


def resolve_url() -> str:
    from_env = os.environ.get("DATABASE_URL", "").strip()
    if from_env:
        return from_env
    return embedded.start().url()


async def _probe(url: str) -> str:
    import asyncpg

    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError, asyncpg.PostgresError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseUnreachable(f"cannot connect to {redact(url)}: {reason}") from exc
    try:
        version: str = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return version


def check(url: str) -> str:
    """Connect once; returns the server version or raises DatabaseUnreachable."""
    if not url.startswith(("postgres://", "postgresql://")):
        raise DatabaseUnreachable(
            f"not a PostgreSQL URL: {redact(url)!r} (expected postgres://user@host:port/db)"
        )
    return asyncio.run(_probe(url))


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "url"
    try:
        url = resolve_url()
        if command == "check":
            print(f"PostgreSQL {check(url)} at {redact(url)}")
        elif command == "url":
            print(url)
        else:
            print("usage: python -m devtools.database url|check", file=sys.stderr)
            return 2
    except (DatabaseUnreachable, embedded.EmbeddedServerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
