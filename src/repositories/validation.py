"""The contract's input rules, checked before anything reaches the database.

The schema's CHECK constraints hold the same rules, so raw SQL cannot store
what these refuse; here they become InvalidInput with a field name instead of
a database error in the middle of a transaction.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from repositories.errors import InvalidInput

NAME_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 10_000
PATH_MAX_BYTES = 1024
DEFAULT_MAX_CONTENT_BYTES = 5 * 1024 * 1024
STATE_MAX_BYTES = 1024 * 1024
STATE_MAX_DEPTH = 100
LIST_MAX_LIMIT = 1000
EMAIL_MAX_CHARS = 320

# Unicode category Cc: C0 controls, DEL and C1 controls (as schema.sql).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def identifier(value: object, field: str) -> UUID:
    """An exact uuid.UUID with the caller's value. A subclass (whose str()
    could say anything) is rebuilt from its 128-bit integer, checked to be a
    plain int in range: whatever else it claims, the result's text form is
    hex digits and dashes only."""
    if not isinstance(value, UUID):
        raise InvalidInput(field, f"must be a uuid.UUID, not {type(value).__name__}")
    if type(value) is UUID:
        return value
    bits = value.int
    if type(bits) is not int or not 0 <= bits < 1 << 128:
        raise InvalidInput(field, "must be a uuid.UUID holding a 128-bit value")
    return UUID(int=bits)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a str, not {type(value).__name__}")
    if _SURROGATE.search(value):
        raise InvalidInput(field, "contains a lone surrogate (not valid UTF-8)")
    return value


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


@dataclass(frozen=True)
class Content:
    """Content with its size and hash, computed once."""

    text: str
    size_bytes: int
    sha256: str


def content(value: object, max_bytes: int) -> Content:
    if not isinstance(value, str):
        raise InvalidInput("content", f"must be a str, not {type(value).__name__}")
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "content", "contains a lone surrogate (not valid UTF-8)"
        ) from None
    if len(encoded) > max_bytes:
        raise InvalidInput("content", f"must be at most {max_bytes} bytes of UTF-8")
    if b"\x00" in encoded:
        raise InvalidInput("content", "must not contain NUL characters")
    return Content(value, len(encoded), hashlib.sha256(encoded).hexdigest())


def state(value: object) -> dict[str, Any]:
    """A JSON object of plain JSON values: string keys; None, bool, int,
    finite float, str, list and dict values; no NUL or lone surrogate in a
    string; at most 100 levels deep. Its size is checked on the JSON text the
    repository writes (`state_size`)."""
    if not isinstance(value, dict):
        raise InvalidInput(
            "state", f"must be a JSON object (dict), not {type(value).__name__}"
        )
    _check_json(value)
    return value


def state_size(text: str) -> str:
    """The serialised state: at most 1 MiB of UTF-8."""
    if len(text.encode("utf-8")) > STATE_MAX_BYTES:
        raise InvalidInput(
            "state", f"must be at most {STATE_MAX_BYTES} bytes serialised"
        )
    return text


def _check_json(root: dict[str, Any]) -> None:
    """Walk without recursion: deep nesting is an input error, not a crash."""
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > STATE_MAX_DEPTH:
            raise InvalidInput(
                "state", f"must not nest deeper than {STATE_MAX_DEPTH} levels"
            )
        if isinstance(node, dict):
            for key, child in node.items():
                if not isinstance(key, str):
                    raise InvalidInput("state", "object keys must be strings")
                _check_string(key)
                stack.append((child, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, str):
            _check_string(node)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise InvalidInput("state", "NaN and Infinity are not JSON")
        elif node is not None and not isinstance(node, int):
            raise InvalidInput("state", f"{type(node).__name__} is not a JSON value")


def _check_string(text: str) -> None:
    # jsonb cannot hold \u0000, and a lone surrogate is not UTF-8.
    if "\x00" in text or _SURROGATE.search(text):
        raise InvalidInput("state", "strings must not contain NUL or lone surrogates")


def limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("limit", "must be an int")
    if not 1 <= value <= LIST_MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {LIST_MAX_LIMIT}")
    return value


def expected_version(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("expected_version", "must be None or an int >= 0")
    return value
