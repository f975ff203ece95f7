"""uow.projects: CRUD, keyset listing, input rules and tenant isolation."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from repositories import (
    InvalidInput,
    Page,
    Project,
    RepositoryError,
    Store,
    UnitOfWork,
    User,
)
from tests.persistence.helpers import (
    assert_indistinguishable,
    not_found_from,
)
from tests.support import admin_fetchval, new_user

UNICODE_NAME = "Projekt Ünïcödé 日本語 🚀"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


async def count_projects_of(database_url: str, owner_id: uuid.UUID) -> int:
    count = await admin_fetchval(
        database_url, "SELECT count(*) FROM projects WHERE owner_id = $1", owner_id
    )
    assert isinstance(count, int)
    return count


async def count_rows(database_url: str, table: str, project_id: uuid.UUID) -> int:
    column = "id" if table == "projects" else "project_id"
    count = await admin_fetchval(
        database_url, f"SELECT count(*) FROM {table} WHERE {column} = $1", project_id
    )
    assert isinstance(count, int)
    return count


async def create_project(
    store: Store, owner: User, name: str = "Project", description: str | None = None
) -> Project:
    async with store.unit_of_work(owner.id) as uow:
        return await uow.projects.create(name, description)


async def get_project(store: Store, owner: User, project_id: uuid.UUID) -> Project:
    async with store.unit_of_work(owner.id) as uow:
        return await uow.projects.get(project_id)


async def all_pages(uow: UnitOfWork, limit: int) -> list[Page[Project]]:
    pages: list[Page[Project]] = []
    cursor: str | None = None
    while True:
        page = await uow.projects.list(limit=limit, cursor=cursor)
        pages.append(page)
        assert len(pages) <= 100, "listing never ends"
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def newest_first(projects: list[Project]) -> list[uuid.UUID]:
    ordered = sorted(projects, key=lambda p: (p.created_at, p.id), reverse=True)
    return [p.id for p in ordered]


# --------------------------------------------------------------------------
# create / get
# --------------------------------------------------------------------------


async def test_create_with_unicode_name_and_no_description(
    store: Store, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        created = await uow.projects.create(UNICODE_NAME, None)
        assert isinstance(created, Project)
        assert await uow.projects.get(created.id) == created

    assert isinstance(created.id, uuid.UUID)
    assert created.owner_id == user.id
    assert created.name == UNICODE_NAME
    assert created.description is None
    assert created.created_at.tzinfo is not None
    assert created.updated_at >= created.created_at
    assert await get_project(store, user, created.id) == created


async def test_create_with_description_and_default_description(
    store: Store, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        described = await uow.projects.create("Described", "Ünïcödé\nmulti-line")
        undescribed = await uow.projects.create("Undescribed")

    assert (await get_project(store, user, described.id)).description == (
        "Ünïcödé\nmulti-line"
    )
    assert (await get_project(store, user, undescribed.id)).description is None


async def test_create_stores_the_name_trimmed(store: Store, user: User) -> None:
    created = await create_project(store, user, "  \t padded name \n ")

    assert created.name == "padded name"
    assert (await get_project(store, user, created.id)).name == "padded name"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("x" * 200, id="ascii"),
        pytest.param(f"   {'x' * 200}   ", id="ascii-padded"),
        pytest.param("é" * 200, id="two-byte"),
        pytest.param("🚀" * 200, id="four-byte"),
    ],
)
async def test_name_of_200_characters_after_trimming_is_accepted(
    store: Store, user: User, name: str
) -> None:
    created = await create_project(store, user, name)

    assert created.name == name.strip()
    assert len(created.name) == 200
    assert (await get_project(store, user, created.id)).name == name.strip()


BAD_NAMES = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="spaces-only"),
    pytest.param(" \t\n ", id="whitespace-only"),
    pytest.param("x" * 201, id="201-chars"),
    pytest.param("🚀" * 201, id="201-four-byte-chars"),
    pytest.param("bell\x07inside", id="bell"),
    pytest.param("next\u0085line", id="c1-nel"),
    pytest.param("tab\tinside", id="tab"),
    pytest.param("new\nline", id="newline"),
    pytest.param("del\x7finside", id="del"),
    pytest.param("nul\x00inside", id="nul"),
    pytest.param(None, id="none"),
    pytest.param(42, id="int"),
]


@pytest.mark.parametrize("bad_name", BAD_NAMES)
async def test_bad_name_is_invalid_input_and_creates_nothing(
    store: Store, database_url: str, user: User, bad_name: Any
) -> None:
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput) as raised:
            await uow.projects.create(bad_name)
        assert isinstance(raised.value, RepositoryError)
        assert isinstance(raised.value.field, str)
        assert isinstance(raised.value.reason, str)
        listed = await uow.projects.list()

    assert listed.items == []
    assert await count_projects_of(database_url, user.id) == 0


async def test_get_missing_project_is_not_found(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        error = await not_found_from(uow.projects.get(uuid.uuid4()))

    assert isinstance(error, RepositoryError)
    assert isinstance(error.resource, str)
    assert str(error)


# --------------------------------------------------------------------------
# update
# --------------------------------------------------------------------------


async def test_update_name_only_keeps_the_description(store: Store, user: User) -> None:
    original = await create_project(store, user, "Before", "Kept description")

    async with store.unit_of_work(user.id) as uow:
        updated = await uow.projects.update(original.id, name="  After 🚀 ")

    assert updated.id == original.id
    assert updated.owner_id == user.id
    assert updated.name == "After 🚀"
    assert updated.description == "Kept description"
    assert updated.created_at == original.created_at
    assert updated.updated_at > original.updated_at
    assert await get_project(store, user, original.id) == updated


async def test_update_description_only_keeps_the_name(store: Store, user: User) -> None:
    original = await create_project(store, user, "Kept name", None)

    async with store.unit_of_work(user.id) as uow:
        updated = await uow.projects.update(original.id, description="Now described")

    assert updated.name == "Kept name"
    assert updated.description == "Now described"
    assert updated.created_at == original.created_at
    assert updated.updated_at > original.updated_at
    assert await get_project(store, user, original.id) == updated


async def test_update_description_back_to_none(store: Store, user: User) -> None:
    original = await create_project(store, user, "Kept name", "To be cleared")

    async with store.unit_of_work(user.id) as uow:
        updated = await uow.projects.update(original.id, description=None)

    assert updated.name == "Kept name"
    assert updated.description is None
    stored = await get_project(store, user, original.id)
    assert stored.description is None
    assert stored.name == "Kept name"


async def test_update_both_fields(store: Store, user: User) -> None:
    original = await create_project(store, user, "Old", "Old description")

    async with store.unit_of_work(user.id) as uow:
        updated = await uow.projects.update(
            original.id, name="New", description="New description"
        )

    assert (updated.name, updated.description) == ("New", "New description")
    assert await get_project(store, user, original.id) == updated


@pytest.mark.parametrize("bad_name", BAD_NAMES)
async def test_update_with_bad_name_is_invalid_input_and_changes_nothing(
    store: Store, user: User, bad_name: Any
) -> None:
    original = await create_project(store, user, "Stable", "Stable description")

    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.projects.update(
                original.id, name=bad_name, description="Should not be written"
            )

    assert await get_project(store, user, original.id) == original


async def test_update_missing_project_is_not_found(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.projects.update(uuid.uuid4(), name="Ghost"))
        listed = await uow.projects.list()

    assert listed.items == []


# --------------------------------------------------------------------------
# delete
# --------------------------------------------------------------------------


async def test_delete_removes_project_files_and_agent_state(
    store: Store, database_url: str, user: User
) -> None:
    doomed = await create_project(store, user, "Doomed")
    survivor = await create_project(store, user, "Survivor")
    for project in (doomed, survivor):
        async with store.unit_of_work(user.id) as uow:
            await uow.files.put(project.id, "README.md", "# hello\n")
            await uow.files.put(project.id, "src/main.py", "print('hi')\n")
            await uow.agent_states.save(project.id, {"step": 1})
    assert await count_rows(database_url, "project_files", doomed.id) == 2
    assert await count_rows(database_url, "agent_states", doomed.id) == 1

    async with store.unit_of_work(user.id) as uow:
        await uow.projects.delete(doomed.id)

    assert await count_rows(database_url, "projects", doomed.id) == 0
    assert await count_rows(database_url, "project_files", doomed.id) == 0
    assert await count_rows(database_url, "agent_states", doomed.id) == 0
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.projects.get(doomed.id))
        await not_found_from(uow.agent_states.get(doomed.id))
        await not_found_from(uow.files.get(doomed.id, "README.md"))
        # The other project of the same owner is untouched.
        assert await uow.projects.get(survivor.id) == survivor
        assert (await uow.files.get(survivor.id, "README.md")).content == "# hello\n"
        assert (await uow.agent_states.get(survivor.id)).state == {"step": 1}


async def test_delete_twice_is_not_found(store: Store, user: User) -> None:
    project = await create_project(store, user, "Once")
    async with store.unit_of_work(user.id) as uow:
        await uow.projects.delete(project.id)

    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.projects.delete(project.id))
        await not_found_from(uow.projects.get(project.id))


async def test_delete_missing_project_is_not_found(store: Store, user: User) -> None:
    kept = await create_project(store, user, "Kept")
    async with store.unit_of_work(user.id) as uow:
        await not_found_from(uow.projects.delete(uuid.uuid4()))

    assert await get_project(store, user, kept.id) == kept


# --------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------


async def test_list_of_user_without_projects_is_an_empty_last_page(
    store: Store, user: User
) -> None:
    async with store.unit_of_work(user.id) as uow:
        page = await uow.projects.list()

    assert isinstance(page, Page)
    assert page.items == []
    assert page.next_cursor is None


async def test_list_is_newest_first(store: Store, user: User) -> None:
    created = [await create_project(store, user, f"P{i}") for i in range(4)]

    async with store.unit_of_work(user.id) as uow:
        page = await uow.projects.list()

    assert [p.id for p in page.items] == [p.id for p in reversed(created)]
    assert page.items == list(reversed(created))
    assert page.next_cursor is None


async def tie_created_at(
    database_url: str, store: Store, owner: User, projects: list[Project]
) -> list[Project]:
    """Give `projects` one shared created_at (as the admin, past row-level
    security) and return every project of `owner` as stored now."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE projects SET created_at = (SELECT min(created_at) FROM projects"
            " WHERE id = ANY($1::uuid[])) WHERE id = ANY($1::uuid[])",
            [project.id for project in projects],
        )
    finally:
        await conn.close()
    async with store.unit_of_work(owner.id) as uow:
        return (await uow.projects.list(limit=1000)).items


async def test_list_breaks_created_at_ties_by_id_descending(
    store: Store, database_url: str, user: User
) -> None:
    created = [await create_project(store, user, f"Tied {i}") for i in range(6)]
    stored = await tie_created_at(database_url, store, user, created)
    assert len({p.created_at for p in stored}) == 1

    async with store.unit_of_work(user.id) as uow:
        page = await uow.projects.list()

    assert [p.id for p in page.items] == sorted(
        (p.id for p in created), key=lambda i: i.int, reverse=True
    )


@pytest.mark.parametrize(
    "tied",
    [
        pytest.param(slice(0, 0), id="distinct"),
        pytest.param(slice(0, 5), id="all-tied"),
        pytest.param(slice(1, 4), id="middle-three-tied"),
        pytest.param(slice(2, 4), id="tie-across-a-page-boundary"),
    ],
)
async def test_pagination_limit_2_over_5_has_no_duplicates_and_no_gaps(
    store: Store, database_url: str, user: User, tied: slice
) -> None:
    created = [await create_project(store, user, f"Paged {i}") for i in range(5)]
    stored = await tie_created_at(database_url, store, user, created[tied])
    assert len({p.created_at for p in stored}) == 5 - max(len(created[tied]) - 1, 0)

    async with store.unit_of_work(user.id) as uow:
        pages = await all_pages(uow, limit=2)

    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert [page.next_cursor is None for page in pages] == [False, False, True]
    assert all(isinstance(page.next_cursor, str) for page in pages[:-1])
    listed = [project.id for page in pages for project in page.items]
    assert len(listed) == len(set(listed)) == 5
    assert listed == newest_first(stored)
    if not created[tied]:
        assert listed == [p.id for p in reversed(created)]


async def test_pagination_with_exact_multiple_of_limit(
    store: Store, user: User
) -> None:
    created = [await create_project(store, user, f"Even {i}") for i in range(4)]

    async with store.unit_of_work(user.id) as uow:
        pages = await all_pages(uow, limit=2)

    listed = [project.id for page in pages for project in page.items]
    # A trailing empty page is tolerated; a missing or repeated project is not.
    assert [len(page.items) for page in pages] in ([2, 2], [2, 2, 0])
    assert listed == [p.id for p in reversed(created)]


async def test_list_respects_limit_bounds(store: Store, user: User) -> None:
    created = [await create_project(store, user, f"Bound {i}") for i in range(3)]

    async with store.unit_of_work(user.id) as uow:
        one = await uow.projects.list(limit=1)
        everything = await uow.projects.list(limit=1000)

    assert [p.id for p in one.items] == [created[-1].id]
    assert one.next_cursor is not None
    assert [p.id for p in everything.items] == [p.id for p in reversed(created)]
    assert everything.next_cursor is None


@pytest.mark.parametrize(
    "bad_limit",
    [
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(1001, id="too-large"),
        pytest.param(True, id="bool"),
        pytest.param("5", id="str"),
        pytest.param(2.0, id="float"),
        pytest.param(None, id="none"),
    ],
)
async def test_bad_limit_is_invalid_input(
    store: Store, user: User, bad_limit: Any
) -> None:
    await create_project(store, user, "Listed")
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.projects.list(limit=bad_limit)
        # The unit of work stays usable after refused input.
        assert len((await uow.projects.list()).items) == 1


def tampered_cursors(cursor: str) -> list[str]:
    middle = len(cursor) // 2
    index = next(
        (i for i in range(middle, len(cursor) - 1) if cursor[i].isalnum()), middle
    )
    replacement = "A" if cursor[index] != "A" else "B"
    substituted = cursor[:index] + replacement + cursor[index + 1 :]
    candidates = [
        cursor[: len(cursor) // 2],
        cursor + "AAAA",
        substituted,
        cursor[::-1],
        "garbage",
        "!!!!",
        "bnVsbA",  # base64 of "null"
        "e30",  # base64 of "{}"
        "not a cursor at all \u2603",
        "\x00",
    ]
    return [candidate for candidate in candidates if candidate != cursor]


async def test_tampered_or_garbage_cursor_is_invalid_input(
    store: Store, user: User
) -> None:
    for i in range(3):
        await create_project(store, user, f"Cursor {i}")
    async with store.unit_of_work(user.id) as uow:
        first = await uow.projects.list(limit=1)
    assert first.next_cursor is not None

    accepted: list[str] = []
    async with store.unit_of_work(user.id) as uow:
        for candidate in tampered_cursors(first.next_cursor):
            try:
                await uow.projects.list(limit=1, cursor=candidate)
            except InvalidInput:
                continue
            accepted.append(candidate)
        # The genuine cursor still works in the same unit of work.
        second = await uow.projects.list(limit=1, cursor=first.next_cursor)

    assert accepted == []
    assert len(second.items) == 1
    assert second.items[0].id != first.items[0].id


@pytest.mark.parametrize(
    "bad_cursor",
    [pytest.param(5, id="int"), pytest.param(b"abc", id="bytes")],
)
async def test_cursor_that_is_not_a_str_is_invalid_input(
    store: Store, user: User, bad_cursor: Any
) -> None:
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.projects.list(cursor=bad_cursor)


# --------------------------------------------------------------------------
# ids
# --------------------------------------------------------------------------

BAD_IDS = [
    pytest.param("str-form", id="uuid-as-str"),
    pytest.param("not-a-uuid", id="garbage-str"),
    pytest.param(12345, id="int"),
    pytest.param(None, id="none"),
]


def resolve_bad_id(bad_id: object, project: Project) -> Any:
    return str(project.id) if bad_id == "str-form" else bad_id


@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_get_update_delete_with_non_uuid_id_is_invalid_input(
    store: Store, user: User, bad_id: object
) -> None:
    project = await create_project(store, user, "Typed ids", "desc")
    bad = resolve_bad_id(bad_id, project)

    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(InvalidInput):
            await uow.projects.get(bad)
        with pytest.raises(InvalidInput):
            await uow.projects.update(bad, name="Changed")
        with pytest.raises(InvalidInput):
            await uow.projects.delete(bad)

    assert await get_project(store, user, project.id) == project


# --------------------------------------------------------------------------
# ownership
# --------------------------------------------------------------------------


async def test_other_user_get_is_not_found_like_a_missing_project(
    store: Store, user: User, other_user: User
) -> None:
    project = await create_project(store, user, "Private", "secret")
    random_id = uuid.uuid4()

    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(uow.projects.get(project.id))
        missing = await not_found_from(uow.projects.get(random_id))

    assert_indistinguishable(foreign, project.id, missing, random_id)
    assert await get_project(store, user, project.id) == project


async def test_other_user_update_is_not_found_and_changes_nothing(
    store: Store, user: User, other_user: User
) -> None:
    project = await create_project(store, user, "Private", "secret")
    random_id = uuid.uuid4()

    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(
            uow.projects.update(project.id, name="Hijacked", description="pwned")
        )
        missing = await not_found_from(
            uow.projects.update(random_id, name="Hijacked", description="pwned")
        )
        foreign_clear = await not_found_from(
            uow.projects.update(project.id, description=None)
        )

    assert_indistinguishable(foreign, project.id, missing, random_id)
    assert_indistinguishable(foreign_clear, project.id, missing, random_id)
    assert await get_project(store, user, project.id) == project


async def test_other_user_delete_is_not_found_and_deletes_nothing(
    store: Store, database_url: str, user: User, other_user: User
) -> None:
    project = await create_project(store, user, "Private", "secret")
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "notes.txt", "mine")
        await uow.agent_states.save(project.id, {"mine": True})
    random_id = uuid.uuid4()

    async with store.unit_of_work(other_user.id) as uow:
        foreign = await not_found_from(uow.projects.delete(project.id))
        missing = await not_found_from(uow.projects.delete(random_id))

    assert_indistinguishable(foreign, project.id, missing, random_id)
    assert await get_project(store, user, project.id) == project
    assert await count_rows(database_url, "project_files", project.id) == 1
    assert await count_rows(database_url, "agent_states", project.id) == 1


async def test_other_user_list_does_not_show_foreign_projects(
    store: Store, user: User, other_user: User
) -> None:
    mine = [await create_project(store, user, f"Mine {i}") for i in range(3)]
    theirs = await create_project(store, other_user, "Theirs")

    async with store.unit_of_work(other_user.id) as uow:
        other_page = await uow.projects.list(limit=1000)
    async with store.unit_of_work(user.id) as uow:
        user_page = await uow.projects.list(limit=1000)

    assert [p.id for p in other_page.items] == [theirs.id]
    assert other_page.next_cursor is None
    assert [p.id for p in user_page.items] == [p.id for p in reversed(mine)]


async def test_other_user_cannot_page_into_foreign_projects_with_a_cursor(
    store: Store, user: User, other_user: User
) -> None:
    for i in range(3):
        await create_project(store, user, f"Mine {i}")
    async with store.unit_of_work(user.id) as uow:
        first = await uow.projects.list(limit=1)
    assert first.next_cursor is not None

    async with store.unit_of_work(other_user.id) as uow:
        try:
            page = await uow.projects.list(limit=10, cursor=first.next_cursor)
        except InvalidInput:
            # Refusing a cursor issued to someone else is fine too.
            return
    assert page.items == []
    assert page.next_cursor is None


async def test_not_found_is_identical_for_foreign_and_deleted_project(
    store: Store, user: User, other_user: User
) -> None:
    project = await create_project(store, user, "Soon gone")
    async with store.unit_of_work(other_user.id) as uow:
        foreign_get = await not_found_from(uow.projects.get(project.id))
        foreign_update = await not_found_from(uow.projects.update(project.id, name="x"))
        foreign_delete = await not_found_from(uow.projects.delete(project.id))

    async with store.unit_of_work(user.id) as uow:
        await uow.projects.delete(project.id)

    for actor in (other_user, user):
        async with store.unit_of_work(actor.id) as uow:
            gone_get = await not_found_from(uow.projects.get(project.id))
            gone_update = await not_found_from(
                uow.projects.update(project.id, name="x")
            )
            gone_delete = await not_found_from(uow.projects.delete(project.id))
        for foreign, gone in (
            (foreign_get, gone_get),
            (foreign_update, gone_update),
            (foreign_delete, gone_delete),
        ):
            assert type(foreign) is type(gone)
            assert foreign.resource == gone.resource
            assert str(foreign) == str(gone)


async def test_projects_of_two_users_stay_apart(store: Store) -> None:
    alice = await new_user(store, "Alice")
    bob = await new_user(store, "Bob")
    alice_project = await create_project(store, alice, "Alice's")
    bob_project = await create_project(store, bob, "Bob's")

    assert (await get_project(store, alice, alice_project.id)).owner_id == alice.id
    assert (await get_project(store, bob, bob_project.id)).owner_id == bob.id
    async with store.unit_of_work(alice.id) as uow:
        await not_found_from(uow.projects.get(bob_project.id))
    async with store.unit_of_work(bob.id) as uow:
        await not_found_from(uow.projects.get(alice_project.id))
