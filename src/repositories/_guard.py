"""What keeps a unit of work's caller from misusing it, refused before any
SQL is sent: a call outside its block, a call while another of its calls
runs (one connection runs one call at a time; interleaved, one call's
savepoint rollback would undo the other's statements), and a write that
would wait for the project lock an enclosing unit of work of the same
Store and user holds (the inner one would wait on the outer, which waits
for it, until a timeout)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from repositories import _telemetry
from repositories.errors import ConcurrentCalls, NestedUnitOfWork, UnitOfWorkMisuse

if TYPE_CHECKING:
    from opentelemetry.trace import Span

P = ParamSpec("P")
R = TypeVar("R")

# The units of work open in this task (and in the task that started it:
# asyncio copies the context into a new task; will_lock looks only at those
# of the same task, whose caller is suspended inside the inner one).
_OPEN: ContextVar[tuple[Guard, ...]] = ContextVar("open_units_of_work", default=())


class Guard:
    """One unit of work's state as its repositories share it."""

    __slots__ = (
        "_caller",
        "_calls",
        "_done",
        "_held",
        "_opener",
        "_pool",
        "_token",
        "_user",
        "side_by_side",
        "span",
    )

    def __init__(
        self, pool: object, user_id: UUID, *, side_by_side: bool = False
    ) -> None:
        self._pool = pool  # the Store's pool stands for the Store
        self._user = user_id
        self._token: Token[tuple[Guard, ...]] | None = None
        self._caller: asyncio.Task[Any] | None = None
        self._calls = 0  # nested calls of the caller (a method calling another)
        self._done: asyncio.Event | None = None
        # The project locks this unit of work holds: True when exclusive.
        self._held: dict[UUID, bool] = {}
        # Whether its writes of one row take the project lock shared
        # (repositories._project_lock says when).
        self.side_by_side = side_by_side
        self._opener: asyncio.Task[Any] | None = None
        # The unit of work's span, parent of its calls' (None: not traced).
        self.span: Span | None = None

    @property
    def is_open(self) -> bool:
        return self._token is not None

    @property
    def nested(self) -> bool:
        """Whether the running call was made by another of its calls."""
        return self._calls > 1

    @property
    def running(self) -> bool:
        """Whether a call is running now."""
        return self._calls > 0

    def opened(self) -> None:
        self._opener = asyncio.current_task()
        self._token = _OPEN.set((*_OPEN.get(), self))

    def closed(self) -> None:
        token, self._token = self._token, None
        self._held.clear()
        if token is None:
            return
        try:
            _OPEN.reset(token)
        except ValueError:  # left in another context than it was entered in
            _OPEN.set(tuple(guard for guard in _OPEN.get() if guard is not self))

    def enter(self) -> None:
        """A call begins: refused unless the unit of work is open and no
        other task's call is running (a method calling another of the same
        unit of work is the same task)."""
        if self._token is None:
            raise UnitOfWorkMisuse()
        task = asyncio.current_task()
        if self._calls and self._caller is not task:
            raise ConcurrentCalls()
        self._caller = task
        self._calls += 1

    def leave(self) -> None:
        self._calls -= 1
        if not self._calls:
            self._caller = None
            if self._done is not None:
                self._done.set()
                self._done = None

    async def calls_finished(self) -> None:
        """Return once no call is running (the block may be left while a
        task it started still runs a call: wait for it, not for a hang, as
        each statement is bounded by command_timeout)."""
        while self._calls:
            if self._done is None:
                self._done = asyncio.Event()
            await self._done.wait()

    def will_lock(self, project_id: UUID) -> None:
        """Before a write that locks the project `project_id`: refused when
        an enclosing open unit of work of the same Store and user, opened in
        this task (so suspended until this one ends), holds its lock.
        Another task may wait for that lock: the unit of work that holds it
        goes on and ends."""
        for other in _OPEN.get():
            if (
                other is not self
                and project_id in other._held
                and other._pool is self._pool
                and other._user == self._user
                and other.is_open
                and other._opener is self._opener
            ):
                raise NestedUnitOfWork()

    def lock_needed(self, project_id: UUID, *, whole_project: bool) -> bool | None:
        """The project lock a write must take first: True exclusive, False
        shared, None when the unit of work holds what it needs already."""
        exclusive = whole_project or not self.side_by_side
        held = self._held.get(project_id)
        if held is None or (exclusive and not held):
            return exclusive
        return None

    def holds(self, project_id: UUID, *, exclusive: bool) -> None:
        """The write took the project lock (a lock once exclusive stays so)."""
        self._held[project_id] = exclusive or self._held.get(project_id, False)


class Guarded(Protocol):
    _guard: Guard


G = TypeVar("G", bound=Guarded)


def one_call_at_a_time(
    method: Callable[Concatenate[G, P], Awaitable[R]],
) -> Callable[Concatenate[G, P], Coroutine[Any, Any, R]]:
    """A repository method, run only while its unit of work is open and
    none of its other calls runs; traced when OpenTelemetry is on."""
    operation = _telemetry.operation_name(method.__qualname__)

    @functools.wraps(method)
    async def guarded(self: G, /, *args: P.args, **kwargs: P.kwargs) -> R:
        guard = self._guard
        guard.enter()
        try:
            tracer = _telemetry.active_tracer()
            if tracer is None:  # the hot path without OpenTelemetry
                return await method(self, *args, **kwargs)
            parent = None if guard.nested else guard.span
            with _telemetry.call_span(tracer, parent, operation, operation):
                return await method(self, *args, **kwargs)
        finally:
            guard.leave()

    return guarded
