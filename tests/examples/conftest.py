"""The reference web app (examples/webapp) started as a server starts it
(its lifespan opens the Store) on this module's database, and httpx clients
that call it in-process (ASGITransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from examples.webapp.app import Settings, create_app
from repositories import Store


@pytest.fixture(scope="module")
async def web(app_url: str, auth_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(app_url, auth_url))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
def web_store(web: FastAPI) -> Store:
    """The Store the app's lifespan opened, to look behind the routes."""
    store = web.state.store
    assert isinstance(store, Store)
    return store


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://webapp.test"
    )


@pytest.fixture
async def client(web: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(web) as opened:
        yield opened


def one_connection_app(app_url: str, auth_url: str) -> FastAPI:
    """The app over a pool of one connection that gives up waiting after
    0.2 s: a test holding that connection makes every other call find none."""
    return create_app(
        Settings(
            app_url,
            auth_url,
            store_options={"min_size": 1, "max_size": 1, "acquire_timeout": 0.2},
        )
    )
