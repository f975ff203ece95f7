"""Benchmarks of the persistence layer against the usual Python alternatives.

Four stacks run the same requests on the same PostgreSQL, in one process:
(a) raw asyncpg, (b) SQLAlchemy async ORM, (c) SQLAlchemy Core ``text()``
(what sqlc-gen-python emits), (d) this project's repositories.
``python -m bench --quick`` (or ``nox -s bench -- --quick``); see
docs/benchmarks.md.
"""
