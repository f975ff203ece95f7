"""Where the figures came from."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe(server_version: str) -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": _memory_gib(),
        "cpu_model": _cpu_model(),
        "postgresql": server_version,
        "python": platform.python_version(),
        "asyncpg": version("asyncpg"),
        "sqlalchemy": version("sqlalchemy"),
        "pydantic": version("pydantic"),
    }


def load_average() -> list[float]:
    return _load()
