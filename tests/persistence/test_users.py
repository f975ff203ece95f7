"""store.users: what the auth layer calls to create and read accounts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from repositories import Conflict, InvalidInput, NotFound, RepositoryError, Store, User


async def count_users(database_url: str) -> int:
    """Rows in users, read past the repositories (the test connects as admin)."""
    conn = await asyncpg.connect(database_url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM users")
    finally:
        await conn.close()
    assert isinstance(count, int)
    return count


def unique_email(domain: str = "example.com") -> str:
    return f"{uuid.uuid4().hex}@{domain}"


async def test_create_returns_the_user_and_get_reads_it_back(store: Store) -> None:
    email = unique_email()

    created = await store.users.create(email=email, name="Ada Lovelace")

    assert isinstance(created, User)
    assert isinstance(created.id, uuid.UUID)
    assert created.email == email
    assert created.name == "Ada Lovelace"
    assert created.created_at.tzinfo is not None
    assert created.updated_at.tzinfo is not None
    assert await store.users.get(created.id) == created


async def test_create_keeps_unicode_name_and_trims_it(store: Store) -> None:
    created = await store.users.create(email=unique_email(), name="  Zoë 山田 🚀  ")

    assert created.name == "Zoë 山田 🚀"
    assert (await store.users.get(created.id)).name == "Zoë 山田 🚀"


async def test_each_user_gets_a_distinct_id(store: Store) -> None:
    first = await store.users.create(email=unique_email(), name="First")
    second = await store.users.create(email=unique_email(), name="Second")

    assert first.id != second.id
    assert (await store.users.get(first.id)).name == "First"
    assert (await store.users.get(second.id)).name == "Second"


@pytest.mark.parametrize(
    "second_spelling",
    [
        pytest.param(lambda local: f"{local}@example.com", id="identical"),
        pytest.param(lambda local: f"{local.upper()}@EXAMPLE.COM", id="upper"),
        pytest.param(lambda local: f"{local}@Example.Com", id="mixed-domain"),
    ],
)
async def test_email_is_unique_case_insensitively(
    store: Store, database_url: str, second_spelling: Callable[[str], str]
) -> None:
    local = f"Grace.{uuid.uuid4().hex}"
    await store.users.create(email=f"{local}@example.com", name="Grace")
    before = await count_users(database_url)

    with pytest.raises(Conflict) as raised:
        await store.users.create(email=second_spelling(local), name="Impostor")

    assert isinstance(raised.value, RepositoryError)
    assert await count_users(database_url) == before


async def test_a_failed_create_does_not_block_a_later_one(store: Store) -> None:
    email = unique_email()
    await store.users.create(email=email, name="Once")
    with pytest.raises(Conflict):
        await store.users.create(email=email.upper(), name="Twice")

    other = await store.users.create(email=unique_email(), name="Someone else")

    assert await store.users.get(other.id) == other


async def test_get_unknown_id_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound) as raised:
        await store.users.get(uuid.uuid4())

    assert isinstance(raised.value, RepositoryError)
    assert isinstance(raised.value.resource, str)
    assert str(raised.value)


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("00000000-0000-0000-0000-000000000000", id="uuid-as-str"),
        pytest.param(42, id="int"),
        pytest.param(None, id="none"),
    ],
)
async def test_get_with_id_that_is_not_a_uuid_is_invalid_input(
    store: Store, bad_id: Any
) -> None:
    with pytest.raises(InvalidInput):
        await store.users.get(bad_id)


async def test_get_with_existing_id_as_str_is_invalid_input(store: Store) -> None:
    created = await store.users.create(email=unique_email(), name="Typed")
    id_as_str: Any = str(created.id)

    with pytest.raises(InvalidInput):
        await store.users.get(id_as_str)


@pytest.mark.parametrize(
    "bad_email",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="whitespace"),
        pytest.param("plainaddress", id="no-at"),
        pytest.param("@example.com", id="no-local-part"),
        pytest.param("someone@", id="no-domain"),
        pytest.param("some\none@example.com", id="control-char"),
        pytest.param(None, id="none"),
        pytest.param(123, id="int"),
    ],
)
async def test_invalid_email_is_invalid_input_and_creates_nothing(
    store: Store, database_url: str, bad_email: Any
) -> None:
    before = await count_users(database_url)

    with pytest.raises(InvalidInput) as raised:
        await store.users.create(email=bad_email, name="Valid Name")

    assert isinstance(raised.value, RepositoryError)
    assert isinstance(raised.value.field, str)
    assert isinstance(raised.value.reason, str)
    assert await count_users(database_url) == before


@pytest.mark.parametrize(
    "bad_name",
    [
        pytest.param("", id="empty"),
        pytest.param("   \t ", id="whitespace-only"),
        pytest.param("x" * 201, id="201-chars"),
        pytest.param("bell\x07name", id="bell"),
        pytest.param("next\u0085line", id="c1-nel"),
        pytest.param("nul\x00name", id="nul"),
        pytest.param(None, id="none"),
        pytest.param(7, id="int"),
    ],
)
async def test_invalid_name_is_invalid_input_and_creates_nothing(
    store: Store, database_url: str, bad_name: Any
) -> None:
    email = unique_email()
    before = await count_users(database_url)

    with pytest.raises(InvalidInput):
        await store.users.create(email=email, name=bad_name)

    assert await count_users(database_url) == before
    # The address is still free: the refused call left nothing behind.
    created = await store.users.create(email=email, name="Valid Name")
    assert created.email == email


async def test_name_of_200_chars_after_trimming_is_accepted(store: Store) -> None:
    created = await store.users.create(email=unique_email(), name=f"  {'n' * 200}  ")

    assert created.name == "n" * 200
