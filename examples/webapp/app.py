"""The reference web app: FastAPI routes over the `repositories` API.

Run it with any ASGI server, e.g. `uvicorn examples.webapp.app:app`, with
APP_DATABASE_URL (the tenant login, app_login) and AUTH_DATABASE_URL (the
auth layer's login, app_auth_login) set. examples/README.md has the routes.

The one rule every route follows: the unit of work is entered and left
*inside* the route, so its COMMIT has happened before the route returns and
FastAPI sends anything. A dependency with `yield` would be shorter, but by
default FastAPI runs the code after `yield` (the commit) once the response
has been sent: a client could see 200 for a PUT, GET the file at once on
another connection and miss it, or see 200 for a write whose commit then
failed. (`Depends(..., scope="function")` ends a dependency before the
response instead; the explicit `async with` needs no such knowledge.)
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from examples.webapp import errors
from examples.webapp.errors import Problem, repository_error_response, stale
from examples.webapp.etags import Condition, Preconditions, etag
from examples.webapp.limits import BodyLimitMiddleware, BodyLimits
from repositories import (
    UNSET,
    AgentState,
    Checkpoint,
    CheckpointDiff,
    FileEntry,
    FileVersion,
    NotFound,
    Page,
    Project,
    ProjectFile,
    RepositoryError,
    RestoreResult,
    Store,
    SyncResult,
    UnitOfWork,
    User,
    VersionConflict,
)

TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"


def media_type_of(content: str | bytes) -> str:
    """How a file's content is sent: a text file as UTF-8 text, a binary
    one as the bytes it is."""
    return BINARY if isinstance(content, bytes) else TEXT


def is_binary(content_type: str | None) -> bool:
    """Whether a PUT's body is a binary file: `application/octet-stream`
    only. Any other type (text/*, JSON, none) is UTF-8 text, as before
    binary files existed, so a client that never sent the header keeps its
    behaviour."""
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == BINARY


@dataclass(frozen=True)
class Settings:
    """Where the Store logs in; `from_env` reads the environment."""

    app_database_url: str
    auth_database_url: str
    store_options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        missing = [
            name
            for name in ("APP_DATABASE_URL", "AUTH_DATABASE_URL")
            if not env.get(name)
        ]
        if missing:
            raise RuntimeError(f"set {' and '.join(missing)} (examples/README.md)")
        return cls(env["APP_DATABASE_URL"], env["AUTH_DATABASE_URL"])


# --- Request and response bodies ---------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(_Body):
    email: str
    name: str


class NewProject(_Body):
    name: str
    description: str | None = None


class ProjectChange(_Body):
    """Fields left out keep their value (UNSET for the repository);
    `"description": null` clears it; `"name": null` is refused, a project
    always has a name."""

    name: str | None = None
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, name: str | None) -> str | None:
        if name is None:
            # Without this the repository would refuse the None by its type.
            raise ValueError("a project's name cannot be null; leave it out to keep it")
        return name


def quoted(path: str) -> str:
    """A path as an error message quotes it, the way the repositories' do:
    JSON string syntax, a lone surrogate as a backslash escape, at most 200
    characters."""
    shown = path if len(path) <= 200 else path[:200] + "…"
    text = json.dumps(shown, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class Sync(_Body):
    """`files` are text; `binary_files` are binary files, each content in
    base64 (JSON has no bytes). A path in both is refused."""

    files: dict[str, str]
    binary_files: dict[str, str] = Field(default_factory=dict)
    delete_missing: bool = True

    def tree(self) -> dict[str, str | bytes]:
        """Every file of the request, text and binary (422 for a path in
        both, or a binary content that is not base64)."""
        tree: dict[str, str | bytes] = dict(self.files)
        for path, encoded in self.binary_files.items():
            if path in tree:
                raise Problem(
                    422,
                    "invalid_input",
                    f"invalid binary_files[{quoted(path)}]: the path is in files too",
                )
            try:
                # validate=True: a character outside the alphabet is an
                # error, not silently dropped (b64decode's default).
                tree[path] = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise Problem(
                    422,
                    "invalid_input",
                    f"invalid binary_files[{quoted(path)}]: not base64",
                ) from None
        return tree


class Move(_Body):
    path: str
    new_path: str


class NewCheckpoint(_Body):
    label: str | None = None


class FileWritten(BaseModel):
    """What a PUT of a file did, and the file without its content."""

    outcome: Literal["created", "updated", "unchanged"]
    file: FileEntry


def entry_of(file: ProjectFile) -> FileEntry:
    return FileEntry.model_validate(file.model_dump(exclude={"content"}))


# --- Dependencies: the Store, the acting user, the conditional headers -------


# Every dependency is `async def`: FastAPI runs a sync `def` dependency in
# its threadpool, one thread hop per request for work that never blocks.


async def store_of(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


Authenticator = Callable[[Request], Awaitable[UUID]]
"""The hook a real auth layer plugs into: given the request, the acting
user's id, or raise (a `Problem(401, "unauthenticated", ...)` answers 401).
Pass one to `create_app(authenticator=...)`."""


async def user_id_header(request: Request) -> UUID:
    """The stand-in authenticator, the default: the X-User-Id header. It
    stands in for real authentication (a session cookie or a token checked by
    the auth layer): do not deploy this as it is, anyone can send any id."""
    x_user_id = request.headers.get("x-user-id")
    if x_user_id is None:
        raise Problem(401, "unauthenticated", "the X-User-Id header is missing")
    try:
        return UUID(x_user_id)
    except ValueError:
        raise Problem(
            401, "unauthenticated", "the X-User-Id header is not a user id"
        ) from None


async def acting_user(request: Request) -> UUID:
    """The acting user, by the app's authenticator."""
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator(request)


async def preconditions(
    if_match: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Preconditions:
    return Preconditions.of(if_match, if_none_match)


StoreDep = Annotated[Store, Depends(store_of)]
Actor = Annotated[UUID, Depends(acting_user)]
Conditions = Annotated[Preconditions, Depends(preconditions)]


# --- Helpers that run inside a unit of work ----------------------------------


async def stat_or_none(
    uow: UnitOfWork, project_id: UUID, path: str
) -> FileEntry | None:
    try:
        return await uow.files.stat(project_id, path)
    except NotFound:
        return None


async def state_or_none(uow: UnitOfWork, project_id: UUID) -> AgentState | None:
    try:
        return await uow.agent_states.get(project_id)
    except NotFound:
        return None


@dataclass(frozen=True)
class Expected:
    """What a conditional write expects: the version for the repository's
    compare-and-swap (None: no condition). Versions never repeat, so the
    compare-and-swap alone refuses a row written since the ETag was read."""

    resource: str
    version: int | None

    @classmethod
    async def read(
        cls,
        resource: str,
        conditions: Preconditions,
        current_row: Callable[[], Awaitable[FileEntry | AgentState | None]],
    ) -> Expected:
        """Evaluate the preconditions on the current row, read only when
        there are preconditions (412 if they fail)."""
        if not conditions.given:
            return cls(resource, None)
        current = await current_row()
        current_etag = None if current is None else etag(current)
        if not conditions.hold_for(current_etag):
            raise stale(resource, current_etag)
        if current is None:
            return cls(resource, 0)  # it must still not exist when written
        return cls(resource, current.version)


def with_next_link(request: Request, response: Response, page: Page[Any]) -> None:
    """`Link: <this listing with the next cursor>; rel="next"` (RFC 8288),
    so a client pages by following links; the query's other parameters
    (limit, prefix) stay as they were."""
    if page.next_cursor is not None:
        url = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'


async def refused_stale(
    store: Store,
    actor: UUID,
    resource: str,
    read: Callable[[UnitOfWork], Awaitable[FileEntry | AgentState | None]],
) -> Problem:
    """The 412 for a compare-and-swap the repository refused (a write landed
    between the route's check and its own): the unit of work is rolled back,
    so the current ETag comes from a fresh one."""
    async with store.unit_of_work(actor) as uow:
        current = await read(uow)
    return stale(resource, None if current is None else etag(current))


# --- The app ------------------------------------------------------------------


def create_app(
    settings: Settings | None = None,
    *,
    authenticator: Authenticator = user_id_header,
    body_limits: BodyLimits | None = None,
) -> FastAPI:
    """The app; its Store is opened when it starts (lifespan) from
    `settings`, else from APP_DATABASE_URL and AUTH_DATABASE_URL, and closed
    when it stops. `authenticator` names the acting user of each request
    (the X-User-Id stand-in unless given); `body_limits` bounds request
    bodies before they are read."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or Settings.from_env()
        async with Store.open(
            config.app_database_url,
            auth_dsn=config.auth_database_url,
            **config.store_options,
        ) as store:
            app.state.store = store
            yield

    app = FastAPI(title="agent-persistence reference app", lifespan=lifespan)
    app.state.authenticator = authenticator
    app.add_middleware(BodyLimitMiddleware, limits=body_limits or BodyLimits())
    errors.install(app)

    # --- health ---------------------------------------------------------------

    @app.get("/healthz")
    async def healthz(store: StoreDep) -> JSONResponse:
        """200 while the database answers a round trip; else 503 with the
        error's code (`unavailable`, `pool_exhausted`, `timeout`) and
        Retry-After, as any other route's database error."""
        try:
            await store.ping()
        except RepositoryError as error:
            return repository_error_response(error)
        return JSONResponse({"status": "ok"})

    # --- users (what the auth layer does; no X-User-Id) ----------------------

    @app.post("/users", status_code=201)
    async def sign_up(body: SignUp, store: StoreDep) -> User:
        return await store.users.create(email=body.email, name=body.name)

    @app.get("/users/me")
    async def me(store: StoreDep, actor: Actor) -> User:
        return await store.users.get(actor)

    # --- projects -------------------------------------------------------------

    @app.post("/projects", status_code=201)
    async def create_project(
        body: NewProject, store: StoreDep, actor: Actor
    ) -> Project:
        async with store.unit_of_work(actor) as uow:
            project = await uow.projects.create(body.name, body.description)
        # Committed: only now may the client hear of it.
        return project

    @app.get("/projects")
    async def list_projects(
        request: Request,
        response: Response,
        store: StoreDep,
        actor: Actor,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Project]:
        async with store.unit_of_work(actor) as uow:
            page = await uow.projects.list(limit=limit, cursor=cursor)
        with_next_link(request, response, page)
        return page

    @app.get("/projects/{project_id}")
    async def get_project(project_id: UUID, store: StoreDep, actor: Actor) -> Project:
        async with store.unit_of_work(actor) as uow:
            project = await uow.projects.get(project_id)
        return project

    @app.patch("/projects/{project_id}")
    async def update_project(
        project_id: UUID, body: ProjectChange, store: StoreDep, actor: Actor
    ) -> Project:
        # A field left out is UNSET (kept); `description` given as null is
        # None (cleared); `name` is never None here (ProjectChange refuses it).
        async with store.unit_of_work(actor) as uow:
            project = await uow.projects.update(
                project_id,
                name=UNSET if body.name is None else body.name,
                description=(
                    body.description
                    if "description" in body.model_fields_set
                    else UNSET
                ),
            )
        return project

    @app.delete("/projects/{project_id}", status_code=204)
    async def delete_project(
        project_id: UUID, store: StoreDep, actor: Actor
    ) -> Response:
        async with store.unit_of_work(actor) as uow:
            await uow.projects.delete(project_id)
        return Response(status_code=204)

    # --- files ----------------------------------------------------------------

    @app.get("/projects/{project_id}/files")
    async def list_files(
        project_id: UUID,
        request: Request,
        response: Response,
        store: StoreDep,
        actor: Actor,
        prefix: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[FileEntry]:
        async with store.unit_of_work(actor) as uow:
            page = await uow.files.list(
                project_id, prefix=prefix, limit=limit, cursor=cursor
            )
        with_next_link(request, response, page)
        return page

    @app.put("/projects/{project_id}/files/{path:path}")
    async def put_file(
        project_id: UUID,
        path: str,
        request: Request,
        response: Response,
        store: StoreDep,
        actor: Actor,
        conditions: Conditions,
    ) -> FileWritten:
        body = await request.body()
        content: str | bytes
        if is_binary(request.headers.get("content-type")):
            content = body  # a binary file: the bytes as sent, any of them
        else:
            try:
                content = body.decode("utf-8")
            except UnicodeDecodeError:
                raise Problem(
                    422,
                    "invalid_input",
                    "invalid content: not UTF-8 text"
                    f" (send Content-Type: {BINARY} for a binary file)",
                ) from None
        try:
            async with store.unit_of_work(actor) as uow:
                expected = await Expected.read(
                    "file", conditions, lambda: stat_or_none(uow, project_id, path)
                )
                write = await uow.files.put(
                    project_id, path, content, expected_version=expected.version
                )
        except VersionConflict:
            raise await refused_stale(
                store, actor, "file", lambda uow: stat_or_none(uow, project_id, path)
            ) from None
        response.status_code = 201 if write.outcome == "created" else 200
        response.headers["ETag"] = etag(write.file)
        return FileWritten(outcome=write.outcome, file=entry_of(write.file))

    @app.get("/projects/{project_id}/files/{path:path}")
    async def get_file(
        project_id: UUID,
        path: str,
        store: StoreDep,
        actor: Actor,
        version: int | None = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """The file now, or with `?version=N` that version from its history
        (404 if the path never had it, it was a deletion, or it was
        pruned). Its ETag is the version either way: a version's content
        never changes."""
        cached = Condition.parse(if_none_match)
        async with store.unit_of_work(actor) as uow:
            if version is not None:
                file = await uow.files.get(project_id, path, version=version)
                if cached is not None and cached.matches_weakly(etag(file)):
                    return Response(status_code=304, headers={"ETag": etag(file)})
            else:
                if cached is not None:
                    # The metadata alone tells whether the client's copy is
                    # current; a 4 MiB content is then never read.
                    entry = await uow.files.stat(project_id, path)
                    if cached.matches_weakly(etag(entry)):
                        return Response(status_code=304, headers={"ETag": etag(entry)})
                file = await uow.files.get(project_id, path)
        return Response(
            file.content,
            media_type=media_type_of(file.content),
            headers={"ETag": etag(file)},
        )

    @app.get("/projects/{project_id}/history/{path:path}")
    async def file_history(
        project_id: UUID,
        path: str,
        request: Request,
        response: Response,
        store: StoreDep,
        actor: Actor,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[FileVersion]:
        """The path's versions, newest first, without content; a deleted
        one has `deleted_at`. Under its own prefix, not `/files/{path}/…`:
        a path may end in any name, `history` included."""
        async with store.unit_of_work(actor) as uow:
            page = await uow.files.history(project_id, path, limit=limit, cursor=cursor)
        with_next_link(request, response, page)
        return page

    @app.delete("/projects/{project_id}/files/{path:path}", status_code=204)
    async def delete_file(
        project_id: UUID,
        path: str,
        store: StoreDep,
        actor: Actor,
        conditions: Conditions,
    ) -> Response:
        try:
            async with store.unit_of_work(actor) as uow:
                expected = await Expected.read(
                    "file", conditions, lambda: stat_or_none(uow, project_id, path)
                )
                # The version compare-and-swap is atomic, and versions never
                # repeat for a path: nothing written since the stat is deleted.
                await uow.files.delete(
                    project_id, path, expected_version=expected.version
                )
        except VersionConflict:
            raise await refused_stale(
                store, actor, "file", lambda uow: stat_or_none(uow, project_id, path)
            ) from None
        return Response(status_code=204)

    @app.post("/projects/{project_id}/sync")
    async def sync_files(
        project_id: UUID, body: Sync, store: StoreDep, actor: Actor
    ) -> SyncResult:
        tree = body.tree()
        async with store.unit_of_work(actor) as uow:
            result = await uow.files.sync(
                project_id, tree, delete_missing=body.delete_missing
            )
        return result

    @app.post("/projects/{project_id}/move")
    async def move_file(
        project_id: UUID, body: Move, response: Response, store: StoreDep, actor: Actor
    ) -> FileEntry:
        async with store.unit_of_work(actor) as uow:
            moved = await uow.files.move(project_id, body.path, body.new_path)
        response.headers["ETag"] = etag(moved)
        return entry_of(moved)

    # --- checkpoints ----------------------------------------------------------

    @app.post("/projects/{project_id}/checkpoints", status_code=201)
    async def create_checkpoint(
        project_id: UUID,
        response: Response,
        store: StoreDep,
        actor: Actor,
        body: NewCheckpoint | None = None,
    ) -> Checkpoint:
        """The state of every file and of the agent state now, named (the
        body, `{"label"}`, may be left out)."""
        async with store.unit_of_work(actor) as uow:
            checkpoint = await uow.checkpoints.create(
                project_id, None if body is None else body.label
            )
        response.headers["Location"] = (
            f"/projects/{project_id}/checkpoints/{checkpoint.id}"
        )
        return checkpoint

    @app.get("/projects/{project_id}/checkpoints")
    async def list_checkpoints(
        project_id: UUID,
        request: Request,
        response: Response,
        store: StoreDep,
        actor: Actor,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Checkpoint]:
        async with store.unit_of_work(actor) as uow:
            page = await uow.checkpoints.list(project_id, limit=limit, cursor=cursor)
        with_next_link(request, response, page)
        return page

    @app.get("/projects/{project_id}/checkpoints/{checkpoint_id}")
    async def get_checkpoint(
        project_id: UUID, checkpoint_id: UUID, store: StoreDep, actor: Actor
    ) -> Checkpoint:
        async with store.unit_of_work(actor) as uow:
            checkpoint = await uow.checkpoints.get(project_id, checkpoint_id)
        return checkpoint

    @app.delete("/projects/{project_id}/checkpoints/{checkpoint_id}", status_code=204)
    async def delete_checkpoint(
        project_id: UUID, checkpoint_id: UUID, store: StoreDep, actor: Actor
    ) -> Response:
        async with store.unit_of_work(actor) as uow:
            await uow.checkpoints.delete(project_id, checkpoint_id)
        return Response(status_code=204)

    @app.post("/projects/{project_id}/checkpoints/{checkpoint_id}/restore")
    async def restore_checkpoint(
        project_id: UUID, checkpoint_id: UUID, store: StoreDep, actor: Actor
    ) -> RestoreResult:
        """The tree and the agent state made what they were at the
        checkpoint, in one write. Every path it changes gets a new version,
        so an ETag from before the restore is stale for it (412)."""
        async with store.unit_of_work(actor) as uow:
            result = await uow.checkpoints.restore(project_id, checkpoint_id)
        return result

    @app.get("/projects/{project_id}/checkpoints/{checkpoint_id}/diff")
    async def diff_checkpoint(
        project_id: UUID,
        checkpoint_id: UUID,
        store: StoreDep,
        actor: Actor,
        to: UUID | None = None,
    ) -> CheckpointDiff:
        """The paths added, changed and removed from the checkpoint to the
        checkpoint `to`, or to the project now without it."""
        async with store.unit_of_work(actor) as uow:
            diff = await uow.checkpoints.diff(project_id, checkpoint_id, to)
        return diff

    # --- agent state ----------------------------------------------------------

    @app.get("/projects/{project_id}/agent-state")
    async def get_agent_state(
        project_id: UUID,
        store: StoreDep,
        actor: Actor,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        async with store.unit_of_work(actor) as uow:
            state = await uow.agent_states.get(project_id)
        tag = etag(state)
        cached = Condition.parse(if_none_match)
        if cached is not None and cached.matches_weakly(tag):
            return Response(status_code=304, headers={"ETag": tag})
        return Response(
            state.model_dump_json(),
            media_type="application/json",
            headers={"ETag": tag},
        )

    @app.put("/projects/{project_id}/agent-state")
    async def save_agent_state(
        project_id: UUID,
        state: dict[str, JsonValue],
        response: Response,
        store: StoreDep,
        actor: Actor,
        conditions: Conditions,
    ) -> AgentState:
        try:
            async with store.unit_of_work(actor) as uow:
                expected = await Expected.read(
                    "agent state", conditions, lambda: state_or_none(uow, project_id)
                )
                saved = await uow.agent_states.save(
                    project_id, state, expected_version=expected.version
                )
        except VersionConflict:
            raise await refused_stale(
                store, actor, "agent state", lambda uow: state_or_none(uow, project_id)
            ) from None
        # Both timestamps default to the statement's time on insert, and an
        # update keeps created_at: equal only when this save created the row.
        # Read from the row the save returned, so a concurrent create cannot
        # make it wrong (a read before the save could).
        response.status_code = 201 if saved.created_at == saved.updated_at else 200
        response.headers["ETag"] = etag(saved)
        return saved

    @app.delete("/projects/{project_id}/agent-state", status_code=204)
    async def delete_agent_state(
        project_id: UUID, store: StoreDep, actor: Actor, conditions: Conditions
    ) -> Response:
        try:
            async with store.unit_of_work(actor) as uow:
                expected = await Expected.read(
                    "agent state", conditions, lambda: state_or_none(uow, project_id)
                )
                # As for files: the version compare-and-swap is atomic.
                await uow.agent_states.delete(
                    project_id, expected_version=expected.version
                )
        except VersionConflict:
            raise await refused_stale(
                store, actor, "agent state", lambda uow: state_or_none(uow, project_id)
            ) from None
        return Response(status_code=204)

    return app


# `uvicorn examples.webapp.app:app`; the Store opens when the server starts.
app = create_app()
