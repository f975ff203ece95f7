"""Request bodies bounded before they are read.

FastAPI reads a body whole before validating it, so without a bound a
200 MiB PUT is held in memory only to be refused by the layer's 5 MiB
check. This ASGI middleware answers 413 from the declared Content-Length
before a byte is read, and cuts a body sent without one (chunked) as soon
as it passes the limit: the app holds at most the limit and one chunk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """The largest request body, in bytes, per kind of route.

    `file_bytes`: a file PUT, whose body is the content (the layer's
    `max_content_bytes`, 5 MiB). `sync_bytes`: a sync, a JSON tree of up to
    `max_sync_bytes` (32 MiB) of content, with room for JSON's escapes.
    `state_bytes`: an agent state (1 MiB compact in the layer), with room for
    whitespace. `other_bytes`: every other body (a project, a sign-up)."""

    file_bytes: int = 5 * MiB
    sync_bytes: int = 64 * MiB
    state_bytes: int = 2 * MiB
    other_bytes: int = 64 * 1024

    def for_request(self, method: str, path: str) -> int:
        if method == "PUT" and "/files/" in path:
            return self.file_bytes
        if method == "POST" and path.endswith("/sync"):
            return self.sync_bytes
        if method == "PUT" and path.endswith("/agent-state"):
            return self.state_bytes
        return self.other_bytes


def too_large(limit: int) -> str:
    return f"the request body is over {limit} bytes"


class BodyLimitMiddleware:
    """Enforces `BodyLimits` on every HTTP request (starlette middleware)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_request(scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse(send, limit)  # not a byte of the body read
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, so that FastAPI's body parsing passes
                    # it on (it turns other errors into a 400) and the
                    # app's handler answers it in the usual shape.
                    raise HTTPException(413, too_large(limit))
            return message

        await self.app(scope, bounded_receive, send)


async def refuse(send: Send, limit: int) -> None:
    body = json.dumps({"code": "too_large", "message": too_large(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The client may still be sending: it must not reuse this
                # connection for another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
