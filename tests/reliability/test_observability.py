"""What an operator sees through OpenTelemetry and `logging`: a span per
unit of work and per repository call (database semantic conventions, the
error's code on a failure), the pools' gauges, the wait for a connection
and the failures by code as metrics, a warning for a slow unit of work;
and, with OpenTelemetry off, the same units of work without any of it."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from repositories import (
    InvalidInput,
    NotFound,
    PoolExhausted,
    Store,
    Timeout,
    User,
    _telemetry,
)
from repositories._generated import projects as projects_queries

from .helpers import HANG_GUARD_S, opened_store, superuser

SECRET_NAME = "observability-secret-name"


class Recorded:
    """What the SDK's in-memory exporter and reader hold."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def finished(self) -> dict[str, ReadableSpan]:
        spans = self.spans.get_finished_spans()
        by_name = {span.name: span for span in spans}
        assert len(by_name) == len(spans), [span.name for span in spans]
        return by_name

    def points(self, metric_name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == metric_name:
                        found.extend(metric.data.data_points)
        return found


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    """Spans and metrics of this test only, through providers of its own."""
    was = (_telemetry.tracer, _telemetry.instruments)
    recording = Recorded()
    _telemetry.enable(recording.tracer_provider, recording.meter_provider)
    try:
        yield recording
    finally:
        _telemetry.tracer, _telemetry.instruments = was
        recording.meter_provider.shutdown()
        recording.tracer_provider.shutdown()


def pool_points(points: list[Any], store: Store) -> list[Any]:
    name = store._connections.name  # the pool's name in the metrics
    return [p for p in points if p.attributes[_telemetry.POOL_NAME] == name]


async def test_a_unit_of_work_is_a_span_and_each_call_its_child(
    store: Store, user: User, recorded: Recorded
) -> None:
    tracer = recorded.tracer_provider.get_tracer("a-route")
    with tracer.start_as_current_span("request") as request:
        async with store.unit_of_work(user.id) as uow:
            project = await uow.projects.create(SECRET_NAME)
            row = await uow.run(
                projects_queries.get_project, id=project.id, owner_id=user.id
            )
            assert row is not None
    spans = recorded.finished()
    assert set(spans) == {"request", "unit_of_work", "projects.create", "GetProject"}
    unit = spans["unit_of_work"]
    assert unit.parent is not None
    assert unit.parent.span_id == request.get_span_context().span_id
    assert unit.attributes == {
        "db.system.name": "postgresql",
        "db.operation.name": "unit_of_work",
    }
    assert unit.status.status_code is StatusCode.UNSET
    create, run = spans["projects.create"], spans["GetProject"]
    for call in (create, run):
        assert call.parent is not None
        assert call.parent.span_id == unit.context.span_id
        assert call.kind is SpanKind.CLIENT
        assert call.status.status_code is StatusCode.UNSET
    assert create.attributes == {
        "db.system.name": "postgresql",
        "db.operation.name": "projects.create",
        "db.query.summary": "projects.create",
    }
    # uow.run's span is named as the generated query's `-- name:`.
    assert projects_queries.GET_PROJECT.startswith("-- name: GetProject ")
    assert run.attributes == {
        "db.system.name": "postgresql",
        "db.operation.name": "uow.run",
        "db.query.summary": "GetProject",
    }
    # Nothing of the call's input is on any span.
    for span in spans.values():
        assert SECRET_NAME not in repr(dict(span.attributes or {}))
        assert not span.events


async def test_a_failed_call_and_its_unit_of_work_carry_the_code(
    store: Store, user: User, recorded: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    missing = uuid.uuid4()
    with (
        caplog.at_level(logging.INFO, logger="repositories"),
        pytest.raises(NotFound),
    ):
        async with store.unit_of_work(user.id) as uow:
            await uow.projects.get(missing)
    spans = recorded.finished()
    assert set(spans) == {"unit_of_work", "projects.get"}
    for span in spans.values():
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "not_found"
        assert (span.attributes or {})["error.type"] == "not_found"
    assert recorded_errors(recorded) == {"not_found": 1}
    # The caller's answer, at INFO; without the id asked for.
    (record,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert "code not_found" in record.getMessage()
    assert str(missing) not in caplog.text


async def test_an_input_refused_in_a_call_marks_it_and_its_unit_of_work(
    store: Store, user: User, recorded: Recorded
) -> None:
    with pytest.raises(InvalidInput):
        async with store.unit_of_work(user.id) as uow:
            await uow.projects.create("")
    spans = recorded.finished()
    assert {span.status.description for span in spans.values()} == {"invalid_input"}
    assert recorded_errors(recorded) == {"invalid_input": 1}


def recorded_errors(recorded: Recorded) -> dict[str, int]:
    return {
        point.attributes["error.type"]: point.value
        for point in recorded.points("repositories.unit_of_work.errors")
    }


async def test_pool_gauges_and_the_wait_for_a_connection(
    app_url: str, user: User, recorded: Recorded
) -> None:
    async with opened_store(
        app_url, min_size=2, max_size=3, acquire_timeout=HANG_GUARD_S
    ) as store:
        async with store.unit_of_work(user.id):
            # Two open, one of them lent out: each number tells its own.
            assert store.stats().tenant.size == 2
            count = pool_points(recorded.points("db.client.connection.count"), store)
            by_state = {
                p.attributes["db.client.connection.state"]: p.value for p in count
            }
            assert by_state == {"used": 1, "idle": 1}
            (largest,) = pool_points(recorded.points("db.client.connection.max"), store)
            assert largest.value == 3
            (waiting,) = pool_points(
                recorded.points("db.client.connection.pending_requests"), store
            )
            assert waiting.value == 0
        (waited,) = pool_points(
            recorded.points("db.client.connection.wait_time"), store
        )
        assert waited.count == 1  # the one unit of work's acquire


async def test_pool_exhausted_and_lock_wait_timeouts_are_counted(
    app_url: str, database_url: str, user: User, recorded: Recorded
) -> None:
    async with opened_store(
        app_url, min_size=1, max_size=1, acquire_timeout=0.2, command_timeout=0.5
    ) as store:
        async with store.unit_of_work(user.id) as uow:
            project = await uow.projects.create("locked")
            with pytest.raises(PoolExhausted):
                async with store.unit_of_work(user.id):
                    pass
        (timeouts,) = pool_points(
            recorded.points("db.client.connection.timeouts"), store
        )
        assert timeouts.value == 1

        async with superuser(database_url) as holder, holder.transaction():
            await holder.execute(
                "SELECT id FROM projects WHERE id = $1 FOR UPDATE", project.id
            )

            async def locked_out() -> None:
                async with store.unit_of_work(user.id) as uow:
                    await uow.files.put(project.id, "new.txt", "new\n")

            with pytest.raises(Timeout):
                await asyncio.wait_for(locked_out(), HANG_GUARD_S)
    assert recorded_errors(recorded) == {"pool_exhausted": 1, "timeout": 1}


async def test_a_slow_unit_of_work_logs_a_warning(
    app_url: str, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    async with opened_store(app_url, slow_unit_of_work=0) as every_one_slow:
        with caplog.at_level(logging.WARNING, logger="repositories"):
            async with every_one_slow.unit_of_work(user.id) as uow:
                await uow.projects.create(SECRET_NAME)
    (record,) = caplog.records
    assert record.name == "repositories"
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("slow unit of work: ")
    assert "slow_unit_of_work=0 s" in record.getMessage()
    assert SECRET_NAME not in caplog.text


async def test_a_unit_of_work_under_its_threshold_logs_nothing(
    app_url: str, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    async with opened_store(app_url, slow_unit_of_work=3600) as patient:
        with caplog.at_level(logging.DEBUG, logger="repositories"):
            async with patient.unit_of_work(user.id) as uow:
                await uow.projects.create("quick")
    assert not caplog.records


def test_the_threshold_is_checked_at_open() -> None:
    with pytest.raises(InvalidInput, match="slow_unit_of_work"):
        Store.open("postgresql://unused", slow_unit_of_work=-1)


async def test_without_opentelemetry_nothing_is_recorded_and_all_works(
    store: Store, user: User, recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when opentelemetry is not importable: the module's switch off, and
    enabling it then does nothing."""
    _telemetry.disable()
    monkeypatch.setattr(_telemetry, "AVAILABLE", False)
    _telemetry.enable(recorded.tracer_provider, recorded.meter_provider)
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("untraced")
        assert await uow.run(
            projects_queries.get_project, id=project.id, owner_id=user.id
        )
    with pytest.raises(NotFound):
        async with store.unit_of_work(user.id) as uow:
            await uow.projects.get(uuid.uuid4())
    assert recorded.spans.get_finished_spans() == ()
    assert recorded.points("db.client.connection.wait_time") == []
    assert recorded_errors(recorded) == {}
    assert store.stats().tenant.in_use == 0


def test_the_package_imports_when_opentelemetry_cannot_be() -> None:
    """A fresh interpreter where `import opentelemetry` fails: the package
    imports with tracing and metrics off."""
    probe = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from repositories import Store, _telemetry\n"
        "print(_telemetry.AVAILABLE, _telemetry.tracer, _telemetry.instruments)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "None", "None"]
