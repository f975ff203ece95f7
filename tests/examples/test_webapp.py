"""The reference web app (examples/webapp) over HTTP, in-process, against the
real database: every route's happy path, another user's project as 404 on
every route, ETags with If-Match (412) and If-None-Match (304), every error
as `{"code", "message"}`, read-your-writes under concurrent clients, and
the commit made before the response is sent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, Request
from starlette.types import Message

from devtools import cluster
from examples.webapp.app import Settings, create_app
from examples.webapp.errors import repository_error_response
from repositories import (
    NotFound,
    RepositoryError,
    Store,
    UnitOfWork,
)
from tests.examples.conftest import client_of, one_connection_app

Headers = dict[str, str]


async def sign_up(client: httpx.AsyncClient, name: str = "Ada") -> Headers:
    """A new user, as the auth layer would create one; its X-User-Id."""
    response = await client.post(
        "/users", json={"email": f"{uuid.uuid4().hex}@example.com", "name": name}
    )
    assert response.status_code == 201, response.text
    return {"X-User-Id": response.json()["id"]}


async def new_project(client: httpx.AsyncClient, user: Headers) -> str:
    response = await client.post("/projects", json={"name": "demo"}, headers=user)
    assert response.status_code == 201, response.text
    project_id = response.json()["id"]
    assert isinstance(project_id, str)
    return project_id


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json().keys() == {"code", "message"}
    assert response.json()["code"] == code
    assert response.json()["message"]


def file_url(project_id: str, path: str) -> str:
    return f"/projects/{project_id}/files/{path}"


# --- configuration -----------------------------------------------------------


async def test_the_store_opens_in_the_lifespan_from_the_environment(
    app_url: str, auth_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", app_url)
    monkeypatch.setenv("AUTH_DATABASE_URL", auth_url)
    app = create_app()
    async with app.router.lifespan_context(app), client_of(app) as client:
        user = await sign_up(client)
        response = await client.get("/users/me", headers=user)
        assert response.status_code == 200
        assert response.json()["id"] == user["X-User-Id"]


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    monkeypatch.setenv("AUTH_DATABASE_URL", "postgres://somewhere/db")
    with pytest.raises(RuntimeError, match="set APP_DATABASE_URL"):
        Settings.from_env()


# --- users -------------------------------------------------------------------


async def test_users(client: httpx.AsyncClient) -> None:
    email = f"Grace.{uuid.uuid4().hex}@example.com"
    created = await client.post("/users", json={"email": email, "name": " Grace "})
    assert created.status_code == 201
    assert (created.json()["email"], created.json()["name"]) == (email, "Grace")
    user = {"X-User-Id": created.json()["id"]}

    me = await client.get("/users/me", headers=user)
    assert me.json() == created.json()

    taken = await client.post("/users", json={"email": email.upper(), "name": "Twin"})
    assert_error(taken, 409, "email_taken")
    assert email.lower() not in taken.text.lower()

    assert_error(
        await client.post("/users", json={"email": "nope", "name": "X"}),
        422,
        "invalid_input",
    )
    assert_error(
        await client.post("/users", json={"email": "a@b.c", "name": "X", "admin": 1}),
        422,
        "invalid_input",
    )
    assert_error(await client.get("/users/me"), 401, "unauthenticated")
    assert_error(
        await client.get("/users/me", headers={"X-User-Id": "42"}),
        401,
        "unauthenticated",
    )
    assert_error(
        await client.get("/users/me", headers={"X-User-Id": str(uuid.uuid4())}),
        404,
        "not_found",
    )


# --- projects ------------------------------------------------------------------


async def test_projects_crud_and_cursor_pagination(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    ids = [await new_project(client, user) for _ in range(3)]

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = await client.get("/projects", params=params, headers=user)
        assert page.status_code == 200
        assert len(page.json()["items"]) <= 2
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]  # newest first

    project_id = ids[0]
    got = await client.get(f"/projects/{project_id}", headers=user)
    assert got.status_code == 200
    assert got.json()["name"] == "demo"

    renamed = await client.patch(
        f"/projects/{project_id}",
        json={"name": "renamed", "description": "about"},
        headers=user,
    )
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["description"]) == (
        "renamed",
        "about",
    )
    cleared = await client.patch(
        f"/projects/{project_id}", json={"description": None}, headers=user
    )
    assert (cleared.json()["name"], cleared.json()["description"]) == ("renamed", None)

    assert_error(
        await client.get("/projects", params={"limit": 0}, headers=user),
        422,
        "invalid_input",
    )
    assert_error(
        await client.get("/projects", params={"cursor": "forged"}, headers=user),
        422,
        "invalid_input",
    )
    assert_error(
        await client.get("/projects/not-a-uuid", headers=user), 422, "invalid_input"
    )
    assert_error(
        await client.patch(f"/projects/{project_id}", json={"name": ""}, headers=user),
        422,
        "invalid_input",
    )

    deleted = await client.delete(f"/projects/{project_id}", headers=user)
    assert deleted.status_code == 204
    assert_error(
        await client.get(f"/projects/{project_id}", headers=user), 404, "not_found"
    )
    assert_error(
        await client.delete(f"/projects/{project_id}", headers=user), 404, "not_found"
    )


# --- files ---------------------------------------------------------------------


async def test_files(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "src/a.py")

    created = await client.put(url, content="print(1)\n", headers=user)
    assert created.status_code == 201
    assert created.json()["outcome"] == "created"
    assert created.json()["file"]["version"] == 1
    assert "content" not in created.json()["file"]
    tag = created.headers["ETag"]

    got = await client.get(url, headers=user)
    assert got.status_code == 200
    assert got.text == "print(1)\n"
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["ETag"] == tag

    same = await client.put(url, content="print(1)\n", headers=user)
    assert (same.status_code, same.json()["outcome"]) == (200, "unchanged")
    assert same.headers["ETag"] == tag
    changed = await client.put(url, content="print(2)\n", headers=user)
    assert (changed.status_code, changed.json()["outcome"]) == (200, "updated")
    assert changed.headers["ETag"] != tag

    for path in ("src/b.py", "docs/readme.md"):
        put = await client.put(file_url(project_id, path), content=path, headers=user)
        assert put.status_code == 201
    listed: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, str | int] = {"prefix": "src/", "limit": 1}
        if cursor is not None:
            params["cursor"] = cursor
        page = await client.get(
            f"/projects/{project_id}/files", params=params, headers=user
        )
        assert page.status_code == 200
        listed += [entry["path"] for entry in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert listed == ["src/a.py", "src/b.py"]

    synced = await client.post(
        f"/projects/{project_id}/sync",
        json={"files": {"src/a.py": "print(2)\n", "src/new.py": "new"}},
        headers=user,
    )
    assert synced.status_code == 200
    assert synced.json() == {"created": 1, "updated": 0, "unchanged": 1, "deleted": 2}

    moved = await client.post(
        f"/projects/{project_id}/move",
        json={"path": "src/a.py", "new_path": "src/c.py"},
        headers=user,
    )
    assert moved.status_code == 200
    assert moved.json()["path"] == "src/c.py"
    assert moved.headers["ETag"]
    assert_error(await client.get(url, headers=user), 404, "not_found")
    assert (
        await client.get(file_url(project_id, "src/c.py"), headers=user)
    ).text == "print(2)\n"
    assert_error(
        await client.post(
            f"/projects/{project_id}/move",
            json={"path": "src/c.py", "new_path": "src/new.py"},
            headers=user,
        ),
        409,
        "path_taken",
    )

    bad_sync = await client.post(
        f"/projects/{project_id}/sync",
        json={"files": {"ok.txt": "x", "a\\b.txt": "y"}},
        headers=user,
    )
    assert_error(bad_sync, 422, "invalid_input")
    assert 'files["a\\\\b.txt"]' in bad_sync.json()["message"]
    assert_error(
        await client.put(file_url(project_id, "a\\b"), content="x", headers=user),
        422,
        "invalid_input",
    )
    assert_error(
        await client.put(
            file_url(project_id, "bytes.bin"), content=b"\xff\xfe", headers=user
        ),
        422,
        "invalid_input",
    )

    deleted = await client.delete(file_url(project_id, "src/c.py"), headers=user)
    assert deleted.status_code == 204
    assert_error(
        await client.get(file_url(project_id, "src/c.py"), headers=user),
        404,
        "not_found",
    )
    assert_error(
        await client.delete(file_url(project_id, "src/c.py"), headers=user),
        404,
        "not_found",
    )


# --- agent state ---------------------------------------------------------------


async def test_agent_state(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = f"/projects/{project_id}/agent-state"
    assert_error(await client.get(url, headers=user), 404, "not_found")

    created = await client.put(
        url, json={"step": 1}, headers={**user, "If-None-Match": "*"}
    )
    assert created.status_code == 201
    assert (created.json()["version"], created.json()["state"]) == (1, {"step": 1})
    first = created.headers["ETag"]
    assert_error(
        await client.put(url, json={"step": 9}, headers={**user, "If-None-Match": "*"}),
        412,
        "version_conflict",
    )

    got = await client.get(url, headers=user)
    assert (got.status_code, got.json()["state"]) == (200, {"step": 1})
    assert got.headers["ETag"] == first
    cached = await client.get(url, headers={**user, "If-None-Match": first})
    assert (cached.status_code, cached.content) == (304, b"")

    saved = await client.put(url, json={"step": 2}, headers={**user, "If-Match": first})
    assert (saved.status_code, saved.json()["version"]) == (200, 2)
    second = saved.headers["ETag"]
    assert_error(
        await client.put(url, json={"step": 3}, headers={**user, "If-Match": first}),
        412,
        "version_conflict",
    )
    assert_error(
        await client.delete(url, headers={**user, "If-Match": first}),
        412,
        "version_conflict",
    )
    assert (await client.get(url, headers=user)).json()["state"] == {"step": 2}
    assert_error(await client.put(url, json=[1, 2], headers=user), 422, "invalid_input")

    deleted = await client.delete(url, headers={**user, "If-Match": second})
    assert deleted.status_code == 204
    assert_error(await client.get(url, headers=user), 404, "not_found")


# --- another user's project ------------------------------------------------------


async def test_another_users_project_is_404_on_every_route(
    client: httpx.AsyncClient,
) -> None:
    owner = await sign_up(client, "Ada")
    project_id = await new_project(client, owner)
    url = file_url(project_id, "src/a.py")
    assert (await client.put(url, content="mine", headers=owner)).status_code == 201
    state_url = f"/projects/{project_id}/agent-state"
    assert (
        await client.put(state_url, json={"step": 1}, headers=owner)
    ).status_code == 201

    mallory = await sign_up(client, "Mallory")
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/projects/{project_id}", {}),
        ("PATCH", f"/projects/{project_id}", {"json": {"name": "mine now"}}),
        ("DELETE", f"/projects/{project_id}", {}),
        ("GET", f"/projects/{project_id}/files", {}),
        ("PUT", url, {"content": "hers"}),
        ("PUT", file_url(project_id, "src/new.py"), {"content": "hers"}),
        (
            "PUT",
            url,
            {
                "content": b"\x00",
                "headers": {"Content-Type": "application/octet-stream"},
            },
        ),
        ("GET", url, {}),
        ("GET", url, {"headers": {"If-None-Match": "*"}}),
        ("GET", url, {"params": {"version": 1}}),
        ("GET", f"/projects/{project_id}/history/src/a.py", {}),
        ("DELETE", url, {}),
        ("POST", f"/projects/{project_id}/sync", {"json": {"files": {}}}),
        ("POST", f"/projects/{project_id}/checkpoints", {}),
        ("GET", f"/projects/{project_id}/checkpoints", {}),
        (
            "POST",
            f"/projects/{project_id}/move",
            {"json": {"path": "src/a.py", "new_path": "src/b.py"}},
        ),
        ("GET", state_url, {}),
        ("PUT", state_url, {"json": {"step": 666}}),
        ("DELETE", state_url, {}),
    ]
    for method, target, options in calls:
        headers = {**mallory, **options.pop("headers", {})}
        response = await client.request(method, target, headers=headers, **options)
        assert_error(response, 404, "not_found")
    listed = await client.get("/projects", headers=mallory)
    assert listed.json() == {"items": [], "next_cursor": None}

    # Nothing changed for the owner.
    assert (await client.get(url, headers=owner)).text == "mine"
    assert (await client.get(state_url, headers=owner)).json()["state"] == {"step": 1}
    files = await client.get(f"/projects/{project_id}/files", headers=owner)
    assert [entry["path"] for entry in files.json()["items"]] == ["src/a.py"]
    assert (await client.get(f"/projects/{project_id}", headers=owner)).json()[
        "name"
    ] == "demo"


# --- ETags -------------------------------------------------------------------------


async def test_a_stale_if_match_is_412_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "a.txt")
    first = (await client.put(url, content="one", headers=user)).headers["ETag"]
    second = (await client.put(url, content="two", headers=user)).headers["ETag"]

    stale_headers = {**user, "If-Match": first}
    assert_error(
        await client.put(url, content="three", headers=stale_headers),
        412,
        "version_conflict",
    )
    assert_error(
        await client.delete(url, headers=stale_headers), 412, "version_conflict"
    )
    weak = await client.put(
        url, content="three", headers={**user, "If-Match": f"W/{second}"}
    )
    assert_error(weak, 412, "version_conflict")  # If-Match compares strongly
    assert_error(
        await client.put(url, content="three", headers={**user, "If-None-Match": "*"}),
        412,
        "version_conflict",
    )
    assert_error(
        await client.put(
            file_url(project_id, "missing.txt"),
            content="x",
            headers={**user, "If-Match": "*"},
        ),
        412,
        "version_conflict",
    )
    got = await client.get(url, headers=user)
    assert (got.text, got.headers["ETag"]) == ("two", second)

    listed = f'"0.0", {second}'
    current = await client.put(
        url, content="three", headers={**user, "If-Match": listed}
    )
    assert (current.status_code, current.json()["outcome"]) == (200, "updated")
    third = current.headers["ETag"]
    assert (
        await client.put(url, content="four", headers={**user, "If-Match": "*"})
    ).status_code == 200
    assert_error(
        await client.delete(url, headers={**user, "If-Match": third}),
        412,
        "version_conflict",
    )
    fresh = (await client.get(url, headers=user)).headers["ETag"]
    deleted = await client.delete(url, headers={**user, "If-Match": fresh})
    assert deleted.status_code == 204


async def test_a_stale_if_match_after_delete_and_recreate_is_412(
    client: httpx.AsyncClient,
) -> None:
    """A path deleted and written again (same content, even) is a new file:
    an ETag of the old one is stale for every conditional request."""
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "again.txt")
    old = (await client.put(url, content="same", headers=user)).headers["ETag"]
    assert (await client.delete(url, headers=user)).status_code == 204
    recreated = await client.put(url, content="same", headers=user)
    assert recreated.status_code == 201

    assert_error(
        await client.put(url, content="changed", headers={**user, "If-Match": old}),
        412,
        "version_conflict",
    )
    assert_error(
        await client.delete(url, headers={**user, "If-Match": old}),
        412,
        "version_conflict",
    )
    not_cached = await client.get(url, headers={**user, "If-None-Match": old})
    assert (not_cached.status_code, not_cached.text) == (200, "same")
    assert not_cached.headers["ETag"] == recreated.headers["ETag"]

    state_url = f"/projects/{project_id}/agent-state"
    old_state = (await client.put(state_url, json={"step": 1}, headers=user)).headers[
        "ETag"
    ]
    assert (await client.delete(state_url, headers=user)).status_code == 204
    assert (
        await client.put(state_url, json={"step": 1}, headers=user)
    ).status_code == 201  # created again after the delete
    assert_error(
        await client.put(
            state_url, json={"step": 2}, headers={**user, "If-Match": old_state}
        ),
        412,
        "version_conflict",
    )
    assert_error(
        await client.delete(state_url, headers={**user, "If-Match": old_state}),
        412,
        "version_conflict",
    )
    assert (
        await client.get(state_url, headers={**user, "If-None-Match": old_state})
    ).status_code == 200


async def test_if_none_match_is_304_while_the_file_is_unchanged(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "big.txt")
    tag = (await client.put(url, content="x" * 100_000, headers=user)).headers["ETag"]

    for sent in (tag, f"W/{tag}", f'"0.0", {tag}', "*"):
        cached = await client.get(url, headers={**user, "If-None-Match": sent})
        assert cached.status_code == 304, sent
        assert cached.content == b""
        assert cached.headers["ETag"] == tag
    other = await client.get(url, headers={**user, "If-None-Match": '"0.0"'})
    assert (other.status_code, len(other.text)) == (200, 100_000)

    newer = (await client.put(url, content="y", headers=user)).headers["ETag"]
    changed = await client.get(url, headers={**user, "If-None-Match": tag})
    assert (changed.status_code, changed.text, changed.headers["ETag"]) == (
        200,
        "y",
        newer,
    )
    assert_error(
        await client.get(
            file_url(project_id, "missing.txt"),
            headers={**user, "If-None-Match": tag},
        ),
        404,
        "not_found",
    )


# --- read your writes ----------------------------------------------------------------


TASKS = 10
PAIRS_PER_TASK = 50


async def test_a_get_after_an_acknowledged_put_always_sees_it(web: FastAPI) -> None:
    """10 concurrent clients, each 50 times: PUT a new content, then GET it
    on whatever connection the pool hands out. Not one miss."""
    async with client_of(web) as setup:
        user = await sign_up(setup)
        project_id = await new_project(setup, user)
    misses: list[tuple[int, int, str]] = []

    async def writer(task: int) -> None:
        async with client_of(web) as client:
            url = file_url(project_id, f"task-{task}.txt")
            for pair in range(PAIRS_PER_TASK):
                content = f"task {task} write {pair}"
                put = await client.put(url, content=content, headers=user)
                assert put.status_code in (200, 201), put.text
                got = await client.get(url, headers=user)
                if got.text != content or got.headers["ETag"] != put.headers["ETag"]:
                    misses.append((task, pair, got.text))

    await asyncio.gather(*(writer(task) for task in range(TASKS)))
    assert misses == []


# --- commit before the response --------------------------------------------------------


async def drive(
    app: FastAPI,
    method: str,
    path: str,
    *,
    headers: Headers,
    body: bytes = b"",
    when_sent: Callable[[], Awaitable[None]],
) -> int:
    """Call the app as a server would, and run `when_sent` at the moment the
    app hands the server the last byte of its response: what a client may
    do next can happen from then on. Returns the status."""
    status = 0
    request_read = False
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal request_read
        if not request_read:
            request_read = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get(
            "more_body", False
        ):
            await when_sent()
            finished.set()

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (name.lower().encode(), value.encode()) for name, value in headers.items()
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("webapp.test", 80),
    }
    await app(scope, receive, send)
    return status


async def content_now(
    store: Store, user: Headers, project: str, path: str
) -> str | bytes | None:
    """The file as a fresh unit of work sees it (None: not there)."""
    async with store.unit_of_work(UUID(user["X-User-Id"])) as uow:
        try:
            return (await uow.files.get(UUID(project), path)).content
        except NotFound:
            return None


async def test_every_write_is_committed_before_its_response_is_sent(
    web: FastAPI, web_store: Store, client: httpx.AsyncClient
) -> None:
    user = await sign_up(client)
    project = await new_project(client, user)
    seen: list[object] = []

    async def file_now(path: str) -> None:
        seen.append(await content_now(web_store, user, project, path))

    async def state_now() -> None:
        async with web_store.unit_of_work(UUID(user["X-User-Id"])) as uow:
            try:
                seen.append((await uow.agent_states.get(UUID(project))).state)
            except NotFound:
                seen.append(None)

    writes: list[tuple[str, str, bytes, Callable[[], Awaitable[None]], object]] = [
        ("PUT", file_url(project, "a.txt"), b"one", lambda: file_now("a.txt"), "one"),
        ("PUT", file_url(project, "a.txt"), b"two", lambda: file_now("a.txt"), "two"),
        (
            "POST",
            f"/projects/{project}/sync",
            b'{"files": {"a.txt": "two", "b.txt": "bee"}}',
            lambda: file_now("b.txt"),
            "bee",
        ),
        (
            "POST",
            f"/projects/{project}/move",
            b'{"path": "b.txt", "new_path": "c.txt"}',
            lambda: file_now("c.txt"),
            "bee",
        ),
        ("DELETE", file_url(project, "a.txt"), b"", lambda: file_now("a.txt"), None),
        (
            "PUT",
            f"/projects/{project}/agent-state",
            b'{"step": 1}',
            state_now,
            {"step": 1},
        ),
        ("DELETE", f"/projects/{project}/agent-state", b"", state_now, None),
    ]
    for method, path, body, look, expected in writes:
        status = await drive(
            web,
            method,
            path,
            headers={**user, "content-type": "application/json"},
            body=body,
            when_sent=look,
        )
        assert status < 300, (method, path, status)
        assert seen[-1] == expected, (method, path, seen[-1])


async def unit_of_work_committed_after_the_response(
    request: Request, x_user_id: Annotated[str, Header()]
) -> AsyncIterator[UnitOfWork]:
    """The tempting dependency: a unit of work per request, with `yield`."""
    store = request.app.state.store
    assert isinstance(store, Store)
    async with store.unit_of_work(UUID(x_user_id)) as uow:
        yield uow


LateUnitOfWork = Annotated[
    UnitOfWork, Depends(unit_of_work_committed_after_the_response)
]


def yield_dependency_app(store: Store) -> FastAPI:
    app = FastAPI()
    app.state.store = store

    @app.put("/projects/{project_id}/files/{path:path}")
    async def put_file(
        project_id: UUID, path: str, request: Request, uow: LateUnitOfWork
    ) -> dict[str, str]:
        write = await uow.files.put(project_id, path, (await request.body()).decode())
        return {"outcome": write.outcome}

    return app


async def test_a_yield_dependency_would_answer_before_its_commit(
    web_store: Store, client: httpx.AsyncClient
) -> None:
    """Why the app does not hand routes its unit of work through a plain
    `yield` dependency: FastAPI runs the code after `yield` (here the
    COMMIT) only once the response has been sent, so at that moment another
    connection does not see the acknowledged write yet."""
    user = await sign_up(client)
    project = await new_project(client, user)
    app = yield_dependency_app(web_store)

    seen: list[str | bytes | None] = []

    async def look() -> None:
        seen.append(await content_now(web_store, user, project, "late.txt"))

    status = await drive(
        app,
        "PUT",
        file_url(project, "late.txt"),
        headers=user,
        body=b"late",
        when_sent=look,
    )
    assert status == 200
    assert seen == [None]  # acknowledged, and not there
    assert await content_now(web_store, user, project, "late.txt") == "late"


# --- errors that are not the client's ------------------------------------------------


async def test_no_free_connection_is_503(app_url: str, auth_url: str) -> None:
    app = one_connection_app(app_url, auth_url)
    async with app.router.lifespan_context(app), client_of(app) as client:
        user = await sign_up(client)
        store = app.state.store
        assert isinstance(store, Store)
        async with store.unit_of_work(UUID(user["X-User-Id"])):  # the only one
            busy = await client.get("/projects", headers=user)
        assert_error(busy, 503, "pool_exhausted")
        assert busy.json()["message"] == (
            "the service is at its capacity: no database connection freed up"
        )
        assert busy.headers["Retry-After"] == "1"
        assert (await client.get("/projects", headers=user)).status_code == 200


async def test_server_side_errors_answer_without_host_port_role_or_sqlstate(
    database_url: str,
) -> None:
    """Real errors from real calls, as the app answers them."""
    port = cluster.free_port()
    unreachable = await error_of(Store.open(f"postgres://app_login@127.0.0.1:{port}/x"))
    host_port = database_url.split("@", 1)[1].split("/", 1)[0]
    role = f"no_such_role_{uuid.uuid4().hex[:8]}"
    refused = await error_of(
        Store.open(f"postgres://{role}@{host_port}/postgres?sslmode=disable")
    )
    privileged = await error_of(Store.open(database_url))
    cases = [
        (unreachable, 503, "unavailable", [str(port), "127.0.0.1", "app_login"]),
        (refused, 500, "internal", [role, "28000", host_port]),
        (privileged, 500, "privileged_login", ["postgres", host_port]),
    ]
    for error, status, code, secrets in cases:
        response = repository_error_response(error)
        assert response.status_code == status
        text = bytes(response.body).decode()
        assert f'"code":"{code}"' in text
        for secret in secrets:
            assert secret not in text, (code, secret, text)


async def error_of(call: Awaitable[object]) -> RepositoryError:
    with pytest.raises(RepositoryError) as raised:
        await asyncio.wait_for(call, 30.0)
    return raised.value


async def test_unknown_routes_answer_in_the_same_shape(
    client: httpx.AsyncClient,
) -> None:
    assert_error(await client.get("/nowhere"), 404, "not_found")
    assert_error(await client.put("/users"), 405, "method_not_allowed")


def test_every_error_code_has_a_status() -> None:
    """A new error class cannot reach a client as an unmapped 500 unseen."""
    from examples.webapp.errors import STATUS
    from repositories import RepositoryError

    def codes(cls: type[RepositoryError]) -> set[str]:
        found = {cls.code}
        for sub in cls.__subclasses__():
            found |= codes(sub)
        return found

    assert codes(RepositoryError) - set(STATUS) == set()
