"""The one error the generator raises for bad input."""


class GenerateError(Exception):
    """Input sqlc handed us that we cannot turn into correct Python.

    The message names the query file and query (and column) so that the
    developer can find the line; `sqlc generate` shows it and exits non-zero.
    """
