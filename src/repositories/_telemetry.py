"""What an operator sees of the units of work: OpenTelemetry spans and
metrics, and log records on the logger `repositories`.

Spans and metrics go through the OpenTelemetry API when it is installed
(the `otel` extra) and are off otherwise: then `tracer` and `instruments`
are None, and a repository call checks that one attribute. Nothing here
records a call's parameters, SQL or the data: a span carries the call's
name and an error's code, a log record the code and the duration."""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from repositories.errors import RepositoryError
from repositories.models import PoolStats

try:
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace as otel_trace

    AVAILABLE = True
except ImportError:  # the otel extra is not installed
    AVAILABLE = False

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
    from opentelemetry.trace import Span, Tracer, TracerProvider

LOG = logging.getLogger("repositories")
SCOPE = "repositories"
DB_SYSTEM = {"db.system.name": "postgresql"}
POOL_NAME = "db.client.connection.pool.name"
# Failures that are the caller's answer (a missing row, a taken name, an
# input refused at the door), not the operator's business: logged at INFO.
CALLERS_ANSWERS = frozenset(
    {
        "not_found",
        "conflict",
        "version_conflict",
        "path_taken",
        "email_taken",
        "invalid_input",
    }
)
# Failures that mean something is wrong with the server or its data.
SERVER_FAULTS = frozenset({"internal", "unavailable", "unreadable"})
# The attribute name a repository class has on a unit of work.
REPOSITORY_NAMES = {
    "ProjectsRepository": "projects",
    "ProjectFilesRepository": "files",
    "AgentStatesRepository": "agent_states",
    "CheckpointsRepository": "checkpoints",
    "RetentionRepository": "retention",
}
_POOL_NUMBERS = itertools.count(1)


class WatchedPool(Protocol):
    name: str

    def stats(self) -> PoolStats: ...


def pool_name(kind: str) -> str:
    """A name for one of this process's pools, told apart in the metrics
    (two Stores' tenant pools are two pools)."""
    return f"{kind}-{next(_POOL_NUMBERS)}"


def operation_name(qualname: str) -> str:
    """`ProjectsRepository.get` -> `projects.get`, as a route calls it."""
    cls, _, method = qualname.rpartition(".")
    return f"{REPOSITORY_NAMES.get(cls, cls)}.{method}"


def query_name(function_name: str) -> str:
    """A generated function's query as its `-- name:` spells it:
    `get_project` -> `GetProject`."""
    return "".join(part.title() for part in function_name.split("_"))


def error_type(exc: BaseException) -> str:
    return exc.code if isinstance(exc, RepositoryError) else type(exc).__qualname__


class Instruments:
    """The metrics: the pools' gauges (read from each live pool's stats when
    the reader collects), the wait for a connection, and the failures."""

    def __init__(self, provider: MeterProvider | None) -> None:
        meter = otel_metrics.get_meter(SCOPE, meter_provider=provider)
        self.pools: weakref.WeakSet[WatchedPool] = weakref.WeakSet()
        meter.create_observable_gauge(
            "db.client.connection.count",
            [self._connections],
            unit="{connection}",
            description="Connections of the pool, by state (used, idle)",
        )
        meter.create_observable_gauge(
            "db.client.connection.max",
            [self._max],
            unit="{connection}",
            description="The most connections the pool opens",
        )
        meter.create_observable_gauge(
            "db.client.connection.pending_requests",
            [self._waiting],
            unit="{request}",
            description="Callers waiting for a connection of the pool",
        )
        self.wait_time = meter.create_histogram(
            "db.client.connection.wait_time",
            unit="s",
            description="Time to get a connection from the pool",
        )
        self.timeouts = meter.create_counter(
            "db.client.connection.timeouts",
            unit="{timeout}",
            description="Waits for a connection that ran out (pool_exhausted)",
        )
        self.errors = meter.create_counter(
            "repositories.unit_of_work.errors",
            unit="{error}",
            description="Units of work that failed, by error code (error.type)",
        )

    def _observed(self) -> Iterator[tuple[str, PoolStats]]:
        for pool in list(self.pools):
            yield pool.name, pool.stats()

    def _connections(self, options: CallbackOptions) -> Iterable[Observation]:
        for name, stats in self._observed():
            for state, value in (("used", stats.in_use), ("idle", stats.idle)):
                yield otel_metrics.Observation(
                    value, {POOL_NAME: name, "db.client.connection.state": state}
                )

    def _max(self, options: CallbackOptions) -> Iterable[Observation]:
        for name, stats in self._observed():
            yield otel_metrics.Observation(stats.max_size, {POOL_NAME: name})

    def _waiting(self, options: CallbackOptions) -> Iterable[Observation]:
        for name, stats in self._observed():
            yield otel_metrics.Observation(stats.waiting, {POOL_NAME: name})


tracer: Tracer | None = None
instruments: Instruments | None = None
# Whether enable() was given its tracer provider (else the global one).
_own_provider = False
# Every pool opened in this process, so one enabled later sees them too.
_pools: weakref.WeakSet[WatchedPool] = weakref.WeakSet()


def enable(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> None:
    """Record spans and metrics through these providers (by default the
    global ones OpenTelemetry's setup installs). Done at import when the
    API is installed."""
    global tracer, instruments, _own_provider
    if not AVAILABLE:
        return
    tracer = otel_trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
    _own_provider = tracer_provider is not None
    instruments = Instruments(meter_provider)
    instruments.pools.update(_pools)


def active_tracer() -> Tracer | None:
    """The tracer to record a span with now, or None: tracing is off, or
    it follows the global tracer provider and none is set up yet (the API
    alone would hand out spans that record nothing, at a cost per call). A
    provider set up later is followed from then on."""
    if tracer is None:
        return None
    if _own_provider or not isinstance(
        otel_trace.get_tracer_provider(), otel_trace.ProxyTracerProvider
    ):
        return tracer
    return None


def disable() -> None:
    """Record no span and no metric, as when OpenTelemetry is not installed."""
    global tracer, instruments
    tracer = None
    instruments = None


def watch_pool(pool: WatchedPool) -> None:
    _pools.add(pool)
    if instruments is not None:
        instruments.pools.add(pool)


def failed(span: Span, exc: BaseException) -> None:
    kind = error_type(exc)
    span.set_attribute("error.type", kind)
    span.set_status(otel_trace.StatusCode.ERROR, kind)


@contextlib.contextmanager
def call_span(
    active: Tracer, parent: Span | None, operation: str, summary: str
) -> Iterator[None]:
    """One repository call or uow.run, a child of its unit of work's span
    (or, given no parent, of the call that made it)."""
    context = None if parent is None else otel_trace.set_span_in_context(parent)
    with active.start_as_current_span(
        summary,
        context=context,
        kind=otel_trace.SpanKind.CLIENT,
        attributes={
            **DB_SYSTEM,
            "db.operation.name": operation,
            "db.query.summary": summary,
        },
        # An exception's message may quote the caller's input (a path).
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except BaseException as exc:
            failed(span, exc)
            raise


class Watch:
    """One unit of work as the operator sees it: its span, how long it
    took, and how it failed."""

    __slots__ = ("span", "started", "threshold")

    def __init__(self, slow_after: float) -> None:
        self.started = time.perf_counter()
        self.threshold = slow_after
        self.span: Span | None = None
        active = active_tracer()
        if active is not None:
            self.span = active.start_span(
                "unit_of_work",
                kind=otel_trace.SpanKind.INTERNAL,
                attributes={**DB_SYSTEM, "db.operation.name": "unit_of_work"},
            )

    def ended(self, exc: BaseException | None) -> None:
        elapsed = time.perf_counter() - self.started
        if isinstance(exc, RepositoryError):
            code = exc.code
            level = (
                logging.INFO
                if code in CALLERS_ANSWERS
                else logging.ERROR
                if code in SERVER_FAULTS
                else logging.WARNING
            )
            LOG.log(
                level, "unit of work failed: %s (code %s)", type(exc).__name__, code
            )
            if instruments is not None:
                instruments.errors.add(1, {"error.type": code})
        if elapsed >= self.threshold:
            LOG.warning(
                "slow unit of work: %.3f s (slow_unit_of_work=%g s)",
                elapsed,
                self.threshold,
            )
        span = self.span
        if span is not None:
            if exc is not None:
                failed(span, exc)
            span.end()


if AVAILABLE:
    enable()
