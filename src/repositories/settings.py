"""What a Store fixes when it opens and every unit of work it hands out
shares: one frozen object, built and checked once by Store.open, from which
each repository takes what it needs."""

from __future__ import annotations

from dataclasses import dataclass

from repositories.cursors import CursorCodec


@dataclass(frozen=True, slots=True)
class UnitOfWorkSettings:
    # Seconds a unit of work (or a store.users call) waits for a connection.
    acquire_timeout: float
    # Signs and checks the listings' cursors with the Store's key.
    cursors: CursorCodec
    # The largest file content, in bytes of UTF-8.
    max_content_bytes: int
    # The most files, and bytes of UTF-8 paths and content in all, of one
    # files.sync.
    max_sync_files: int
    max_sync_bytes: int
    # Seconds after which a unit of work logs a warning when it ends.
    slow_unit_of_work: float = 1.0
