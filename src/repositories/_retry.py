"""store.retrying: a unit of work run again after the database rolled it
back, with a bounded, jittered wait between attempts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from repositories import validation
from repositories.errors import Contention, InvalidInput, Timeout
from repositories.unit_of_work import UnitOfWork

R = TypeVar("R")

# What promises that nothing of the unit of work remains. Not Unavailable
# (a commit's outcome may be unknown) nor PoolExhausted (another attempt
# adds to the load that caused it).
RETRYABLE: tuple[type[Exception], ...] = (Contention, Timeout)
# The exponent stops growing here; max_delay has capped the wait long before.
_MAX_DOUBLINGS = 64


def backoff(
    attempt: int,
    base_delay: float,
    max_delay: float,
    draw: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt `attempt` (1, 2, …): a uniform
    draw below min(max_delay, base_delay * 2 ** (attempt - 1)), so that units
    of work rolled back together do not all come back together."""
    ceiling = min(max_delay, base_delay * 2.0 ** min(attempt - 1, _MAX_DOUBLINGS))
    return draw() * ceiling


def checked(attempts: object, base_delay: object, max_delay: object) -> None:
    validation.option(attempts, "attempts")
    base = validation.seconds(base_delay, "base_delay", zero=True)
    most = validation.seconds(max_delay, "max_delay", zero=True)
    if most < base:
        raise InvalidInput("max_delay", "must be at least base_delay")


async def retrying(
    unit_of_work: Callable[[bool], UnitOfWork],
    work: Callable[[UnitOfWork], Awaitable[R]],
    attempts: int,
    base_delay: float,
    max_delay: float,
) -> R:
    """`work` in a new unit of work per attempt; the last error is raised
    when every attempt was rolled back.

    The first attempt, when another may follow, writes side by side with
    the project's other writers (`unit_of_work(True)`: the project lock
    shared for writes of one row); they can deadlock each other, which
    rolls one back. Every later attempt takes the lock exclusively at its
    first write of a project, as a unit of work opened directly does, so
    it cannot be rolled back for a deadlock within a project again."""
    attempt = 1
    while True:
        try:
            async with unit_of_work(attempt == 1 and attempts > 1) as uow:
                return await work(uow)
        except RETRYABLE:
            if attempt >= attempts:
                raise
        await asyncio.sleep(backoff(attempt, base_delay, max_delay))
        attempt += 1
