"""Cursor signatures: any key length signs, and only its own key verifies."""

from __future__ import annotations

import pytest

from repositories.cursors import CursorCodec
from repositories.errors import InvalidInput

# BLAKE2b takes keys of up to 64 bytes; longer ones are hashed first.
KEYS = [b"k", b"k" * 32, b"k" * 64, b"k" * 65, b"k" * 1000]


@pytest.mark.parametrize("key", KEYS, ids=lambda key: f"{len(key)} bytes")
def test_every_key_length_round_trips(key: bytes) -> None:
    codec = CursorCodec(key)
    cursor = codec.encode("file", "scope", ["a/b.txt"])
    assert codec.decode(cursor, "file", "scope") == ["a/b.txt"]


@pytest.mark.parametrize("key", KEYS, ids=lambda key: f"{len(key)} bytes")
def test_no_other_key_verifies(key: bytes) -> None:
    cursor = CursorCodec(key).encode("file", "scope", ["a/b.txt"])
    for other in KEYS:
        if other != key:
            with pytest.raises(InvalidInput, match="not a cursor this listing issued"):
                CursorCodec(other).decode(cursor, "file", "scope")
    # Keys that differ only past the 64th byte differ too.
    with pytest.raises(InvalidInput):
        CursorCodec(key + b"x").decode(cursor, "file", "scope")
