"""The one error the generator raises for bad input, and the one collector
of problems its build steps report to."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class GenerateError(Exception):
    """Input sqlc handed us that we cannot turn into correct Python.

    It carries every problem found (one line each, naming the query file,
    query and column) so that one `sqlc generate` run reports them all.
    """

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems


class Problems:
    """Every problem one run finds, in the order found.

    A build step reports here and goes on, so one `sqlc generate` names them
    all; the step that cannot build what it was asked for returns None (or
    an empty value) and leaves the problem here. Deeper helpers, such as
    TypeMapper.annotate, raise GenerateError instead; `attempt` is where
    those are collected. `raise_if_any` ends the run once everything has been
    looked at."""

    def __init__(self) -> None:
        self._found: list[str] = []

    def add(self, *problems: str | None) -> None:
        """Keep each problem given; None (no problem) is skipped, so that a
        Namespace.claim's answer can be handed over as it is."""
        self._found += [problem for problem in problems if problem]

    def attempt(self, step: Callable[[], T], failed: T) -> T:
        """`step()`; when it raises GenerateError, its problems are kept and
        `failed` is returned instead."""
        try:
            return step()
        except GenerateError as exc:
            self.add(*exc.problems)
            return failed

    def checkpoint(self) -> int:
        """A mark to ask `found_since` about: did a step add problems?"""
        return len(self._found)

    def found_since(self, checkpoint: int) -> bool:
        return len(self._found) > checkpoint

    def raise_if_any(self) -> None:
        """GenerateError with every problem kept, if there is one."""
        if self._found:
            raise GenerateError(*self._found)
