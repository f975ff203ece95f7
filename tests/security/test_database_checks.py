"""The database refuses what the API refuses, also to raw SQL as the tables'
owner: a sha256 that is not the content's, a size that is not its length,
content over the API's default 5 MiB, a kind other than text or binary, a
description over the API's length, an agent state over the bound its text
form can reach from a state the API accepts. Each refusal names its
constraint.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TypeAlias

import asyncpg
import pytest

from repositories import InvalidInput, Project, Store, User
from tests.support import new_project

from .helpers import STATE_MAX_BYTES

DESCRIPTION_MAX_CHARS = 10_000
# Store.open's default max_content_bytes, in bytes of UTF-8.
CONTENT_MAX_BYTES = 5 * 1024 * 1024
# jsonb's text form puts a space after each ':' and ',' of the API's compact
# JSON, at most one per two bytes of it: 1.5 times the API's limit.
STATE_TEXT_MAX_BYTES = STATE_MAX_BYTES * 3 // 2

Owner: TypeAlias = "asyncpg.Connection[asyncpg.Record]"


async def refusal(owner: Owner, sql: str, *args: object) -> str | None:
    """The constraint that refused the statement (in a transaction that is
    rolled back either way), or None when it was accepted."""
    try:
        async with owner.transaction():
            await owner.execute(sql, *args)
            raise _Accepted
    except asyncpg.CheckViolationError as error:
        return constraint_of(error)
    except _Accepted:
        return None


# Citus passes a worker's error on without its constraint_name field; the
# message names the shard's copy of the constraint, whose name ends in
# "_<shard id>".
_NAMED_IN_MESSAGE = re.compile(r'violates check constraint "(.+?)(?:_\d+)?"')


def constraint_of(error: asyncpg.CheckViolationError) -> str | None:
    if error.constraint_name:
        return str(error.constraint_name)
    named = _NAMED_IN_MESSAGE.search(str(error))
    return named.group(1) if named else None


class _Accepted(Exception):
    pass


INSERT_CONTENT = (
    "INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)"
    " VALUES ($1, $2, $3, $4, $5)"
)


def content_args(project: Project, data: bytes) -> tuple[object, ...]:
    """INSERT_CONTENT's arguments for `data`, its hash and size right."""
    return (project.id, project.owner_id, sha256_of(data), len(data), data)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_a_sha256_that_is_not_the_contents_is_refused(
    store: Store, user: User, superuser: Owner
) -> None:
    project = await new_project(store, user)
    data = "héllo\n".encode()
    right = sha256_of(data)
    wrong = sha256_of(b"something else")
    assert (
        await refusal(superuser, INSERT_CONTENT, *content_args(project, data)) is None
    )
    assert (
        await refusal(
            superuser, INSERT_CONTENT, project.id, user.id, wrong, len(data), data
        )
        == "file_contents_sha256_matches_content"
    )
    await superuser.execute(INSERT_CONTENT, *content_args(project, data))
    assert (
        await refusal(
            superuser,
            "UPDATE file_contents SET content = 'changed', size_bytes = 7"
            " WHERE project_id = $1 AND sha256 = $2",
            project.id,
            right,
        )
        == "file_contents_sha256_matches_content"
    )


async def test_a_size_that_is_not_the_contents_length_is_refused(
    store: Store, user: User, superuser: Owner
) -> None:
    """Listings read a file's size without its content, so the stored size
    must be the bytes' length, on insert and on update."""
    project = await new_project(store, user)
    data = "héllo\n".encode()  # 7 bytes, 6 characters
    for size in (len(data) - 1, len(data) + 1, len("héllo\n")):
        assert (
            await refusal(
                superuser,
                INSERT_CONTENT,
                project.id,
                user.id,
                sha256_of(data),
                size,
                data,
            )
            == "file_contents_size_matches_content"
        ), size
    await superuser.execute(INSERT_CONTENT, *content_args(project, data))
    assert (
        await refusal(
            superuser,
            "UPDATE file_contents SET size_bytes = size_bytes + 1"
            " WHERE project_id = $1 AND sha256 = $2",
            project.id,
            sha256_of(data),
        )
        == "file_contents_size_matches_content"
    )


async def test_content_over_the_apis_default_limit_is_refused(
    store: Store, user: User, superuser: Owner
) -> None:
    """Content of 5 MiB is stored; one byte more is refused, on insert and
    on update, whoever writes it; and no current file can claim a size over
    it either."""
    project = await new_project(store, user)
    largest = content_args(project, b"x" * CONTENT_MAX_BYTES)
    over = content_args(project, b"x" * (CONTENT_MAX_BYTES + 1))
    assert await refusal(superuser, INSERT_CONTENT, *largest) is None
    assert (
        await refusal(superuser, INSERT_CONTENT, *over) == "file_contents_content_size"
    )
    grown = content_args(project, b"x")
    await superuser.execute(INSERT_CONTENT, *grown)
    *_, digest, size, data = over
    assert (
        await refusal(
            superuser,
            "UPDATE file_contents SET content = $3, size_bytes = $4, sha256 = $5"
            " WHERE project_id = $1 AND sha256 = $2",
            project.id,
            grown[2],
            data,
            size,
            digest,
        )
        == "file_contents_content_size"
    )
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "x")
    assert (
        await refusal(
            superuser,
            "UPDATE project_files SET size_bytes = $2 WHERE project_id = $1",
            project.id,
            CONTENT_MAX_BYTES + 1,
        )
        == "project_files_content_size"
    )


async def test_a_kind_other_than_text_or_binary_is_refused(
    store: Store, user: User, superuser: Owner
) -> None:
    """A file's kind says how the API hands its bytes back (a str or
    bytes); a current file and every version of it is one or the other."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "text\n")
        await uow.files.put(project.id, "b.bin", b"\x00binary")
    for table in ("project_files", "file_versions"):
        for kind in ("text", "binary"):
            assert (
                await refusal(
                    superuser,
                    f"UPDATE {table} SET kind = $2 WHERE project_id = $1",
                    project.id,
                    kind,
                )
                is None
            ), (table, kind)
        for kind in ("image", "Text", "", "binary "):
            assert (
                await refusal(
                    superuser,
                    f"UPDATE {table} SET kind = $2 WHERE project_id = $1",
                    project.id,
                    kind,
                )
                == f"{table}_kind"
            ), (table, kind)


async def test_a_store_with_a_larger_content_limit_meets_the_database_bound(
    app_url: str, user: User, superuser: Owner
) -> None:
    """A Store opened with max_content_bytes above 5 MiB passes the API's
    check; the database refuses, as InvalidInput, and nothing is stored."""
    async with Store.open(app_url, max_content_bytes=2 * CONTENT_MAX_BYTES) as store:
        project = await new_project(store, user)
        with pytest.raises(InvalidInput):
            async with store.unit_of_work(user.id) as uow:
                await uow.files.put(
                    project.id, "big.txt", "x" * (CONTENT_MAX_BYTES + 1)
                )
    for table in ("project_files", "file_versions", "file_contents"):
        stored = await superuser.fetchval(
            f"SELECT count(*) FROM {table} WHERE project_id = $1", project.id
        )
        assert stored == 0, table


async def test_a_description_over_the_apis_length_is_refused(
    store: Store, user: User, superuser: Owner
) -> None:
    project = await new_project(store, user)
    update = "UPDATE projects SET description = $2 WHERE id = $1"
    # Characters, as the API counts them: "é" is one.
    longest = "é" * DESCRIPTION_MAX_CHARS
    assert await refusal(superuser, update, project.id, longest) is None
    assert (
        await refusal(superuser, update, project.id, longest + "x")
        == "projects_description_length"
    )
    async with store.unit_of_work(user.id) as uow:
        stored = await uow.projects.update(project.id, description=longest)
        assert stored.description == longest
        with pytest.raises(InvalidInput) as raised:
            await uow.projects.update(project.id, description=longest + "x")
        assert raised.value.field == "description"


def densest_state() -> dict[str, object]:
    """The state whose jsonb text is longest for its size as the API counts
    it: a ',' every other byte. Exactly STATE_MAX_BYTES of compact JSON."""
    overhead = len('{"":[]}')
    zeros = (STATE_MAX_BYTES - overhead + 1) // 2
    state: dict[str, object] = {"": [0] * zeros}
    assert len(json.dumps(state, separators=(",", ":"))) == STATE_MAX_BYTES
    return state


async def test_an_agent_state_over_the_text_bound_is_refused(
    store: Store, user: User, superuser: Owner
) -> None:
    project: Project = await new_project(store, user)
    # The API accepts its densest state; its text form is near the bound.
    state = densest_state()
    async with store.unit_of_work(user.id) as uow:
        await uow.agent_states.save(project.id, state)
    text_bytes = await superuser.fetchval(
        "SELECT octet_length(state::text) FROM agent_states WHERE project_id = $1",
        project.id,
    )
    assert STATE_MAX_BYTES < text_bytes <= STATE_TEXT_MAX_BYTES

    upsert = (
        "INSERT INTO agent_states (project_id, owner_id, state)"
        " VALUES ($1, $2, $3::text::jsonb)"
        " ON CONFLICT (project_id) DO UPDATE SET state = excluded.state"
    )
    # '{"a": "…"}': 9 bytes around the string.
    at_bound = json.dumps({"a": "x" * (STATE_TEXT_MAX_BYTES - 9)})
    over = json.dumps({"a": "x" * (STATE_TEXT_MAX_BYTES - 8)})
    assert await refusal(superuser, upsert, project.id, user.id, at_bound) is None
    assert (
        await refusal(superuser, upsert, project.id, user.id, over)
        == "agent_states_state_size"
    )
    other = await new_project(store, user)
    assert (
        await refusal(superuser, upsert, other.id, user.id, over)
        == "agent_states_state_size"
    )


async def test_tiny_floats_count_at_the_length_the_database_prints(
    store: Store, user: User, superuser: Owner
) -> None:
    """jsonb prints a number without an exponent: 5e-324 is 326 characters.
    The API counts a state as the database will print it, so a state of
    tiny floats that the database's bound would refuse is refused first."""
    project = await new_project(store, user)
    tiny = 5e-324
    printed = await superuser.fetchval("SELECT $1::text::jsonb::text", repr(tiny))
    assert len(printed) == 326
    small = {"tiny": [tiny] * 1000}  # 7 KB with exponents, 328 KB without
    large = {"tiny": [tiny] * 10_000}  # 70 KB with exponents, 3.3 MB without
    async with store.unit_of_work(user.id) as uow:
        saved = await uow.agent_states.save(project.id, small)
        assert saved.state == small
        read_back = saved.state["tiny"]
        assert isinstance(read_back, list)
        assert all(type(value) is float for value in read_back)
        with pytest.raises(InvalidInput) as raised:
            await uow.agent_states.save(project.id, large)
        assert raised.value.field == "state"
        assert (await uow.agent_states.get(project.id)).state == small
