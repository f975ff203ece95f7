"""Cursors work across processes and restarts with no configuration: every
Store on a database signs with the key the migrations stored there, which no
tenant can read; tampering is still refused."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

from devtools import PROJECT_ROOT
from repositories import InvalidInput, Store, User
from repositories.unit_of_work import begin_as
from tests.support import new_project


async def first_page_cursor(store: Store, user: User) -> tuple[str, str]:
    """A project with three files, and the cursor after its first file."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for name in ("a", "b", "c"):
            await uow.files.put(project.id, f"{name}.txt", name)
        page = await uow.files.list(project.id, limit=1)
    assert page.next_cursor is not None
    return str(project.id), page.next_cursor


async def second_page(
    store: Store, user: User, project_id: str, cursor: str
) -> list[str]:
    import uuid

    async with store.unit_of_work(user.id) as uow:
        page = await uow.files.list(uuid.UUID(project_id), limit=1, cursor=cursor)
    return [entry.path for entry in page.items]


async def test_another_store_accepts_the_cursor(
    store: Store, app_url: str, user: User
) -> None:
    project_id, cursor = await first_page_cursor(store, user)
    async with Store.open(app_url) as other:
        assert await second_page(other, user, project_id, cursor) == ["b.txt"]


def test_another_process_after_a_restart_accepts_the_cursor(
    app_url: str, auth_url: str
) -> None:
    """Two interpreters, one after the other: the second reads the cursor the
    first printed, as a second worker or a restarted one would."""
    program = """
import asyncio, sys, uuid
from repositories import Store

async def main() -> None:
    async with Store.open(sys.argv[1], auth_dsn=sys.argv[2]) as store:
        if len(sys.argv) == 3:
            user = await store.users.create(email=f"{uuid.uuid4().hex}@example.com", name="W")
            async with store.unit_of_work(user.id) as uow:
                project = await uow.projects.create("p")
                for name in "abc":
                    await uow.files.put(project.id, f"{name}.txt", name)
                page = await uow.files.list(project.id, limit=1)
            print(user.id, project.id, page.next_cursor)
        else:
            user_id, project_id, cursor = sys.argv[3:6]
            async with store.unit_of_work(uuid.UUID(user_id)) as uow:
                page = await uow.files.list(uuid.UUID(project_id), limit=1, cursor=cursor)
            print(" ".join(e.path for e in page.items))

asyncio.run(main())
"""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", program, app_url, auth_url, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    first = run().split()
    assert run(*first) == "b.txt"


async def test_a_tampered_cursor_is_still_refused(store: Store, user: User) -> None:
    project_id, cursor = await first_page_cursor(store, user)
    payload, signature = cursor.split(".")
    # The first character: the last one of unpadded base64 carries spare
    # bits, so changing it may not change the bytes.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidInput) as refused:
        await second_page(store, user, project_id, f"{payload}.{flipped}")
    assert refused.value.field == "cursor"


async def test_an_explicit_key_still_wins(
    store: Store, app_url: str, user: User
) -> None:
    project_id, cursor = await first_page_cursor(store, user)
    async with Store.open(app_url, cursor_key=b"k" * 32) as keyed:
        with pytest.raises(InvalidInput):
            await second_page(keyed, user, project_id, cursor)


async def test_no_tenant_can_read_the_key(app_url: str, user: User) -> None:
    conn = await asyncpg.connect(app_url)
    try:
        await conn.execute(begin_as(user.id))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval("SELECT key FROM cursor_signing_key")
    finally:
        await conn.close()


async def test_a_database_without_the_key_is_a_clear_error(
    app_url: str, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    saved = await superuser.fetchval("SELECT key FROM cursor_signing_key")
    await superuser.execute("DELETE FROM cursor_signing_key")
    try:
        with pytest.raises(Exception, match="no cursor signing key") as raised:
            await asyncio.wait_for(Store.open(app_url), 60)
        assert type(raised.value).__name__ == "RepositoryError"
    finally:
        await superuser.execute(
            "INSERT INTO cursor_signing_key (key) VALUES ($1)", saved
        )
