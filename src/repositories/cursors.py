"""Opaque, signed keyset cursors.

A cursor is base64url(payload) + "." + base64url(signature), the payload
being the listing's kind, its scope and the position, joined by U+001F
(no part can hold it: paths refuse control characters, and the other parts
are names, UUIDs and timestamps). The signature makes a tampered or forged
cursor an InvalidInput instead of a silently different page; the scope
binds a file cursor to its project.

The signature is keyed BLAKE2b, a MAC by design (RFC 7693), 16 bytes long.
HMAC-SHA256 through OpenSSL costs several times as much per call, and every
listing page signs a cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from typing import TypeVar

from repositories.errors import InvalidInput
from repositories.models import Page, page

T = TypeVar("T")

_SIGNATURE_BYTES = 16
_SEPARATOR = "\x1f"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        # BLAKE2b takes keys of up to 64 bytes; a longer one is hashed first,
        # as HMAC does.
        if len(key) > hashlib.blake2b.MAX_KEY_SIZE:
            key = hashlib.blake2b(key).digest()
        self._key = key

    def _sign(self, payload: bytes) -> bytes:
        return hashlib.blake2b(
            payload, key=self._key, digest_size=_SIGNATURE_BYTES
        ).digest()

    def encode(self, kind: str, scope: str, position: list[str]) -> str:
        parts = [kind, scope, *position]
        if any(_SEPARATOR in part for part in parts):
            raise ValueError("a cursor part holds U+001F, the parts' separator")
        payload = _SEPARATOR.join(parts).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, cursor: object, kind: str, scope: str) -> list[str]:
        if not isinstance(cursor, str):
            raise InvalidInput("cursor", f"must be a str, not {type(cursor).__name__}")
        try:
            payload_text, signature_text = cursor.split(".")
            payload = _unb64(payload_text)
            signature = _unb64(signature_text)
        except (ValueError, binascii.Error):
            raise InvalidInput(
                "cursor", "is not a cursor this listing issued"
            ) from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidInput("cursor", "is not a cursor this listing issued")
        # Signed, so this process wrote it: UTF-8 with a kind and a scope.
        found_kind, found_scope, *position = payload.decode().split(_SEPARATOR)
        if found_kind != kind or found_scope != scope:
            raise InvalidInput("cursor", "belongs to another listing")
        return position

    def page(
        self,
        page_type: type[Page[T]],
        found: list[T],
        limit: int,
        kind: str,
        scope: str,
        position: Callable[[T], list[str]],
    ) -> Page[T]:
        """A keyset listing's page from the `limit` + 1 rows it fetched (the
        extra one tells whether another page follows): the first `limit`
        and, when more follow, the cursor after the last of them, its
        `position` signed for the listing `kind` within `scope`."""
        items = found[:limit]
        next_cursor = None
        if len(found) > limit:
            next_cursor = self.encode(kind, scope, position(items[-1]))
        return page(page_type, items, next_cursor)
