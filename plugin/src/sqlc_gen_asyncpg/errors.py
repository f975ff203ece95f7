"""The one error the generator raises for bad input."""

from __future__ import annotations


class GenerateError(Exception):
    """Input sqlc handed us that we cannot turn into correct Python.

    It carries every problem found (one line each, naming the query file,
    query and column) so that one `sqlc generate` run reports them all.
    """

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems
