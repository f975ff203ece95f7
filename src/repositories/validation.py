"""The contract's input rules, checked before anything reaches the database.

The schema's CHECK constraints hold the same rules, so raw SQL cannot store
what these refuse; here they become InvalidInput with a field name instead of
a database error in the middle of a transaction.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from asyncpg.pgproto.pgproto import UUID as _DRIVER_UUID

from repositories.errors import InvalidInput

NAME_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 10_000
PATH_MAX_BYTES = 1024
DEFAULT_MAX_CONTENT_BYTES = 5 * 1024 * 1024
# One files.sync: the backend peaks at about 4 bytes of memory per byte of
# the tree it receives, and 16 MiB for 10 000 files (measured: docs/api.md,
# uow.files.sync), so a sync within both costs it about 150 MiB at most, a
# small part of a 2 GiB server.
DEFAULT_MAX_SYNC_FILES = 10_000
DEFAULT_MAX_SYNC_BYTES = 32 * 1024 * 1024
STATE_MAX_BYTES = 1024 * 1024
STATE_MAX_DEPTH = 100
LIST_MAX_LIMIT = 1000
VERSION_MAX = 2**63 - 1  # versions are bigint
EMAIL_MAX_CHARS = 320

# Unicode category Cc: C0 controls, DEL and C1 controls (as schema.sql).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# NUL as json.dumps writes it inside a string: \u0000 after an even number
# of backslashes (an odd one would make it the text "\u0000" itself).
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# uuid.UUID's own storage of its value (a slot), which a subclass's `int`
# property cannot stand in for.
_UUID_VALUE = UUID.__dict__["int"]


def identifier(value: object, field: str) -> UUID:
    """An exact uuid.UUID with the caller's value, which the repositories
    then use for the SQL and the cursors alike. A subclass (whose str(),
    bytes or int could say anything, and asyncpg sends a UUID's `bytes`) is
    rebuilt from the 128-bit integer uuid.UUID itself holds (its slot, not
    the subclass's `int`), checked to be a plain int in range. asyncpg's
    own UUID, which its rows hold, is taken as it is: a C type whose text
    and bytes are its value."""
    kind = type(value)
    if kind is UUID or kind is _DRIVER_UUID:
        return value  # type: ignore[return-value]  # both are uuid.UUIDs
    if not isinstance(value, UUID):
        raise InvalidInput(field, f"must be a uuid.UUID, not {kind.__name__}")
    try:
        bits = _UUID_VALUE.__get__(value, UUID)
    except AttributeError:  # a subclass that never set it
        bits = None
    if type(bits) is not int or not 0 <= bits < 1 << 128:
        raise InvalidInput(field, "must be a uuid.UUID holding a 128-bit value")
    return UUID(int=bits)


def _exact(value: str) -> str:
    """The text a str holds, as a plain str: a subclass's methods (encode,
    split, startswith, `in`) could say otherwise, while the database stores
    the text itself. A plain str is returned as it is, without a copy."""
    return value if type(value) is str else str.__str__(value)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a str, not {type(value).__name__}")
    text = _exact(value)
    if _SURROGATE.search(text):
        raise InvalidInput(field, "contains a lone surrogate (not valid UTF-8)")
    return text


def name(value: object, field: str = "name") -> str:
    """Trimmed; 1 to 200 characters; no control characters."""
    trimmed = _text(value, field).strip()
    if not trimmed:
        raise InvalidInput(field, "must not be empty")
    if len(trimmed) > NAME_MAX_CHARS:
        raise InvalidInput(field, f"must be at most {NAME_MAX_CHARS} characters")
    if _CONTROL.search(trimmed):
        raise InvalidInput(field, "must not contain control characters")
    return trimmed


def description(value: object) -> str | None:
    if value is None:
        return None
    text = _text(value, "description")
    if len(text) > DESCRIPTION_MAX_CHARS:
        raise InvalidInput(
            "description", f"must be at most {DESCRIPTION_MAX_CHARS} characters"
        )
    if "\x00" in text:
        raise InvalidInput("description", "must not contain NUL characters")
    return text


def email(value: object) -> str:
    text = _text(value, "email").strip()
    if len(text) > EMAIL_MAX_CHARS or not _EMAIL.match(text) or _CONTROL.search(text):
        raise InvalidInput("email", "must look like local@domain, without spaces")
    return text


def prefix(value: object, field: str = "prefix") -> str:
    """A listing prefix: a plain string (not a glob), need not end on a '/'.
    Also the first half of `path`: text, length and characters."""
    text = _text(value, field)
    if len(text.encode("utf-8")) > PATH_MAX_BYTES:
        raise InvalidInput(field, f"must be at most {PATH_MAX_BYTES} bytes of UTF-8")
    if _CONTROL.search(text):
        raise InvalidInput(field, "must not contain control characters")
    return text


def path(value: object, field: str = "path") -> str:
    """A relative POSIX path, stored exactly as given when valid."""
    text = prefix(value, field)
    if not text:
        raise InvalidInput(field, "must not be empty")
    if text.startswith("/"):
        raise InvalidInput(field, "must be relative (no leading '/')")
    if "\\" in text:
        raise InvalidInput(field, "must not contain a backslash")
    for segment in text.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidInput(field, "must not have an empty, '.' or '..' segment")
    return text


FileKind = Literal["text", "binary"]


@dataclass(frozen=True)
class Content:
    """Content with its bytes, kind, size and hash, computed once. `value`
    is what the caller gave (a str for a text file, bytes for a binary one),
    the content the API hands back."""

    value: str | bytes
    data: bytes
    kind: FileKind
    size_bytes: int
    sha256: str


def content(value: object, max_bytes: int) -> Content:
    given, data, kind = _content_bytes(value, max_bytes)
    return Content(given, data, kind, len(data), hashlib.sha256(data).hexdigest())


def _content_bytes(
    value: object, max_bytes: int
) -> tuple[str | bytes, bytes, FileKind]:
    """The content, its bytes and kind, checked: everything but the hash.
    A str is a text file (its UTF-8, no NUL); bytes a binary one (any
    bytes)."""
    if isinstance(value, bytes):
        data = value if type(value) is bytes else bytes(value)
        if len(data) > max_bytes:
            raise InvalidInput("content", f"must be at most {max_bytes} bytes")
        return data, data, "binary"
    if not isinstance(value, str):
        raise InvalidInput(
            "content", f"must be a str or bytes, not {type(value).__name__}"
        )
    text = _exact(value)
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "content", "contains a lone surrogate (not valid UTF-8)"
        ) from None
    if len(encoded) > max_bytes:
        raise InvalidInput("content", f"must be at most {max_bytes} bytes of UTF-8")
    if b"\x00" in encoded:
        raise InvalidInput("content", "must not contain NUL characters")
    return text, encoded, "text"


def tree(
    files: object, *, max_content_bytes: int, max_files: int, max_bytes: int
) -> dict[str, Content]:
    """A sync's tree: a mapping of path to content, every path and content
    checked as for a put, at most `max_files` files and `max_bytes` bytes
    in all (UTF-8 for paths and text), paths and content alike (both travel in the statement,
    and a tree of empty files with long paths costs the server as much as
    content does). The count is checked first, before any entry; the total
    after every entry, and a tree over it is hashed no further."""
    if not isinstance(files, Mapping):
        raise InvalidInput("files", "must be a mapping of path to content")
    if len(files) > max_files:
        raise InvalidInput(
            "max_sync_files",
            f"a sync takes at most {max_files} files; {len(files)} given",
        )
    bodies: dict[str, Content] = {}
    total = 0
    for count, (raw_path, raw_content) in enumerate(files.items(), 1):
        if count > max_files:  # a Mapping whose len() said fewer
            raise InvalidInput(
                "max_sync_files",
                f"a sync takes at most {max_files} files; more given",
            )
        try:
            checked_path = path(raw_path)
            given, encoded, kind = _content_bytes(raw_content, max_content_bytes)
        except InvalidInput as refused:
            # Which of the tree's files: the key as given, when a str.
            if not isinstance(raw_path, str):
                raise
            raise InvalidInput(refused.field, refused.reason, path=raw_path) from None
        total += len(checked_path.encode()) + len(encoded)
        if total <= max_bytes:
            digest = hashlib.sha256(encoded).hexdigest()
            bodies[checked_path] = Content(given, encoded, kind, len(encoded), digest)
    if total > max_bytes:
        raise InvalidInput(
            "max_sync_bytes",
            f"a sync takes at most {max_bytes} bytes of paths and content"
            " in all;"
            f" {total} given",
        )
    return bodies


def url(value: object, name: str) -> str:
    """A database URL given to Store.open: a str (asyncpg parses it when
    connecting, and a malformed one is InvalidInput then)."""
    if not isinstance(value, str):
        raise InvalidInput(name, f"must be a str, not {type(value).__name__}")
    return value


def flag(value: object, name: str) -> bool:
    """A switch given to Store.open: a bool, not merely something truthy."""
    if not isinstance(value, bool):
        raise InvalidInput(name, "must be a bool")
    return value


def server_settings(value: object, name: str) -> dict[str, str]:
    """Settings for every connection's start, given to Store.open: None (no
    settings), or a mapping of str to str."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(setting, str) and isinstance(text, str)
        for setting, text in value.items()
    ):
        raise InvalidInput(name, "must be a mapping of str to str")
    return dict(value)


def option(value: object, name: str, *, least: int = 1) -> int:
    """A count given to Store.open (or store.retrying): an int >= `least`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(name, f"must be an int >= {least}")
    return int.__index__(value)


def seconds(value: object, name: str, *, zero: bool = False) -> float:
    """A duration: a finite int or float above 0 (from 0 with `zero`)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero)
    ):
        least = "0" if zero else "above 0"
        raise InvalidInput(name, f"must be a finite number of seconds, {least}")
    return float(value)


CURSOR_KEY_MIN_BYTES = 32  # as the database's own key (cursor_signing_key)


def cursor_key(value: object, name: str = "cursor_key") -> bytes | None:
    """None (the database's key), or bytes of at least 32 bytes."""
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise InvalidInput(name, f"must be bytes or None, not {type(value).__name__}")
    # The bytes it holds, whatever a subclass's __len__ or __bytes__ says.
    key = bytes(memoryview(value))
    if len(key) < CURSOR_KEY_MIN_BYTES:
        raise InvalidInput(name, f"must be at least {CURSOR_KEY_MIN_BYTES} bytes long")
    return key


def state(value: object) -> dict[str, Any]:
    """A JSON object of plain JSON values: string keys; None, bool, int,
    finite float, str, list and dict values; at most 100 levels deep. Its
    strings (no NUL, no lone surrogate) and its size are checked on the JSON
    text the repository writes (`state_text`): one scan of one string
    instead of one per string of the state."""
    if not isinstance(value, dict):
        raise InvalidInput(
            "state", f"must be a JSON object (dict), not {type(value).__name__}"
        )
    _check_json(value)
    return value


def state_text(text: str) -> str:
    """The serialised state (as agent_states writes it: compact, numbers
    written out in full as jsonb prints them, other characters as they
    are): no string in it holds NUL (jsonb cannot store \\u0000) or a lone
    surrogate (not UTF-8), and it is at most 1 MiB of UTF-8."""
    # Encoding finds a lone surrogate (it has no UTF-8 form), and the
    # substring test keeps the regular expression off most texts.
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        size = -1
    if size < 0 or ("\\u0000" in text and _ESCAPED_NUL.search(text)):
        raise InvalidInput("state", "strings must not contain NUL or lone surrogates")
    if size > STATE_MAX_BYTES:
        raise state_too_large()
    return text


def state_too_large() -> InvalidInput:
    return InvalidInput("state", f"must be at most {STATE_MAX_BYTES} bytes serialised")


def _check_json(root: dict[str, Any]) -> None:
    """Every value of a state JSON can hold, at most STATE_MAX_DEPTH levels
    deep. Recursion is bounded by that depth: deeper nesting is an input
    error, not a crash."""
    _check_value(root, 1)


def _too_deep() -> InvalidInput:
    return InvalidInput("state", f"must not nest deeper than {STATE_MAX_DEPTH} levels")


def _check_value(node: object, depth: int) -> None:
    # The hot path of a save: exact types are told by `type(…) is`, and
    # subclasses fall through to isinstance. A container's children are one
    # level deeper; strings, ints and None in an object need no visit
    # (their characters are checked on the JSON text: state_text).
    if depth > STATE_MAX_DEPTH:
        raise _too_deep()
    if isinstance(node, dict):
        for key, child in node.items():
            if type(key) is not str and not isinstance(key, str):
                raise InvalidInput("state", "object keys must be strings")
            kind = type(child)
            if kind is str or kind is int or kind is bool or child is None:
                continue
            if kind is float:
                if depth >= STATE_MAX_DEPTH:
                    raise _too_deep()
                if not math.isfinite(child):
                    raise InvalidInput("state", "NaN and Infinity are not JSON")
                continue
            if not isinstance(child, (str, int)):
                _check_value(child, depth + 1)
    elif isinstance(node, list):
        if node and depth >= STATE_MAX_DEPTH:
            raise _too_deep()
        for child in node:
            kind = type(child)
            if kind is str or kind is int or kind is bool or child is None:
                continue
            _check_value(child, depth + 1)
    elif isinstance(node, float):
        if not math.isfinite(node):
            raise InvalidInput("state", "NaN and Infinity are not JSON")
    elif node is not None and not isinstance(node, (str, int)):
        raise InvalidInput("state", f"{type(node).__name__} is not a JSON value")


def limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("limit", "must be an int")
    if not 1 <= value <= LIST_MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {LIST_MAX_LIMIT}")
    return value


def expected_version(value: object) -> int | None:
    """None, or a version: an int a PostgreSQL bigint holds, from 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("expected_version", "must be None or an int")
    exact = int.__index__(value)  # the int it holds, whatever a subclass says
    if not 0 <= exact <= VERSION_MAX:
        raise InvalidInput(
            "expected_version", f"must be None or an int from 0 to {VERSION_MAX}"
        )
    return exact


def version(value: object) -> int:
    """A version to read: an int from 1 that a PostgreSQL bigint holds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("version", "must be an int")
    exact = int.__index__(value)
    if not 1 <= exact <= VERSION_MAX:
        raise InvalidInput("version", f"must be an int from 1 to {VERSION_MAX}")
    return exact


def label(value: object) -> str | None:
    """A checkpoint's label: None, or a name's rules (trimmed; 1 to 200
    characters; no control characters)."""
    if value is None:
        return None
    return name(value, "label")
