"""A loopback TCP proxy that can hold a connection half-dead, or leave new
connections unanswered.

When the server closes its side, the proxy forwards everything the server
sent (a FATAL "terminating connection" error, say) but keeps the client's
socket open until `release_closes()`. That pins down, deterministically, the
window a real network leaves open by chance: the client has read the
server's last words but not yet the end of the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class HoldingProxy:
    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"no host and port in {target_url!r}")
        self._target_url = target_url
        self._target = (parts.hostname, parts.port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.upstream_closed = asyncio.Event()
        self._released = asyncio.Event()
        self.port = 0
        # False: a new connection is accepted and then left unanswered, as
        # a server that has stopped accepting would (a full backlog, say).
        self.answer_new_connections = True

    def url(self) -> str:
        """The target URL, pointed at the proxy."""
        parts = urlsplit(self._target_url)
        user = f"{parts.username}@" if parts.username else ""
        netloc = f"{user}127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def release_closes(self) -> None:
        """From now on, a server-side close is passed on to the client."""
        self._released.set()

    async def __aenter__(self) -> HoldingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._released.set()
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client_writer)
        if not self.answer_new_connections:
            return  # open until __aexit__, and silent
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.close()
            return
        self._writers.add(server_writer)
        self._spawn(self._to_server(client_reader, server_writer))
        self._spawn(self._to_client(server_reader, client_writer))

    async def _to_server(
        self, client_reader: asyncio.StreamReader, server_writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await client_reader.read(65536):
                if server_writer.is_closing():
                    continue  # the server is gone: swallow, as a dead link would
                server_writer.write(data)
                await server_writer.drain()
        server_writer.close()

    async def _to_client(
        self, server_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await server_reader.read(65536):
                client_writer.write(data)
                await client_writer.drain()
        self.upstream_closed.set()
        await self._released.wait()
        client_writer.close()
