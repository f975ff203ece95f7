"""What a Citus coordinator raises while shards move or a worker is lost,
as the layer types it (seen by `nox -s citus_growth`, docs/scaling.md).

- A statement that a non-blocking shard move overtook (its intermediate
  results went to the shard's old node) fails with SQLSTATE CIINF; its
  transaction is rolled back, and run again it is planned for the new
  node: Contention, which store.retrying runs again.
- A worker connection that broke under a transaction that wrote through it
  fails with XX000 "failure on connection marked as essential", or at the
  commit "could not commit transaction for shard N on at least one active
  node": a broken connection like any other, Unavailable (a commit's
  outcome unknown, not run again).

Here PostgreSQL raises those errors itself, from a trigger that fails the
first insert of one path, so the translations and the retry are proven on
every run."""

from __future__ import annotations

import asyncpg
import pytest

from devtools import database
from repositories import Contention, FileWrite, Store, Unavailable, UnitOfWork
from tests.support import new_project, new_user

FAILING_ONCE = """
CREATE SEQUENCE failing_once;
CREATE TABLE node_lost_message (message text NOT NULL);
CREATE FUNCTION fail_once_as_citus() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    attempt bigint;
BEGIN
    IF NEW.path NOT IN ('moved.txt', 'lost.txt') THEN
        RETURN NEW;
    END IF;
    attempt := nextval('failing_once');
    IF attempt = 1 AND NEW.path = 'moved.txt' THEN
        RAISE EXCEPTION 'Query could not find the intermediate result file "7_1", '
            'it was mostly likely deleted due to an error in a parallel process '
            'within the same distributed transaction'
            USING ERRCODE = 'CIINF';
    ELSIF attempt = 1 THEN
        RAISE EXCEPTION '%', (SELECT message FROM node_lost_message)
            USING ERRCODE = 'XX000';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fail_once_as_citus BEFORE INSERT ON project_files
    FOR EACH ROW EXECUTE FUNCTION fail_once_as_citus();
"""


@pytest.fixture
async def failing_once_db(latest_db: str) -> str:
    """The latest schema, where the first insert of moved.txt or lost.txt
    fails as Citus's coordinator fails it."""
    conn = await asyncpg.connect(latest_db)
    try:
        await conn.execute(FAILING_ONCE)
    finally:
        await conn.close()
    return latest_db


async def fail_once_more(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER SEQUENCE failing_once RESTART")
    finally:
        await conn.close()


async def test_a_statement_overtaken_by_a_shard_move_is_contention_and_runs_again(
    failing_once_db: str,
) -> None:
    app_url = await database.app_login_url(failing_once_db)
    auth_url = await database.auth_login_url(failing_once_db)
    async with Store.open(app_url, auth_dsn=auth_url) as store:
        user = await new_user(store)
        project = await new_project(store, user)

        with pytest.raises(Contention) as raised:
            async with store.unit_of_work(user.id) as uow:
                await uow.files.put(project.id, "moved.txt", "once")
        assert raised.value.sqlstate == "CIINF"
        assert raised.value.code == "contention"
        assert "CIINF" not in str(raised.value)
        async with store.unit_of_work(user.id) as uow:
            assert (await uow.files.list(project.id)).items == []

        await fail_once_more(failing_once_db)
        attempts = 0

        async def put(uow: UnitOfWork) -> FileWrite:
            nonlocal attempts
            attempts += 1
            return await uow.files.put(project.id, "moved.txt", "once")

        written = await store.retrying(user.id, put, base_delay=0.0, max_delay=0.0)
    assert attempts == 2
    assert written.outcome == "created"
    assert written.file.version == 1


@pytest.mark.parametrize(
    "message",
    [
        "failure on connection marked as essential: 127.0.0.1:9701",
        "could not commit transaction for shard 102072 on at least one active node",
    ],
)
async def test_a_worker_lost_under_a_transaction_is_unavailable_and_not_run_again(
    failing_once_db: str, message: str
) -> None:
    owner = await asyncpg.connect(failing_once_db)
    try:
        await owner.execute("INSERT INTO node_lost_message VALUES ($1)", message)
    finally:
        await owner.close()
    app_url = await database.app_login_url(failing_once_db)
    auth_url = await database.auth_login_url(failing_once_db)
    async with Store.open(app_url, auth_dsn=auth_url) as store:
        user = await new_user(store)
        project = await new_project(store, user)
        attempts = 0

        async def put(uow: UnitOfWork) -> FileWrite:
            nonlocal attempts
            attempts += 1
            return await uow.files.put(project.id, "lost.txt", "once")

        with pytest.raises(Unavailable) as raised:
            await store.retrying(user.id, put, base_delay=0.0, max_delay=0.0)
        assert attempts == 1
        assert raised.value.code == "unavailable"
        assert str(raised.value) == "the database is unavailable"
        assert raised.value.detail is not None
        assert message in raised.value.detail
        async with store.unit_of_work(user.id) as uow:
            assert (await uow.files.list(project.id)).items == []
