"""Shared by the security tests: database snapshots, and the contract's input
rules written out again independently of src/repositories/validation.py, so a
test can say what the answer must be instead of asking the code under test."""

from __future__ import annotations

import math
import unicodedata
import uuid
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg

from repositories import InvalidInput

# The content limit of the `small_store` fixture: over-limit content costs a
# kilobyte instead of 5 MiB.
SMALL_CONTENT_LIMIT = 1024
PATH_MAX_BYTES = 1024
NAME_MAX_CHARS = 200
STATE_MAX_BYTES = 1024 * 1024
STATE_MAX_DEPTH = 100
# The default limits of one files.sync (Store.open's max_sync_files and
# max_sync_bytes, bytes of UTF-8 paths and content in all).
SYNC_MAX_FILES = 10_000
SYNC_MAX_BYTES = 32 * 1024 * 1024
# PostgreSQL's bigint: what a version can be.
BIGINT_MAX = 2**63 - 1

Snapshot = dict[str, object]
T = TypeVar("T")


async def attempt(call: Awaitable[T]) -> T | InvalidInput:
    """The result, or the InvalidInput the call was refused with."""
    try:
        return await call
    except InvalidInput as refused:
        return refused


# One row: the count and an md5 over every column of every row, per table.
# Rows are aggregated as their composite text form, so a change to any column
# (content, version, updated_at, owner_id, ...) changes the hash.
_SNAPSHOT = """
SELECT
    (SELECT count(*) FROM users u WHERE {users}) AS users_count,
    (SELECT md5(coalesce(string_agg(u::text, '|' ORDER BY u.id), ''))
       FROM users u WHERE {users}) AS users_md5,
    (SELECT count(*) FROM projects p WHERE {owned}) AS projects_count,
    (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.id), ''))
       FROM projects p WHERE {owned}) AS projects_md5,
    (SELECT count(*) FROM project_files p WHERE {owned}) AS files_count,
    (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.project_id, p.path), ''))
       FROM project_files p WHERE {owned}) AS files_md5,
    (SELECT count(*) FROM agent_states p WHERE {owned}) AS states_count,
    (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.project_id), ''))
       FROM agent_states p WHERE {owned}) AS states_md5,
    (SELECT count(*) FROM file_contents p WHERE {owned}) AS contents_count,
    (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.project_id, p.sha256), ''))
       FROM file_contents p WHERE {owned}) AS contents_md5,
    (SELECT count(*) FROM file_versions p WHERE {owned}) AS file_versions_count,
    (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.project_id, p.path, p.version), ''))
       FROM file_versions p WHERE {owned}) AS file_versions_md5,
    (SELECT count(*) FROM agent_state_versions p WHERE {owned}) AS state_versions_count,
    (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.project_id, p.version), ''))
       FROM agent_state_versions p WHERE {owned}) AS state_versions_md5,
    (SELECT count(*) FROM checkpoints p WHERE {owned}) AS checkpoints_count,
    (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.project_id, p.id), ''))
       FROM checkpoints p WHERE {owned}) AS checkpoints_md5
"""
_ALL = _SNAPSHOT.format(users="true", owned="true")
_OF_OWNER = _SNAPSHOT.format(users="u.id = $1", owned="p.owner_id = $1")


async def snapshot(
    admin: asyncpg.Connection[asyncpg.Record], owner: uuid.UUID | None = None
) -> Snapshot:
    """Counts and hashes of users and of every tenant table (projects, the
    current files and agent states, their history, contents and
    checkpoints): the whole database, or only the rows of `owner`. `admin`
    bypasses RLS."""
    if owner is None:
        row = await admin.fetchrow(_ALL)
    else:
        row = await admin.fetchrow(_OF_OWNER, owner)
    assert row is not None
    return dict(row)


# ---------------------------------------------------------------------------
# The contract's input rules (shared/design/contract.md, "Rules for input")
# ---------------------------------------------------------------------------


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def is_valid_name(value: object) -> bool:
    """1-200 characters after trimming, no control characters, valid UTF-8."""
    if not isinstance(value, str) or has_surrogate(value):
        return False
    trimmed = value.strip()
    return 1 <= len(trimmed) <= NAME_MAX_CHARS and not any(
        is_control(c) for c in trimmed
    )


def is_valid_path(value: object) -> bool:
    """Relative POSIX path: no leading '/', no empty, '.' or '..' segment, no
    backslash, no control characters, 1-1024 bytes of UTF-8."""
    if not isinstance(value, str) or has_surrogate(value):
        return False
    if not 1 <= len(value.encode("utf-8")) <= PATH_MAX_BYTES:
        return False
    if "\\" in value or any(is_control(c) for c in value):
        return False
    return all(segment not in ("", ".", "..") for segment in value.split("/"))


def is_valid_prefix(value: object) -> bool:
    """A listing prefix: any text a path could start with."""
    if not isinstance(value, str) or has_surrogate(value):
        return False
    return len(value.encode("utf-8")) <= PATH_MAX_BYTES and not any(
        is_control(c) for c in value
    )


def is_valid_content(value: object, max_bytes: int) -> bool:
    """Text of at most `max_bytes` of UTF-8 and no NUL (a text file), or at
    most `max_bytes` of any bytes (a binary file)."""
    if isinstance(value, bytes):
        return len(value) <= max_bytes
    if not isinstance(value, str) or has_surrogate(value):
        return False
    return len(value.encode("utf-8")) <= max_bytes and "\x00" not in value


def _is_json_text(text: str) -> bool:
    # jsonb cannot hold \u0000; a lone surrogate is not UTF-8.
    return "\x00" not in text and not has_surrogate(text)


def _is_json_value(value: object, depth: int) -> bool:
    if depth > STATE_MAX_DEPTH:
        return False
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return _is_json_text(value)
    if isinstance(value, list):
        return all(_is_json_value(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str)
            and _is_json_text(key)
            and _is_json_value(item, depth + 1)
            for key, item in value.items()
        )
    return False


def is_valid_state(value: object) -> bool:
    """A JSON object (dict) of JSON values; NaN and Infinity are not JSON.
    Only for small values: the 1 MiB limit is tested with explicit cases."""
    return isinstance(value, dict) and _is_json_value(value, 1)


def json_equal(sent: Any, got: Any) -> bool:
    """Equal as JSON values. Numbers compare by their JSON (decimal) value:
    jsonb keeps numbers as numeric and prints 1e+23 as 100000000000000000000000,
    which Python reads back as an int (see test_properties for the strict test).
    Booleans must stay booleans, strings must be identical."""
    if isinstance(sent, bool) or isinstance(got, bool):
        return type(sent) is type(got) and sent == got
    if isinstance(sent, float) and isinstance(got, int | float):
        return Decimal(repr(sent)) == Decimal(
            repr(got) if isinstance(got, float) else got
        )
    if isinstance(sent, int) and isinstance(got, int | float):
        return Decimal(sent) == Decimal(repr(got) if isinstance(got, float) else got)
    if isinstance(sent, str) or sent is None:
        return type(sent) is type(got) and sent == got
    if isinstance(sent, list):
        return (
            isinstance(got, list)
            and len(sent) == len(got)
            and all(json_equal(a, b) for a, b in zip(sent, got, strict=True))
        )
    if isinstance(sent, dict):
        return (
            isinstance(got, dict)
            and sent.keys() == got.keys()
            and all(json_equal(sent[key], got[key]) for key in sent)
        )
    return False


def utf8_order(paths: list[str]) -> list[str]:
    """Byte-wise order of UTF-8, the order listings promise."""
    return sorted(paths, key=lambda path: path.encode("utf-8"))


# Workers of the mixed loads of one project (test_lock_order, test_side_by_side).
WORKERS = 12
