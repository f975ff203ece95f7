"""Every error as a status and a client-safe JSON body `{"code", "message"}`.

A repository error brings both: its `code` picks the status, and its
`public_message` (the same text as `str(error)`) never names a host, port,
SQLSTATE, role or constraint; `error.detail` does, and goes to the log only.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from repositories import RepositoryError

logger = logging.getLogger("webapp")

# The code of each repository error, and its status.
STATUS = {
    "not_found": 404,
    "version_conflict": 412,  # every expected version here is an If-Match
    "path_taken": 409,
    "email_taken": 409,
    "conflict": 409,
    "invalid_input": 422,
    "unavailable": 503,
    "contention": 503,  # rolled back for another unit of work: try again
    "timeout": 503,  # rolled back after waiting too long: try again
    "pool_exhausted": 503,  # this process is at its capacity: try later
    "unreadable": 500,
    "privileged_login": 500,
    "unsafe_login_settings": 500,
    "unit_of_work_misuse": 500,  # a bug of the route
    "nested_unit_of_work": 500,
    "concurrent_calls": 500,
    "internal": 500,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    412: "version_conflict",
    413: "too_large",
    422: "invalid_input",
}


class Problem(Exception):
    """An error of the web layer itself (a missing header, a stale ETag)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def stale(resource: str, current_etag: str | None) -> Problem:
    """412: a precondition (If-Match, If-None-Match) did not hold. The
    current ETag goes with it (none when the row does not exist), so the
    client can read that version or retry against it without another GET."""
    return Problem(
        412,
        "version_conflict",
        f"{resource} conflict: the precondition does not hold for the current version",
        headers=None if current_etag is None else {"ETag": current_etag},
    )


def body(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def repository_error_response(error: RepositoryError) -> JSONResponse:
    """The response for a repository error; a server-side one is logged with
    its detail (the client gets the public message only)."""
    status = STATUS.get(error.code, 500)
    if status >= 500:
        logger.error(
            "%s: %s (detail: %s)",
            error.code,
            error.public_message,
            error.detail,
            exc_info=error,
        )
    response = body(error.code, error.public_message, status)
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response


async def _repository_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RepositoryError)
    return repository_error_response(exc)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    response = body(exc.code, exc.message, exc.status)
    response.headers.update(exc.headers or {})
    return response


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own checks (a path id that is not a UUID, a body that is not
    JSON): the first problem, named by where it is, without the input."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    message = "invalid request"
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"invalid {where}: {first.get('msg', 'refused')}"
    return body("invalid_input", message, 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    response = body(code, str(exc.detail), exc.status_code)
    response.headers.update(exc.headers or {})
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error", exc_info=exc)
    return body("internal", "internal error", 500)


def install(app: FastAPI) -> None:
    """Register the handlers: every error answers `{"code", "message"}`."""
    app.add_exception_handler(RepositoryError, _repository_error)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
