"""What makes the reference web app a template to copy, seen from its HTTP
clients: request bodies bounded before they are read, only async
dependencies, /healthz over Store.ping, a pluggable authenticator, PATCH
with absent and null fields told apart, 412s that carry the current ETag,
Link headers for pages, and created vs updated for agent states."""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import Iterator
from uuid import UUID

import asyncpg
import httpx
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.types import Message

from examples.webapp.app import Settings, create_app
from examples.webapp.limits import BodyLimits
from repositories import Store
from tests.examples.conftest import client_of, one_connection_app
from tests.examples.test_webapp import assert_error, file_url, new_project, sign_up

MiB = 1024 * 1024


# --- the request-size limit ----------------------------------------------------


async def put_streamed(
    app: FastAPI, path: str, headers: dict[str, str], total: int, chunk: int
) -> tuple[int, int, dict[str, str]]:
    """PUT `total` bytes to `path` as a server hands a body to the app, one
    `chunk` per receive, made only when the app asks for it: the status, the
    bytes the app read, and the JSON body of the answer. Nothing of the body
    exists before the app reads it, so what it read is what it held."""
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        if read >= total:
            return {"type": "http.disconnect"}
        size = min(chunk, total - read)
        read += size
        return {
            "type": "http.request",
            "body": b"a" * size,
            "more_body": read < total,
        }

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("webapp.test", 80),
        "state": {},
    }
    await app(scope, receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    answer = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], read, json.loads(answer)


async def test_a_200_mib_put_with_its_length_is_refused_unread(web: FastAPI) -> None:
    async with client_of(web) as client:
        user = await sign_up(client)
        project_id = await new_project(client, user)
    total = 200 * MiB
    status, read, answer = await put_streamed(
        web,
        file_url(project_id, "big.txt"),
        {**user, "Content-Length": str(total)},
        total,
        MiB,
    )
    assert status == 413
    assert read == 0  # refused on the declared length, before any byte
    assert answer["code"] == "too_large"


async def test_a_200_mib_put_without_its_length_is_cut_at_the_limit(
    web: FastAPI,
) -> None:
    async with client_of(web) as client:
        user = await sign_up(client)
        project_id = await new_project(client, user)
    limit = BodyLimits().file_bytes
    status, read, answer = await put_streamed(
        web,
        file_url(project_id, "big.txt"),
        {**user, "Transfer-Encoding": "chunked"},
        200 * MiB,
        MiB,
    )
    assert status == 413
    assert read <= limit + MiB  # at most one chunk past the limit, not 200 MiB
    assert answer == {
        "code": "too_large",
        "message": f"the request body is over {limit} bytes",
    }
    async with client_of(web) as client:
        missing = await client.get(file_url(project_id, "big.txt"), headers=user)
    assert_error(missing, 404, "not_found")


async def test_a_body_at_the_limit_is_taken(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    limit = BodyLimits().file_bytes
    url = file_url(project_id, "edge.txt")
    taken = await client.put(url, content=b"a" * limit, headers=user)
    assert taken.status_code == 201, taken.text
    over = await client.put(url, content=b"a" * (limit + 1), headers=user)
    assert_error(over, 413, "too_large")
    big_sync = {"files": {"a.txt": "a" * (BodyLimits().sync_bytes + 1)}}
    assert_error(
        await client.post(f"/projects/{project_id}/sync", json=big_sync, headers=user),
        413,
        "too_large",
    )
    big_project = {"name": "a" * BodyLimits().other_bytes}
    assert_error(
        await client.post("/projects", json=big_project, headers=user), 413, "too_large"
    )


# --- async dependencies ---------------------------------------------------------


def dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from dependencies(sub)


def test_every_dependency_is_async(web: FastAPI) -> None:
    """A sync `def` dependency runs in the threadpool: one thread hop per
    request for work that never blocks."""
    seen = 0
    for route in web.routes:
        if isinstance(route, APIRoute):
            assert inspect.iscoroutinefunction(route.endpoint), route.path
            for sub in dependencies(route.dependant):
                seen += 1
                assert inspect.iscoroutinefunction(sub.call), (route.path, sub.call)
    assert seen > 0


# --- /healthz -------------------------------------------------------------------


async def test_healthz_answers_while_the_database_does(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_healthz_is_503_with_the_code_when_the_database_does_not_answer(
    app_url: str, auth_url: str
) -> None:
    app = one_connection_app(app_url, auth_url)
    async with app.router.lifespan_context(app), client_of(app) as client:
        store = app.state.store
        assert isinstance(store, Store)
        user = await sign_up(client)
        async with store.unit_of_work(UUID(user["X-User-Id"])):  # the only one
            busy = await client.get("/healthz")
        assert_error(busy, 503, "pool_exhausted")
        assert busy.headers["Retry-After"] == "1"
        await store.close()  # the server is now out of reach for this app
        closed = await client.get("/healthz")
        assert closed.status_code == 503
        assert closed.json()["code"] == "unavailable"


# --- the authenticator hook -------------------------------------------------------


async def test_a_real_authenticator_plugs_in(app_url: str, auth_url: str) -> None:
    tokens: dict[str, UUID] = {}

    async def bearer(request: Request) -> UUID:
        header = request.headers.get("authorization", "")
        user = tokens.get(header.removeprefix("Bearer "))
        if user is None:
            from examples.webapp.errors import Problem

            raise Problem(401, "unauthenticated", "no valid token")
        return user

    app = create_app(Settings(app_url, auth_url), authenticator=bearer)
    async with app.router.lifespan_context(app), client_of(app) as client:
        user = await sign_up(client)  # the stand-in header, no longer honoured
        assert_error(
            await client.get("/users/me", headers=user), 401, "unauthenticated"
        )
        tokens["t0k3n"] = UUID(user["X-User-Id"])
        me = await client.get("/users/me", headers={"Authorization": "Bearer t0k3n"})
        assert (me.status_code, me.json()["id"]) == (200, user["X-User-Id"])


async def test_the_stand_in_header_stays_the_default(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    assert (await client.get("/users/me", headers=user)).status_code == 200
    assert_error(await client.get("/users/me"), 401, "unauthenticated")


# --- PATCH: absent, null and a value ------------------------------------------------


async def test_patch_tells_absent_from_null(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    created = await client.post(
        "/projects", json={"name": "one", "description": "d"}, headers=user
    )
    url = f"/projects/{created.json()['id']}"

    null_name = await client.patch(url, json={"name": None}, headers=user)
    assert_error(null_name, 422, "invalid_input")
    message = null_name.json()["message"]
    assert "NoneType" not in message
    assert "None" not in message
    assert "name" in message
    assert "null" in message

    kept = await client.patch(url, json={}, headers=user)
    assert (kept.json()["name"], kept.json()["description"]) == ("one", "d")
    renamed = await client.patch(url, json={"name": "two"}, headers=user)
    assert (renamed.json()["name"], renamed.json()["description"]) == ("two", "d")
    cleared = await client.patch(url, json={"description": None}, headers=user)
    assert (cleared.json()["name"], cleared.json()["description"]) == ("two", None)


# --- every 412 carries the current ETag ----------------------------------------------


async def test_every_412_carries_the_current_etag(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "a.txt")
    first = (await client.put(url, content="one", headers=user)).headers["ETag"]
    current = (await client.put(url, content="two", headers=user)).headers["ETag"]

    stale = {**user, "If-Match": first}
    for refused in (
        await client.put(url, content="x", headers=stale),
        await client.delete(url, headers=stale),
        await client.put(url, content="x", headers={**user, "If-None-Match": "*"}),
    ):
        assert_error(refused, 412, "version_conflict")
        assert refused.headers["ETag"] == current

    state_url = f"/projects/{project_id}/agent-state"
    saved = await client.put(state_url, json={"n": 1}, headers=user)
    again = await client.put(state_url, json={"n": 2}, headers=user)
    for refused in (
        await client.put(
            state_url,
            json={"n": 3},
            headers={**user, "If-Match": saved.headers["ETag"]},
        ),
        await client.delete(state_url, headers={**user, "If-Match": '"0"'}),
        await client.put(
            state_url, json={"n": 3}, headers={**user, "If-None-Match": "*"}
        ),
    ):
        assert_error(refused, 412, "version_conflict")
        assert refused.headers["ETag"] == again.headers["ETag"]


async def test_a_412_from_the_compare_and_swap_carries_the_etag_that_won(
    web: FastAPI, web_store: Store, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The If-Match holds when the route checks it, then a write lands
    before the route's own (it waits on the project's lock): the
    repository's compare-and-swap refuses, and the 412 names the winner."""
    async with client_of(web) as client:
        user = await sign_up(client)
        project_id = await new_project(client, user)
        url = file_url(project_id, "a.txt")
        first = (await client.put(url, content="one", headers=user)).headers["ETag"]
        async with web_store.unit_of_work(UUID(user["X-User-Id"])) as blocker:
            won = await blocker.files.put(UUID(project_id), "a.txt", "won")
            late = asyncio.create_task(
                client.put(url, content="late", headers={**user, "If-Match": first})
            )
            await until_a_backend_waits_on_a_lock(superuser)
        refused = await late
        assert_error(refused, 412, "version_conflict")
        assert refused.headers["ETag"] == f'"{won.file.version}"'
        got = await client.get(url, headers=user)
        assert (got.text, got.headers["ETag"]) == ("won", refused.headers["ETag"])


async def until_a_backend_waits_on_a_lock(
    superuser: asyncpg.Connection[asyncpg.Record],
) -> None:
    for _ in range(3000):
        if await superuser.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no backend ever waited on a lock")


# --- Link headers for pages ----------------------------------------------------------


async def follow_links(
    client: httpx.AsyncClient, url: str, user: dict[str, str]
) -> list[str]:
    """Every item's id or path, page after page by rel="next" alone."""
    seen: list[str] = []
    next_url: str | None = url
    while next_url is not None:
        page = await client.get(next_url, headers=user)
        assert page.status_code == 200, page.text
        seen += [item.get("path", item.get("id")) for item in page.json()["items"]]
        link = page.links.get("next")
        assert (link is None) == (page.json()["next_cursor"] is None)
        next_url = None if link is None else link["url"]
    return seen


async def test_paged_listings_link_to_their_next_page(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    ids = [await new_project(client, user) for _ in range(3)]
    assert sorted(await follow_links(client, "/projects?limit=2", user)) == sorted(ids)

    project_id = ids[0]
    paths = ["d/a.txt", "d/b.txt", "d/c.txt", "e.txt"]
    for path in paths:
        await client.put(file_url(project_id, path), content="x", headers=user)
    listed = await follow_links(
        client, f"/projects/{project_id}/files?prefix=d/&limit=1", user
    )
    assert listed == paths[:3]  # the prefix kept on every next page


# --- agent state: created vs updated ---------------------------------------------------


async def test_agent_state_save_says_created_or_updated(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = f"/projects/{project_id}/agent-state"
    assert (await client.put(url, json={"n": 1}, headers=user)).status_code == 201
    assert (await client.put(url, json={"n": 2}, headers=user)).status_code == 200
    assert (await client.delete(url, headers=user)).status_code == 204
    assert (await client.put(url, json={"n": 3}, headers=user)).status_code == 201
    conditional = await client.put(
        url, json={"n": 4}, headers={**user, "If-Match": "*"}
    )
    assert conditional.status_code == 200
    assert uuid.UUID(conditional.json()["project_id"]) == UUID(project_id)
