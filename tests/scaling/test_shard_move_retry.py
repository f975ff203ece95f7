"""A statement that a Citus shard move overtook is Contention, and
store.retrying runs its unit of work again.

When a non-blocking shard move switches a shard to its new node while a
statement is running whose intermediate results went to the old one, the
coordinator fails the statement with SQLSTATE CIINF (seen by `nox -s
citus_growth`, docs/scaling.md). Its transaction is rolled back; the same
unit of work run again is planned for the new node. Here PostgreSQL raises
that SQLSTATE itself, from a trigger that fails the first insert of one
path, so the translation and the retry are proven on every run."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from devtools import database
from repositories import Contention, FileWrite, Store, UnitOfWork
from tests.support import new_project, new_user

OVERTAKEN = """
CREATE SEQUENCE overtaken_once;
CREATE FUNCTION overtaken_by_a_shard_move() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.path = 'moved.txt' AND nextval('overtaken_once') = 1 THEN
        RAISE EXCEPTION 'Query could not find the intermediate result file "7_1", '
            'it was mostly likely deleted due to an error in a parallel process '
            'within the same distributed transaction'
            USING ERRCODE = 'CIINF';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER overtaken BEFORE INSERT ON project_files
    FOR EACH ROW EXECUTE FUNCTION overtaken_by_a_shard_move();
"""


@pytest.fixture
async def overtaken_db(latest_db: str) -> AsyncIterator[str]:
    """The latest schema, where the first insert of moved.txt fails as a
    statement overtaken by a shard move does on Citus."""
    conn = await asyncpg.connect(latest_db)
    try:
        await conn.execute(OVERTAKEN)
    finally:
        await conn.close()
    yield latest_db


async def test_a_statement_overtaken_by_a_shard_move_is_contention_and_runs_again(
    overtaken_db: str,
) -> None:
    app_url = await database.app_login_url(overtaken_db)
    auth_url = await database.auth_login_url(overtaken_db)
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

        conn = await asyncpg.connect(overtaken_db)
        try:
            await conn.execute("ALTER SEQUENCE overtaken_once RESTART")
        finally:
            await conn.close()
        attempts = 0

        async def put(uow: UnitOfWork) -> FileWrite:
            nonlocal attempts
            attempts += 1
            return await uow.files.put(project.id, "moved.txt", "once")

        written = await store.retrying(user.id, put, base_delay=0.0, max_delay=0.0)
    assert attempts == 2
    assert written.outcome == "created"
    assert written.file.version == 1
