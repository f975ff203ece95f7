"""The repositories behind PgBouncer in transaction pooling mode (soak).

Needs the `pgbouncer` binary (Debian: `apt-get install -y pgbouncer`); a
missing one fails the run with that hint rather than skipping silently.
PgBouncer gets only two server connections while the Store has eight, so
units of work of different users take turns on the same server backends:
what must not leak between them (role, actor id, prepared statements) is
exactly what transaction pooling would expose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from devtools import pgbouncer
from repositories import (
    Conflict,
    InvalidInput,
    NotFound,
    Store,
    Unavailable,
    User,
)
from tests.support import HandedOut, connection_of, new_project, new_user

from .helpers import (
    HANG_GUARD_S,
    files_as_superuser,
    rows_of_project,
    terminate_backend,
)

pytestmark = pytest.mark.soak

SERVER_CONNECTIONS = 2
CLIENT_CONNECTIONS = 8


@pytest.fixture(scope="module")
def bouncer(app_url: str) -> Iterator[pgbouncer.Running]:
    with pgbouncer.running(
        app_url, pool_mode="transaction", default_pool_size=SERVER_CONNECTIONS
    ) as started:
        yield started


@pytest.fixture(scope="module")
def handed_out() -> HandedOut:
    return HandedOut()


@pytest.fixture(scope="module")
async def bounced(
    bouncer: pgbouncer.Running, handed_out: HandedOut, auth_url: str
) -> AsyncIterator[Store]:
    # The units of work go through PgBouncer; the auth layer's few single
    # statements connect directly.
    async with Store.open(
        bouncer.url,
        auth_dsn=auth_url,
        statement_cache_size=0,
        max_size=CLIENT_CONNECTIONS,
        setup=handed_out,
    ) as opened:
        yield opened


async def test_the_readme_flow_through_pgbouncer(bounced: Store) -> None:
    ada = await new_user(bounced, "Ada")
    assert (await bounced.users.get(ada.id)).email == ada.email
    async with bounced.unit_of_work(ada.id) as uow:
        project = await uow.projects.create("demo", description="first")
        assert (await uow.projects.update(project.id, name="renamed")).name == "renamed"
        first = await uow.files.put(project.id, "src/main.py", "print('hi')\n")
        same = await uow.files.put(project.id, "src/main.py", "print('hi')\n")
        changed = await uow.files.put(
            project.id, "src/main.py", "print('hello')\n", expected_version=1
        )
        assert (first.outcome, same.outcome, changed.outcome) == (
            "created",
            "unchanged",
            "updated",
        )
        with pytest.raises(Conflict):  # caught: the unit of work goes on
            await uow.files.put(project.id, "src/main.py", "x", expected_version=1)
        result = await uow.files.sync(
            project.id,
            {f"docs/{n:02d}.md": f"# {n}\n" for n in range(5)}
            | {"src/main.py": "print('hello')\n"},
        )
        assert (result.created, result.unchanged, result.deleted) == (5, 1, 0)
        moved = await uow.files.move(project.id, "docs/00.md", "docs/zz.md")
        assert moved.version == 2
        await uow.files.delete(project.id, "docs/01.md", expected_version=1)
        first_page = await uow.files.list(project.id, prefix="docs/", limit=2)
        assert first_page.next_cursor is not None
        rest = await uow.files.list(
            project.id, prefix="docs/", limit=10, cursor=first_page.next_cursor
        )
        listed = [entry.path for entry in [*first_page.items, *rest.items]]
        assert listed == ["docs/02.md", "docs/03.md", "docs/04.md", "docs/zz.md"]
        state = await uow.agent_states.save(project.id, {"step": 1}, expected_version=0)
        with pytest.raises(Conflict) as conflict:
            await uow.agent_states.save(project.id, {"step": 2}, expected_version=0)
        assert conflict.value.current_version == state.version
        swapped = await uow.agent_states.save(
            project.id, {"step": 2}, expected_version=state.version
        )
        assert swapped.version == 2
        with pytest.raises(InvalidInput):
            await uow.files.put(project.id, "../escape", "x")
    async with bounced.unit_of_work(ada.id) as uow:
        assert (await uow.agent_states.get(project.id)).state == {"step": 2}
        page = await uow.projects.list()
        assert [p.id for p in page.items] == [project.id]
        await uow.projects.delete(project.id)
    async with bounced.unit_of_work(ada.id) as uow:
        with pytest.raises(NotFound):
            await uow.projects.get(project.id)


async def test_a_failed_unit_of_work_rolls_back_through_pgbouncer(
    bounced: Store, database_url: str
) -> None:
    owner = await new_user(bounced)
    project = await new_project(bounced, owner)

    class Boom(Exception):
        pass

    async def fail_halfway() -> None:
        async with bounced.unit_of_work(owner.id) as uow:
            await uow.files.put(project.id, "never.txt", "never\n")
            await uow.agent_states.save(project.id, {"never": True})
            raise Boom

    with pytest.raises(Boom):
        await fail_halfway()
    # Not a row of it, in the history or the contents either.
    assert await rows_of_project(database_url, project.id) == {
        "projects": 1,
        "project_files": 0,
        "agent_states": 0,
        "file_contents": 0,
        "file_versions": 0,
        "agent_state_versions": 0,
        "checkpoints": 0,
    }


USERS = 8
TASKS_PER_USER = 6


async def test_interleaved_tenants_see_only_their_own_rows(
    bounced: Store, handed_out: HandedOut, database_url: str
) -> None:
    """48 units of work of 8 users over 2 server connections: each sees its
    own actor and role, writes only its own project, and sees nobody else's."""
    users = [await new_user(bounced, f"Tenant {n}") for n in range(USERS)]
    projects = {user.id: await new_project(bounced, user) for user in users}

    async def tenant_task(user: User, n: int) -> tuple[str, str, int]:
        async with bounced.unit_of_work(user.id) as uow:
            actor = await connection_of(uow).fetchval(
                "SELECT current_setting('app.user_id', true)"
            )
            role = await connection_of(uow).fetchval("SELECT current_user")
            await uow.files.put(projects[user.id].id, f"f{n}.txt", f"{user.id}\n")
            await asyncio.sleep(0)  # hand the server connection to others
            visible = await connection_of(uow).fetchval("SELECT count(*) FROM projects")
        assert isinstance(actor, str)
        assert isinstance(role, str)
        assert isinstance(visible, int)
        return actor, role, visible

    results = await asyncio.wait_for(
        asyncio.gather(
            *(tenant_task(user, n) for user in users for n in range(TASKS_PER_USER))
        ),
        HANG_GUARD_S,
    )
    expected = [
        (str(user.id), "app_user", 1) for user in users for _ in range(TASKS_PER_USER)
    ]
    assert results == expected

    for user in users:
        stored = await files_as_superuser(database_url, projects[user.id].id)
        assert sorted(stored) == sorted(f"f{n}.txt" for n in range(TASKS_PER_USER))
        assert {content for content, _ in stored.values()} == {f"{user.id}\n"}
    stranger = users[0]
    async with bounced.unit_of_work(stranger.id) as uow:
        for user in users[1:]:
            with pytest.raises(NotFound):
                await uow.files.list(projects[user.id].id)

    # Outside any unit of work the pooled connections carry no actor or role.
    for _ in range(SERVER_CONNECTIONS * 2):
        leftover = await handed_out.next_borrower(bounced)
        assert leftover.actor in (None, "")
        assert leftover.user != "app_user"


async def test_concurrent_upserts_through_pgbouncer_count_every_write(
    bounced: Store,
) -> None:
    owner = await new_user(bounced)
    project = await new_project(bounced, owner)
    writers = 32

    async def write(n: int) -> int:
        async with bounced.unit_of_work(owner.id) as uow:
            written = await uow.files.put(project.id, "hot.txt", f"{n}\n")
        return written.file.version

    versions = await asyncio.wait_for(
        asyncio.gather(*(write(n) for n in range(writers))), HANG_GUARD_S
    )
    assert sorted(versions) == list(range(1, writers + 1))
    async with bounced.unit_of_work(owner.id) as uow:
        assert (await uow.files.get(project.id, "hot.txt")).version == writers


async def test_server_backend_killed_behind_pgbouncer_is_unavailable(
    bouncer: pgbouncer.Running, database_url: str, auth_url: str
) -> None:
    async with Store.open(
        bouncer.url, auth_dsn=auth_url, statement_cache_size=0, max_size=2
    ) as store:
        owner = await new_user(store)
        project = await new_project(store, owner)
        call_error: Exception | None = None
        try:
            async with store.unit_of_work(owner.id) as uow:
                await uow.files.put(project.id, "doomed.txt", "doomed\n")
                pid = await connection_of(uow).fetchval("SELECT pg_backend_pid()")
                assert isinstance(pid, int)
                await terminate_backend(database_url, pid)
                try:
                    await uow.files.put(project.id, "doomed-too.txt", "doomed\n")
                except Exception as error:
                    call_error = error
                    raise
        except Unavailable:
            pass
        assert isinstance(call_error, Unavailable), f"the call raised {call_error!r}"
        assert await files_as_superuser(database_url, project.id) == {}

        # PgBouncer replaces the server connection; the Store serves on.
        for _ in range(50):
            try:
                async with store.unit_of_work(owner.id) as uow:
                    written = await uow.files.put(project.id, "after.txt", "up\n")
                break
            except Unavailable:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("no unit of work succeeded after the kill")
        assert written.outcome == "created"


def test_pgbouncer_is_really_in_between(bouncer: pgbouncer.Running) -> None:
    assert bouncer.process.poll() is None
    assert f":{bouncer.port}/" in bouncer.url
    assert (
        "pool_mode = transaction" in (bouncer.directory / "pgbouncer.ini").read_text()
    )
