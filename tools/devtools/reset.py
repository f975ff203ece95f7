"""``nox -s db -- reset``: the embedded server back to exactly ``migrations/``.

The whole cluster is made anew (``embedded.reinitialise``), on the port it
had, and ``migrations/`` is applied to it by the engine, as ``nox -s migrate``
applies it. Not just the ``postgres`` database dropped and created again:
roles are cluster-wide, so a role, attribute or membership that a migration
since removed from ``migrations/`` made would survive a dropped database,
and the migrations' guarded ``CREATE ROLE`` would keep it as it is. A new
cluster has none of them; the migrations create every role they name.

Every database on the embedded server goes with it (the tests' and the
engine's scratch databases are the only others it normally holds); reset
refuses while another database has open connections (a test run on the
embedded server), naming it. It never touches a server it did not start:
with ``DATABASE_URL`` set it refuses and changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys

from devtools import atlas, database, embedded, migrate

# Other databases and their open connections, ours aside.
OTHER_DATABASES = """
SELECT d.datname, count(a.pid) AS connections
FROM pg_database d
LEFT JOIN pg_stat_activity a ON a.datid = d.oid AND a.pid <> pg_backend_pid()
WHERE NOT d.datistemplate AND d.datname <> 'postgres'
GROUP BY d.datname
ORDER BY d.datname
"""


class ResetRefused(RuntimeError):
    """Reset would touch what it must not; nothing was changed."""


async def _other_databases(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=database.CONNECT_TIMEOUT_S)
    try:
        rows = await conn.fetch(OTHER_DATABASES)
    finally:
        await conn.close()
    return {row["datname"]: row["connections"] for row in rows}


def _refuse_another_server() -> None:
    if os.environ.get("DATABASE_URL", "").strip():
        raise ResetRefused(
            "DATABASE_URL is set: reset works only on the embedded server "
            f"({embedded.DATA_DIR}), never on a server it did not start; "
            "nothing was changed. Unset DATABASE_URL to reset the embedded server."
        )


def _say(message: str) -> None:
    print(f"embedded postgres: {message}", file=sys.stderr, flush=True)


def _running_old_cluster() -> embedded.ServerState | None:
    """The old cluster, started when it was not running (to see what it
    holds); None when there is none, or it does not start: reset is the
    way out of a broken one too."""
    if embedded.read_state() is None:
        return None
    try:
        state, started = embedded.ensure_started()
    except embedded.EmbeddedServerError as exc:
        _say(f"the old cluster does not start, replacing it anyway: {exc}")
        return None
    if started:
        _say("was not running: started it to see what it holds")
    return state


def _others_to_drop(running: embedded.ServerState | None) -> list[str]:
    """The other databases the new cluster will not have; refuses while any
    of them is in use."""
    if running is None:
        return []
    others = asyncio.run(_other_databases(running.url()))
    busy = [
        f"{name} ({n} connection{'' if n == 1 else 's'})"
        for name, n in others.items()
        if n
    ]
    if busy:
        raise ResetRefused(
            f"databases in use on the embedded server: {', '.join(busy)} "
            "(a test run?); reset would drop them with the cluster. Nothing was "
            "changed: run it again once they are closed."
        )
    return list(others)


def reset() -> int:
    """Re-create the cluster on its port and apply migrations/; exit status."""
    _refuse_another_server()
    # The engine before anything is dropped: a missing toolchain changes nothing.
    atlas.choose()
    running = _running_old_cluster()
    others = _others_to_drop(running)
    known = embedded.read_state()
    _say(
        f"resetting: a new cluster in {embedded.CLUSTER_DIR}"
        + (f" on port {known.port}, as before" if known else "")
        + (
            f"; these databases go with the old one: {', '.join(others)}"
            if others
            else ""
        )
    )
    state = embedded.reinitialise()
    url = state.url()
    database.check(url)
    code = migrate.apply_and_report(url)
    if code != 0:
        _say(
            f"the new cluster runs at {url}, but migrations/ did not apply (the "
            "engine's output above says why); run `nox -s db -- reset` again once fixed"
        )
        return code
    if known is None:
        where = "a new server"
    elif known.port == state.port:
        where = "the same port as before: URLs exported earlier still work"
    else:
        where = "a new port (said above): URLs exported earlier are stale"
    print(f"embedded postgres: reset to migrations/ at {url} ({where})", flush=True)
    return 0


def main() -> int:
    try:
        return reset()
    except ResetRefused as exc:
        print(f"error: reset refused: {exc}", file=sys.stderr)
    except (
        database.DatabaseUnreachable,
        embedded.EmbeddedServerError,
        atlas.AtlasUnavailable,
        migrate.MigrationFailed,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 1
