"""Binary files, file history and checkpoints through the reference web app,
as an HTTP client uses them, against the real database: bytes in and out
byte-exact, text and binary told apart by Content-Type, a path's versions
and reading one, checkpoints made, listed, compared and restored (an ETag
from before a restore is stale), and another user's checkpoint as 404."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from examples.webapp.limits import BodyLimits
from repositories import Store
from tests.examples.test_webapp import (
    Headers,
    assert_error,
    content_now,
    drive,
    file_url,
    new_project,
    sign_up,
)

BINARY = {"Content-Type": "application/octet-stream"}

# A PNG's signature and the start of its header chunk: a NUL, \r\n, \x1a,
# and bytes that are no UTF-8 (\x89, \xff\xfe), then every byte value.
PNG_LIKE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\xff\xfe\x00" + bytes(
    range(256)
)


def history_url(project_id: str, path: str) -> str:
    return f"/projects/{project_id}/history/{path}"


def checkpoints_url(project_id: str) -> str:
    return f"/projects/{project_id}/checkpoints"


async def put_binary(
    client: httpx.AsyncClient, url: str, content: bytes, headers: Headers
) -> httpx.Response:
    return await client.put(url, content=content, headers={**headers, **BINARY})


# --- binary files -----------------------------------------------------------------


async def test_a_binary_file_goes_in_and_comes_out_byte_exact(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "assets/logo.png")
    with pytest.raises(UnicodeDecodeError):
        PNG_LIKE.decode("utf-8")  # no text could carry it

    created = await put_binary(client, url, PNG_LIKE, user)
    assert created.status_code == 201, created.text
    assert created.json()["outcome"] == "created"
    entry = created.json()["file"]
    assert (entry["kind"], entry["size_bytes"]) == ("binary", len(PNG_LIKE))
    assert entry["sha256"] == hashlib.sha256(PNG_LIKE).hexdigest()
    assert "content" not in entry
    tag = created.headers["ETag"]

    got = await client.get(url, headers=user)
    assert got.status_code == 200
    assert got.content == PNG_LIKE
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["ETag"] == tag
    cached = await client.get(url, headers={**user, "If-None-Match": tag})
    assert (cached.status_code, cached.content) == (304, b"")

    # The empty binary file is a file too, and a content type's parameters
    # do not change what it is.
    empty = file_url(project_id, "empty.bin")
    made = await client.put(
        empty,
        content=b"",
        headers={**user, "Content-Type": "Application/Octet-Stream; x=1"},
    )
    assert (made.status_code, made.json()["file"]["kind"]) == (201, "binary")
    got_empty = await client.get(empty, headers=user)
    assert (got_empty.content, got_empty.headers["content-type"]) == (
        b"",
        "application/octet-stream",
    )

    # If-Match works as for text: the current ETag writes, a stale one not.
    same = await put_binary(client, url, PNG_LIKE, {**user, "If-Match": tag})
    assert (same.status_code, same.json()["outcome"]) == (200, "unchanged")
    newer = await put_binary(client, url, PNG_LIKE + b"\x00", {**user, "If-Match": tag})
    assert (newer.status_code, newer.json()["outcome"]) == (200, "updated")
    stale = await put_binary(client, url, b"\x00", {**user, "If-Match": tag})
    assert_error(stale, 412, "version_conflict")
    assert stale.headers["ETag"] == newer.headers["ETag"]
    assert (await client.get(url, headers=user)).content == PNG_LIKE + b"\x00"

    listed = await client.get(f"/projects/{project_id}/files", headers=user)
    kinds = {item["path"]: item["kind"] for item in listed.json()["items"]}
    assert kinds == {"assets/logo.png": "binary", "empty.bin": "binary"}


async def test_text_stays_text_and_the_kind_is_part_of_the_file(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "notes.txt")

    for content_type in (None, "text/plain; charset=utf-8", "application/json"):
        headers = (
            user if content_type is None else {**user, "Content-Type": content_type}
        )
        put = await client.put(url, content=b'{"a": "\xc3\xa9"}', headers=headers)
        assert put.status_code in (200, 201), put.text
        assert put.json()["file"]["kind"] == "text", content_type
        got = await client.get(url, headers=user)
        assert got.headers["content-type"] == "text/plain; charset=utf-8"
        assert got.text == '{"a": "é"}'

    # Bytes that are no UTF-8 are refused as text, and the answer says how
    # to send a binary file.
    refused = await client.put(
        file_url(project_id, "logo.png"),
        content=PNG_LIKE,
        headers={**user, "Content-Type": "image/png"},
    )
    assert_error(refused, 422, "invalid_input")
    assert "application/octet-stream" in refused.json()["message"]

    # The same bytes as text, then as binary: a new version, served as bytes.
    text = await client.put(url, content="abc", headers=user)
    as_binary = await put_binary(client, url, b"abc", user)
    assert (as_binary.status_code, as_binary.json()["outcome"]) == (200, "updated")
    assert as_binary.headers["ETag"] != text.headers["ETag"]
    got = await client.get(url, headers=user)
    assert (got.content, got.headers["content-type"]) == (
        b"abc",
        "application/octet-stream",
    )
    back = await client.put(url, content="abc", headers=user)
    assert (back.json()["outcome"], back.json()["file"]["kind"]) == ("updated", "text")


async def test_a_binary_upload_is_bounded_as_text_is(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    limit = BodyLimits().file_bytes
    url = file_url(project_id, "big.bin")
    at_limit = b"\x00\xff" * (limit // 2)
    taken = await put_binary(client, url, at_limit, user)
    assert taken.status_code == 201, taken.text
    assert taken.json()["file"]["size_bytes"] == limit

    over = await put_binary(client, url, at_limit + b"\x00", user)
    assert_error(over, 413, "too_large")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // (64 * 1024) + 2):
            yield b"\xff" * (64 * 1024)

    # Without a Content-Length (chunked): cut at the limit, nothing written.
    chunked = await client.put(
        file_url(project_id, "streamed.bin"),
        content=chunks(),
        headers={**user, **BINARY},
    )
    assert_error(chunked, 413, "too_large")
    assert_error(
        await client.get(file_url(project_id, "streamed.bin"), headers=user),
        404,
        "not_found",
    )
    assert (await client.get(url, headers=user)).content == at_limit


async def test_a_sync_takes_binary_files_in_base64(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    sync_url = f"/projects/{project_id}/sync"
    encoded = base64.b64encode(PNG_LIKE).decode()

    synced = await client.post(
        sync_url,
        json={"files": {"a.txt": "text"}, "binary_files": {"logo.png": encoded}},
        headers=user,
    )
    assert synced.json() == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    logo = await client.get(file_url(project_id, "logo.png"), headers=user)
    assert (logo.content, logo.headers["content-type"]) == (
        PNG_LIKE,
        "application/octet-stream",
    )

    # The binary file left out of the next sync is deleted, as a text one.
    again = await client.post(sync_url, json={"files": {"a.txt": "text"}}, headers=user)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 1, "deleted": 1}

    for refused, where in (
        ({"files": {"a.txt": "x"}, "binary_files": {"a.txt": encoded}}, "a.txt"),
        ({"files": {}, "binary_files": {"b.bin": "not*base64"}}, "b.bin"),
        ({"files": {}, "binary_files": {"b.bin": "QUJD\n"}}, "b.bin"),
        ({"files": {}, "binary_files": {"b.bin": "QUJ"}}, "b.bin"),  # unpadded
    ):
        response = await client.post(sync_url, json=refused, headers=user)
        assert_error(response, 422, "invalid_input")
        assert f'binary_files["{where}"]' in response.json()["message"]
    listed = await client.get(f"/projects/{project_id}/files", headers=user)
    assert [item["path"] for item in listed.json()["items"]] == ["a.txt"]


# --- history --------------------------------------------------------------------------


async def test_history_lists_every_version_and_reads_each(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "src/main.py")
    contents: list[str | bytes] = ["print(1)\n", "print(2)\n", b"\x00compiled\xff"]
    tags = []
    for content in contents:
        if isinstance(content, bytes):
            put = await put_binary(client, url, content, user)
        else:
            put = await client.put(url, content=content, headers=user)
        assert put.status_code in (200, 201), put.text
        tags.append(put.headers["ETag"])
    assert len(set(tags)) == 3

    page = await client.get(history_url(project_id, "src/main.py"), headers=user)
    assert page.status_code == 200, page.text
    versions = page.json()["items"]
    assert page.json()["next_cursor"] is None
    assert [f'"{v["version"]}"' for v in versions] == tags[::-1]  # newest first
    for version, content in zip(versions, contents[::-1], strict=True):
        raw = content if isinstance(content, bytes) else content.encode()
        assert version["path"] == "src/main.py"
        assert version["kind"] == ("binary" if isinstance(content, bytes) else "text")
        assert version["size_bytes"] == len(raw)
        assert version["sha256"] == hashlib.sha256(raw).hexdigest()
        assert version["deleted_at"] is None
        assert "content" not in version

    # Each version reads as it was written, with its own ETag.
    for version, content in zip(versions, contents[::-1], strict=True):
        got = await client.get(
            url, params={"version": version["version"]}, headers=user
        )
        assert got.status_code == 200, got.text
        assert got.headers["ETag"] == f'"{version["version"]}"'
        if isinstance(content, bytes):
            assert (got.content, got.headers["content-type"]) == (
                content,
                "application/octet-stream",
            )
        else:
            assert (got.text, got.headers["content-type"]) == (
                content,
                "text/plain; charset=utf-8",
            )
    first = versions[-1]["version"]
    cached = await client.get(
        url, params={"version": first}, headers={**user, "If-None-Match": tags[0]}
    )
    assert (cached.status_code, cached.content) == (304, b"")
    assert (await client.get(url, headers=user)).content == contents[-1]

    # Pages by Link, newest first.
    paged: list[int] = []
    next_url: str | None = history_url(project_id, "src/main.py") + "?limit=2"
    while next_url is not None:
        one = await client.get(next_url, headers=user)
        assert len(one.json()["items"]) <= 2
        paged += [v["version"] for v in one.json()["items"]]
        link = one.links.get("next")
        next_url = None if link is None else link["url"]
    assert paged == [v["version"] for v in versions]

    # A delete keeps the history: the last version is marked deleted, the
    # file is gone, and an older version still reads as it was.
    assert (await client.delete(url, headers=user)).status_code == 204
    assert_error(await client.get(url, headers=user), 404, "not_found")
    after = await client.get(history_url(project_id, "src/main.py"), headers=user)
    assert [v["version"] for v in after.json()["items"]] == paged
    assert after.json()["items"][0]["deleted_at"] is not None
    assert [v["deleted_at"] for v in after.json()["items"][1:]] == [None, None]
    old = await client.get(url, params={"version": first}, headers=user)
    assert (old.status_code, old.text) == (200, contents[0])

    assert_error(
        await client.get(url, params={"version": first + 100}, headers=user),
        404,
        "not_found",
    )
    nothing = await client.get(history_url(project_id, "never.txt"), headers=user)
    assert nothing.json() == {"items": [], "next_cursor": None}
    # A path may end in "history" and still be a file.
    named = file_url(project_id, "docs/history")
    assert (await client.put(named, content="h", headers=user)).status_code == 201
    assert (await client.get(named, headers=user)).text == "h"


async def test_another_users_history_is_404(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "Ada")
    project_id = await new_project(client, owner)
    url = file_url(project_id, "secret.bin")
    assert (await put_binary(client, url, b"\x00secret", owner)).status_code == 201
    mallory = await sign_up(client, "Mallory")
    assert_error(
        await client.get(history_url(project_id, "secret.bin"), headers=mallory),
        404,
        "not_found",
    )
    stolen = await client.get(url, params={"version": 1}, headers=mallory)
    assert_error(stolen, 404, "not_found")
    assert b"secret" not in stolen.content


# --- checkpoints ------------------------------------------------------------------------


async def test_restore_brings_the_files_back_and_old_etags_are_stale(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    kept_url = file_url(project_id, "kept.txt")
    logo_url = file_url(project_id, "logo.png")
    gone_url = file_url(project_id, "gone.txt")
    state_url = f"/projects/{project_id}/agent-state"
    kept = await client.put(kept_url, content="kept", headers=user)
    logo = await put_binary(client, logo_url, PNG_LIKE, user)
    gone = await client.put(gone_url, content="will be deleted", headers=user)
    assert (
        await client.put(state_url, json={"step": 1}, headers=user)
    ).status_code == 201

    made = await client.post(
        checkpoints_url(project_id),
        json={"label": "  before the change "},
        headers=user,
    )
    assert made.status_code == 201, made.text
    checkpoint = made.json()
    assert checkpoint["label"] == "before the change"
    assert checkpoint["project_id"] == project_id
    assert made.headers["Location"] == (
        f"/projects/{project_id}/checkpoints/{checkpoint['id']}"
    )
    got = await client.get(made.headers["Location"], headers=user)
    assert got.json() == checkpoint

    # Change everything: one file rewritten, one deleted, one added, the
    # binary file made text, the agent state saved again.
    changed = await client.put(
        kept_url, content="changed", headers={**user, "If-Match": kept.headers["ETag"]}
    )
    assert changed.status_code == 200
    assert (await client.delete(gone_url, headers=user)).status_code == 204
    assert (
        await client.put(file_url(project_id, "new.txt"), content="new", headers=user)
    ).status_code == 201
    assert (
        await client.put(logo_url, content="not a png", headers=user)
    ).status_code == 200
    assert (
        await client.put(state_url, json={"step": 2}, headers=user)
    ).status_code == 200

    diff = await client.get(
        f"{checkpoints_url(project_id)}/{checkpoint['id']}/diff", headers=user
    )
    assert diff.json() == {
        "added": ["new.txt"],
        "changed": ["kept.txt", "logo.png"],
        "removed": ["gone.txt"],
    }

    restored = await client.post(
        f"{checkpoints_url(project_id)}/{checkpoint['id']}/restore", headers=user
    )
    assert restored.status_code == 200, restored.text
    assert restored.json() == {
        "created": 1,
        "updated": 2,
        "unchanged": 0,
        "deleted": 1,
        "agent_state": "restored",
    }

    # The files are back, byte-exact, and what was added is gone.
    assert (await client.get(kept_url, headers=user)).text == "kept"
    assert (await client.get(gone_url, headers=user)).text == "will be deleted"
    back = await client.get(logo_url, headers=user)
    assert (back.content, back.headers["content-type"]) == (
        PNG_LIKE,
        "application/octet-stream",
    )
    assert_error(
        await client.get(file_url(project_id, "new.txt"), headers=user),
        404,
        "not_found",
    )
    assert (await client.get(state_url, headers=user)).json()["state"] == {"step": 1}
    listed = await client.get(f"/projects/{project_id}/files", headers=user)
    assert [item["path"] for item in listed.json()["items"]] == [
        "gone.txt",
        "kept.txt",
        "logo.png",
    ]
    now = await client.get(
        f"{checkpoints_url(project_id)}/{checkpoint['id']}/diff", headers=user
    )
    assert now.json() == {"added": [], "changed": [], "removed": []}

    # Every ETag from before the restore is stale, the checkpoint's own and
    # the changed files' alike: the restore gave each path a new version.
    for url, old in (
        (kept_url, kept.headers["ETag"]),
        (kept_url, changed.headers["ETag"]),
        (logo_url, logo.headers["ETag"]),
        (gone_url, gone.headers["ETag"]),
    ):
        current = (await client.get(url, headers=user)).headers["ETag"]
        assert current != old
        refused = await client.put(
            url, content="lost update", headers={**user, "If-Match": old}
        )
        assert_error(refused, 412, "version_conflict")
        assert refused.headers["ETag"] == current
        assert_error(
            await client.delete(url, headers={**user, "If-Match": old}),
            412,
            "version_conflict",
        )
    assert (await client.get(kept_url, headers=user)).text == "kept"

    # A restore that finds the tree as it was changes nothing.
    again = await client.post(
        f"{checkpoints_url(project_id)}/{checkpoint['id']}/restore", headers=user
    )
    assert again.json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "deleted": 0,
        "agent_state": "unchanged",
    }


async def test_checkpoints_list_newest_first_and_delete(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    project_id = await new_project(client, user)
    url = file_url(project_id, "a.txt")
    ids = []
    for step in range(3):
        await client.put(url, content=f"step {step}", headers=user)
        # No body at all: a checkpoint without a label.
        made = await client.post(checkpoints_url(project_id), headers=user)
        assert made.status_code == 201, made.text
        assert made.json()["label"] is None
        ids.append(made.json()["id"])

    seen: list[str] = []
    next_url: str | None = checkpoints_url(project_id) + "?limit=2"
    while next_url is not None:
        page = await client.get(next_url, headers=user)
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        link = page.links.get("next")
        next_url = None if link is None else link["url"]
    assert seen == ids[::-1]

    first, second, _ = ids
    later = file_url(project_id, "later.txt")
    assert (await client.put(later, content="after", headers=user)).status_code == 201
    diff_url = f"{checkpoints_url(project_id)}/{first}/diff"
    between = await client.get(diff_url, params={"to": second}, headers=user)
    assert between.json() == {"added": [], "changed": ["a.txt"], "removed": []}
    to_now = await client.get(diff_url, headers=user)
    assert to_now.json() == {
        "added": ["later.txt"],
        "changed": ["a.txt"],
        "removed": [],
    }

    assert (
        await client.delete(f"{checkpoints_url(project_id)}/{second}", headers=user)
    ).status_code == 204
    for method in ("GET", "DELETE"):
        assert_error(
            await client.request(
                method, f"{checkpoints_url(project_id)}/{second}", headers=user
            ),
            404,
            "not_found",
        )
    assert_error(
        await client.post(
            f"{checkpoints_url(project_id)}/{second}/restore", headers=user
        ),
        404,
        "not_found",
    )
    remaining = await client.get(checkpoints_url(project_id), headers=user)
    assert [item["id"] for item in remaining.json()["items"]] == [ids[2], ids[0]]

    for label in ("", " ", "a" * 201, "tab\there"):
        assert_error(
            await client.post(
                checkpoints_url(project_id), json={"label": label}, headers=user
            ),
            422,
            "invalid_input",
        )
    assert_error(
        await client.post(
            checkpoints_url(project_id), json={"label": "x", "extra": 1}, headers=user
        ),
        422,
        "invalid_input",
    )
    assert_error(
        await client.get(f"{checkpoints_url(project_id)}/not-a-uuid", headers=user),
        422,
        "invalid_input",
    )
    listed = await client.get(checkpoints_url(project_id), headers=user)
    assert len(listed.json()["items"]) == 2  # the refused ones made none


async def test_another_users_checkpoint_is_404(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "Ada")
    project_id = await new_project(client, owner)
    url = file_url(project_id, "a.txt")
    assert (await client.put(url, content="mine", headers=owner)).status_code == 201
    made = await client.post(
        checkpoints_url(project_id), json={"label": "ada's"}, headers=owner
    )
    checkpoint_id = made.json()["id"]
    assert (await client.put(url, content="later", headers=owner)).status_code == 200

    mallory = await sign_up(client, "Mallory")
    her_project = await new_project(client, mallory)
    her_checkpoint = (
        await client.post(checkpoints_url(her_project), headers=mallory)
    ).json()["id"]
    owners = checkpoints_url(project_id)
    hers = checkpoints_url(her_project)
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", owners, {"json": {"label": "mine now"}}),
        ("GET", owners, {}),
        ("GET", f"{owners}/{checkpoint_id}", {}),
        ("GET", f"{owners}/{checkpoint_id}/diff", {}),
        ("POST", f"{owners}/{checkpoint_id}/restore", {}),
        ("DELETE", f"{owners}/{checkpoint_id}", {}),
        # Ada's checkpoint named under Mallory's own project.
        ("GET", f"{hers}/{checkpoint_id}", {}),
        ("GET", f"{hers}/{checkpoint_id}/diff", {}),
        ("GET", f"{hers}/{her_checkpoint}/diff", {"params": {"to": checkpoint_id}}),
        ("POST", f"{hers}/{checkpoint_id}/restore", {}),
        ("DELETE", f"{hers}/{checkpoint_id}", {}),
    ]
    for method, target, options in calls:
        response = await client.request(method, target, headers=mallory, **options)
        assert_error(response, 404, "not_found")
        assert "ada" not in response.text.lower()

    # Nothing changed for Ada: no restore, no delete, no new checkpoint.
    assert (await client.get(url, headers=owner)).text == "later"
    listed = await client.get(owners, headers=owner)
    assert [item["id"] for item in listed.json()["items"]] == [checkpoint_id]
    her_files = await client.get(f"/projects/{her_project}/files", headers=mallory)
    assert her_files.json()["items"] == []


# --- commit before the response ---------------------------------------------------------


async def test_binary_writes_checkpoints_and_restores_commit_before_the_response(
    web: FastAPI, web_store: Store, client: httpx.AsyncClient
) -> None:
    """As every other write of the app: a client that heard of it can read
    it on any connection at once."""
    user = await sign_up(client)
    project = await new_project(client, user)
    actor = UUID(user["X-User-Id"])
    seen: list[object] = []

    async def file_now() -> None:
        seen.append(await content_now(web_store, user, project, "a.bin"))

    async def checkpoints_now() -> None:
        async with web_store.unit_of_work(actor) as uow:
            page = await uow.checkpoints.list(UUID(project))
        seen.append([c.label for c in page.items])

    async def run(
        method: str,
        path: str,
        body: bytes,
        content_type: str,
        look: Callable[[], Awaitable[None]],
    ) -> None:
        status = await drive(
            web,
            method,
            path,
            headers={**user, "content-type": content_type},
            body=body,
            when_sent=look,
        )
        assert status < 300, (method, path, status)

    octets = "application/octet-stream"
    await run("PUT", file_url(project, "a.bin"), b"\x00one", octets, file_now)
    await run(
        "POST",
        checkpoints_url(project),
        b'{"label": "one"}',
        "application/json",
        checkpoints_now,
    )
    await run("PUT", file_url(project, "a.bin"), b"\xfftwo", octets, file_now)
    async with web_store.unit_of_work(actor) as uow:
        (checkpoint,) = (await uow.checkpoints.list(UUID(project))).items
    at = f"{checkpoints_url(project)}/{checkpoint.id}"
    await run("POST", f"{at}/restore", b"", "application/json", file_now)
    await run("DELETE", at, b"", "application/json", checkpoints_now)
    # What a fresh unit of work saw as each response's last byte went out.
    assert seen == [b"\x00one", ["one"], b"\xfftwo", b"\x00one", []]
