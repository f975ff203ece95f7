"""Cursors: any key length signs, only its own key verifies, and the
parts keep their boundaries."""

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


def test_positions_come_back_as_given() -> None:
    codec = CursorCodec(b"k" * 32)
    position = ["dir/ü €.txt", "", "2000-01-01T00:00:00+00:00"]
    cursor = codec.encode("file", "scope", position)
    assert codec.decode(cursor, "file", "scope") == position
    with pytest.raises(InvalidInput, match="belongs to another listing"):
        codec.decode(cursor, "file", "other scope")


def test_a_part_holding_the_separator_is_refused() -> None:
    """Joined parts must split back into the same parts."""
    codec = CursorCodec(b"k" * 32)
    with pytest.raises(ValueError, match="U\\+001F"):
        codec.encode("file", "scope", ["a\x1fb"])
