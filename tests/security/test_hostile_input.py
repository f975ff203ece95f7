"""A catalogue of hostile input across every public method.

Each refused case must raise InvalidInput naming the field, leave the unit of
work usable, and leave every row of users, projects, project_files and
agent_states exactly as it was (counts and md5 over all columns, read as a
superuser). SQL-looking strings are valid input: they must be accepted and
read back byte for byte.
"""

from __future__ import annotations

import base64
import datetime
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from repositories import (
    FileEntry,
    InvalidInput,
    Project,
    Store,
    UnitOfWork,
    User,
)
from repositories.cursors import CursorCodec
from tests.support import new_user

from .helpers import (
    SMALL_CONTENT_LIMIT,
    is_valid_name,
    is_valid_path,
    is_valid_prefix,
    snapshot,
    utf8_order,
)

SEED = {"existing.txt": "E", "dir/f.txt": "F", "dir/sub/g.txt": "G"}


@dataclass(frozen=True)
class World:
    """One user with two projects; `project` holds SEED and an agent state."""

    store: Store
    user: User
    project: Project
    sibling: Project
    files_cursor: str  # page 1 of project's files, limit 1
    sibling_files_cursor: str
    projects_cursor: str  # page 1 of the user's projects, limit 1


Call = Callable[[World, UnitOfWork], Awaitable[object]]


@dataclass(frozen=True)
class Bad:
    call: Call
    fields: frozenset[str]


def wrong(value: object) -> Any:
    """A value of the wrong type, passed where the signature wants another."""
    return value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def flip(text: str, index: int) -> str:
    """Replace one character by another character of the base64url alphabet."""
    replacement = "B" if text[index] != "B" else "C"
    return text[:index] + replacement + text[index + 1 :]


def nested_dicts(levels: int) -> dict[str, Any]:
    """`levels` dicts inside each other: {"d": {"d": ... {}}}."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"d": value}
    return value


def nested_lists(levels: int) -> dict[str, Any]:
    """An object holding `levels - 1` lists inside each other."""
    value: list[Any] = []
    for _ in range(levels - 2):
        value = [value]
    return {"l": value}


def cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {}
    value["self"] = value
    return value


async def enter_as(store: Store, actor: Any) -> None:
    async with store.unit_of_work(actor) as uow:
        await uow.projects.list()


# A payload in the codec's own format (parts joined by U+001F), so only the
# signature is wrong.
FORGED_PROJECT_POSITION = "\x1f".join(
    ["project", "", "2000-01-01T00:00:00+00:00", str(uuid.uuid4())]
).encode()
FORGED_UNSIGNED = b64(FORGED_PROJECT_POSITION)
FORGED_RANDOM_SIGNATURE = f"{FORGED_UNSIGNED}.{b64(secrets.token_bytes(16))}"
# Well-formed and signed, but with a key this Store does not hold.
FOREIGN_KEY_PROJECT_CURSOR = CursorCodec(secrets.token_bytes(32)).encode(
    "project", "", ["2000-01-01T00:00:00+00:00", str(uuid.uuid4())]
)


def forged_files_cursor(project_id: uuid.UUID) -> str:
    payload = "\x1f".join(["file", str(project_id), "a"]).encode()
    return f"{b64(payload)}.{b64(secrets.token_bytes(16))}"


def files_cursor_of_another_key(project_id: uuid.UUID) -> str:
    return CursorCodec(secrets.token_bytes(32)).encode("file", str(project_id), ["a"])


def payload_flipped(cursor: str) -> str:
    payload, signature = cursor.split(".")
    return f"{flip(payload, 0)}.{signature}"


def signature_flipped(cursor: str) -> str:
    payload, signature = cursor.split(".")
    return f"{payload}.{flip(signature, 0)}"


def case(case_id: str, fields: str, call: Call) -> tuple[str, Bad]:
    return case_id, Bad(call, frozenset(fields.split("|")))


# ---------------------------------------------------------------------------
# The catalogue: (id, fields InvalidInput may name, the call)
# ---------------------------------------------------------------------------

PATH_CASES = [
    case("path-dotdot-put", "path", lambda w, u: u.files.put(w.project.id, "..", "x")),
    case(
        "path-dotdot-first-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "../x", "x"),
    ),
    case(
        "path-dotdot-middle-get",
        "path",
        lambda w, u: u.files.get(w.project.id, "a/../b"),
    ),
    case(
        "path-dotdot-last-delete",
        "path",
        lambda w, u: u.files.delete(w.project.id, "dir/.."),
    ),
    case(
        "path-dotdot-escape-sync",
        "path|files",
        lambda w, u: u.files.sync(w.project.id, {"../../etc/passwd": "x"}),
    ),
    case(
        "path-absolute-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "/etc/passwd", "x"),
    ),
    case(
        "path-absolute-get",
        "path",
        lambda w, u: u.files.get(w.project.id, "/etc/passwd"),
    ),
    case(
        "path-absolute-move-target",
        "new_path",
        lambda w, u: u.files.move(w.project.id, "existing.txt", "/etc/passwd"),
    ),
    case(
        "path-root-only-put", "path", lambda w, u: u.files.put(w.project.id, "/", "x")
    ),
    case(
        "path-backslash-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "a\\b", "x"),
    ),
    case(
        "path-backslash-delete",
        "path",
        lambda w, u: u.files.delete(w.project.id, "a\\b"),
    ),
    case(
        "path-windows-traversal-move-source",
        "path",
        lambda w, u: u.files.move(w.project.id, "..\\..\\boot.ini", "ok.txt"),
    ),
    case("path-nul-put", "path", lambda w, u: u.files.put(w.project.id, "a\x00b", "x")),
    case("path-nul-only-get", "path", lambda w, u: u.files.get(w.project.id, "\x00")),
    case(
        "path-ansi-escape-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "\x1b[31mred.txt", "x"),
    ),
    case("path-del-put", "path", lambda w, u: u.files.put(w.project.id, "a\x7f", "x")),
    case(
        "path-nel-c1-put", "path", lambda w, u: u.files.put(w.project.id, "a\x85b", "x")
    ),
    case(
        "path-newline-put", "path", lambda w, u: u.files.put(w.project.id, "a\nb", "x")
    ),
    case(
        "path-newline-sync-keep",
        "path|files",
        lambda w, u: u.files.sync(
            w.project.id, {"existing.txt": "changed", "a\nb": "x"}, delete_missing=False
        ),
    ),
    case(
        "path-tab-move-target",
        "new_path",
        lambda w, u: u.files.move(w.project.id, "existing.txt", "a\tb"),
    ),
    case(
        "path-lone-surrogate-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "\ud800", "x"),
    ),
    case(
        "path-lone-low-surrogate-move-target",
        "new_path",
        lambda w, u: u.files.move(w.project.id, "existing.txt", "dir/\udfff.txt"),
    ),
    case(
        "path-1025-bytes-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "a" * 1025, "x"),
    ),
    case(
        "path-1025-bytes-nested-put",
        "path",
        lambda w, u: u.files.put(w.project.id, ("x" * 99 + "/") * 10 + "y" * 25, "x"),
    ),
    case(
        "path-2-byte-chars-1026-bytes-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "é" * 513, "x"),
    ),
    case(
        "path-3-byte-chars-1026-bytes-get",
        "path",
        lambda w, u: u.files.get(w.project.id, "€" * 342),
    ),
    case(
        "path-4-byte-chars-1028-bytes-sync",
        "path|files",
        lambda w, u: u.files.sync(w.project.id, {"😀" * 257: "x"}),
    ),
    case(
        "path-trailing-slash-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "dir/", "x"),
    ),
    case(
        "path-trailing-double-slash-get",
        "path",
        lambda w, u: u.files.get(w.project.id, "dir//"),
    ),
    case(
        "path-double-slash-put",
        "path",
        lambda w, u: u.files.put(w.project.id, "a//b", "x"),
    ),
    case(
        "path-dot-alone-put", "path", lambda w, u: u.files.put(w.project.id, ".", "x")
    ),
    case(
        "path-dot-first-put", "path", lambda w, u: u.files.put(w.project.id, "./a", "x")
    ),
    case(
        "path-dot-middle-delete",
        "path",
        lambda w, u: u.files.delete(w.project.id, "a/./b"),
    ),
    case(
        "path-dot-last-move-target",
        "new_path",
        lambda w, u: u.files.move(w.project.id, "existing.txt", "dir/."),
    ),
    case("path-empty-put", "path", lambda w, u: u.files.put(w.project.id, "", "x")),
    case(
        "path-bytes-put",
        "path",
        lambda w, u: u.files.put(w.project.id, wrong(b"a.txt"), "x"),
    ),
    case("path-none-get", "path", lambda w, u: u.files.get(w.project.id, wrong(None))),
    case(
        "path-int-delete", "path", lambda w, u: u.files.delete(w.project.id, wrong(5))
    ),
    case(
        "path-int-key-sync",
        "path|files",
        lambda w, u: u.files.sync(w.project.id, wrong({5: "x"})),
    ),
    case(
        "files-not-a-mapping-sync",
        "files",
        lambda w, u: u.files.sync(w.project.id, wrong([("a.txt", "x")])),
    ),
    case(
        "prefix-nul-list",
        "prefix",
        lambda w, u: u.files.list(w.project.id, prefix="\x00"),
    ),
    case(
        "prefix-ansi-escape-list",
        "prefix",
        lambda w, u: u.files.list(w.project.id, prefix="\x1b[31m"),
    ),
    case(
        "prefix-lone-surrogate-list",
        "prefix",
        lambda w, u: u.files.list(w.project.id, prefix="\ud800"),
    ),
    case(
        "prefix-1025-bytes-list",
        "prefix",
        lambda w, u: u.files.list(w.project.id, prefix="a" * 1025),
    ),
    case(
        "prefix-bytes-list",
        "prefix",
        lambda w, u: u.files.list(w.project.id, prefix=wrong(b"dir/")),
    ),
]

NAME_CASES = [
    case("name-empty-create", "name", lambda w, u: u.projects.create("")),
    case("name-spaces-only-create", "name", lambda w, u: u.projects.create("     ")),
    case(
        "name-unicode-whitespace-only-update",
        "name",
        lambda w, u: u.projects.update(w.project.id, name=" \t\n\u3000\u2028 "),
    ),
    case("name-201-chars-create", "name", lambda w, u: u.projects.create("x" * 201)),
    case(
        "name-201-chars-after-trim-update",
        "name",
        lambda w, u: u.projects.update(w.project.id, name="  " + "é" * 201 + "  "),
    ),
    case("name-nul-create", "name", lambda w, u: u.projects.create("a\x00b")),
    case(
        "name-ansi-escape-create", "name", lambda w, u: u.projects.create("\x1b[31mred")
    ),
    case(
        "name-del-update",
        "name",
        lambda w, u: u.projects.update(w.project.id, name="a\x7fb"),
    ),
    case("name-nel-inside-create", "name", lambda w, u: u.projects.create("a\x85b")),
    case(
        "name-newline-inside-create",
        "name",
        lambda w, u: u.projects.create("two\nlines"),
    ),
    case(
        "name-lone-surrogate-create", "name", lambda w, u: u.projects.create("\ud800")
    ),
    case(
        "name-lone-low-surrogate-update",
        "name",
        lambda w, u: u.projects.update(w.project.id, name="ok\udfff"),
    ),
    case("name-none-create", "name", lambda w, u: u.projects.create(wrong(None))),
    case(
        "name-int-update",
        "name",
        lambda w, u: u.projects.update(w.project.id, name=wrong(5)),
    ),
    case("name-bytes-create", "name", lambda w, u: u.projects.create(wrong(b"name"))),
    case(
        "description-nul-create",
        "description",
        lambda w, u: u.projects.create("ok", description="a\x00b"),
    ),
    case(
        "description-lone-surrogate-update",
        "description",
        lambda w, u: u.projects.update(w.project.id, description="\ud800"),
    ),
    case(
        "description-10001-chars-create",
        "description",
        lambda w, u: u.projects.create("ok", description="d" * 10_001),
    ),
    case(
        "description-int-update",
        "description",
        lambda w, u: u.projects.update(w.project.id, description=wrong(5)),
    ),
    case(
        "user-name-empty-create",
        "name",
        lambda w, u: w.store.users.create(
            email=f"{uuid.uuid4().hex}@example.com", name=" "
        ),
    ),
    case(
        "user-name-nul-create",
        "name",
        lambda w, u: w.store.users.create(
            email=f"{uuid.uuid4().hex}@example.com", name="a\x00"
        ),
    ),
    case(
        "user-email-no-at-create",
        "email",
        lambda w, u: w.store.users.create(email="not-an-address", name="Eve"),
    ),
    case(
        "user-email-control-create",
        "email",
        lambda w, u: w.store.users.create(email="eve\x1b@example.com", name="Eve"),
    ),
    case(
        "user-email-surrogate-create",
        "email",
        lambda w, u: w.store.users.create(email="\ud800@example.com", name="Eve"),
    ),
]

OVER = "a" * (SMALL_CONTENT_LIMIT + 1)
OVER_MULTIBYTE = "é" * (SMALL_CONTENT_LIMIT // 2) + "a"  # 513 characters, 1025 bytes

CONTENT_CASES = [
    case(
        "content-1025-bytes-put",
        "content",
        lambda w, u: u.files.put(w.project.id, "big.txt", OVER),
    ),
    case(
        "content-1025-bytes-multibyte-put-existing",
        "content",
        lambda w, u: u.files.put(w.project.id, "existing.txt", OVER_MULTIBYTE),
    ),
    case(
        "content-1025-bytes-put-expected-version",
        "content",
        lambda w, u: u.files.put(
            w.project.id, "existing.txt", OVER, expected_version=1
        ),
    ),
    case(
        "content-1025-bytes-sync",
        "content|files",
        lambda w, u: u.files.sync(w.project.id, {"a.txt": "a", "big.txt": OVER}),
    ),
    case(
        "content-nul-put",
        "content",
        lambda w, u: u.files.put(w.project.id, "nul.txt", "a\x00b"),
    ),
    case(
        "content-nul-sync-keep",
        "content|files",
        lambda w, u: u.files.sync(
            w.project.id, {"existing.txt": "\x00"}, delete_missing=False
        ),
    ),
    case(
        "content-lone-surrogate-put",
        "content",
        lambda w, u: u.files.put(w.project.id, "s.txt", "text \ud800"),
    ),
    # bytes are a binary file's content; a mutable buffer is not, since it
    # could change between the checks and the write.
    case(
        "content-bytearray-put",
        "content",
        lambda w, u: u.files.put(w.project.id, "b.bin", wrong(bytearray(b"bytes"))),
    ),
    case(
        "content-binary-over-limit-put",
        "content",
        lambda w, u: u.files.put(
            w.project.id, "b.bin", b"\x00" * (SMALL_CONTENT_LIMIT + 1)
        ),
    ),
    case(
        "content-binary-over-limit-sync",
        "content",
        lambda w, u: u.files.sync(
            w.project.id, {"b.bin": b"\xff" * (SMALL_CONTENT_LIMIT + 1)}
        ),
    ),
    case(
        "content-memoryview-sync",
        "content",
        lambda w, u: u.files.sync(w.project.id, {"b.bin": wrong(memoryview(b"x"))}),
    ),
    case(
        "content-none-put",
        "content",
        lambda w, u: u.files.put(w.project.id, "n.txt", wrong(None)),
    ),
    case(
        "content-int-put",
        "content",
        lambda w, u: u.files.put(w.project.id, "i.txt", wrong(5)),
    ),
    case(
        "content-int-sync",
        "content|files",
        lambda w, u: u.files.sync(w.project.id, wrong({"a.txt": 5})),
    ),
]

STATE_CASES = [
    case(
        "state-list-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, wrong([])),
    ),
    case(
        "state-str-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, wrong("{}")),
    ),
    case(
        "state-none-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, wrong(None)),
    ),
    case(
        "state-nan-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"x": math.nan}),
    ),
    case(
        "state-infinity-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"x": math.inf}),
    ),
    case(
        "state-minus-infinity-save-expected-1",
        "state",
        lambda w, u: u.agent_states.save(
            w.project.id, {"x": -math.inf}, expected_version=1
        ),
    ),
    case(
        "state-nested-nan-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": [{"b": [1, math.nan]}]}),
    ),
    case(
        "state-nan-in-sibling-create-only",
        "state",
        lambda w, u: u.agent_states.save(
            w.sibling.id, {"x": float("nan")}, expected_version=0
        ),
    ),
    case(
        "state-int-key-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, wrong({1: "x"})),
    ),
    case(
        "state-nested-int-key-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": {None: 1}}),
    ),
    case(
        "state-tuple-value-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": (1, 2)}),
    ),
    case(
        "state-set-value-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": {1, 2}}),
    ),
    case(
        "state-bytes-value-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": b"x"}),
    ),
    case(
        "state-datetime-value-save",
        "state",
        lambda w, u: u.agent_states.save(
            w.project.id, {"at": datetime.datetime.now(datetime.UTC)}
        ),
    ),
    case(
        "state-decimal-value-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": Decimal("1.5")}),
    ),
    case(
        "state-uuid-value-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": uuid.uuid4()}),
    ),
    case(
        "state-101-nested-objects-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, nested_dicts(101)),
    ),
    case(
        "state-101-nested-lists-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, nested_lists(101)),
    ),
    case(
        "state-cyclic-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, cyclic()),
    ),
    case(
        "state-over-1-mib-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"x": "a" * (1024 * 1024)}),
    ),
    case(
        "state-nul-in-key-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a\x00": 1}),
    ),
    case(
        "state-nul-in-value-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": ["x\x00"]}),
    ),
    case(
        "state-surrogate-in-value-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": "\ud800"}),
    ),
    case(
        "state-surrogate-in-key-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"\udfff": 1}),
    ),
    case(
        "state-huge-int-save",
        "state",
        lambda w, u: u.agent_states.save(w.project.id, {"a": 10**5000}),
    ),
]

ID_CASES = [
    case(
        "project-id-digits-str-projects-get",
        "project_id",
        lambda w, u: u.projects.get(wrong("123")),
    ),
    case(
        "project-id-int-projects-update",
        "project_id",
        lambda w, u: u.projects.update(wrong(5), name="x"),
    ),
    case(
        "project-id-none-projects-delete",
        "project_id",
        lambda w, u: u.projects.delete(wrong(None)),
    ),
    case(
        "project-id-uuid-str-projects-get",
        "project_id",
        lambda w, u: u.projects.get(wrong(str(w.project.id))),
    ),
    case(
        "project-id-uuid-str-files-put",
        "project_id",
        lambda w, u: u.files.put(wrong(str(w.project.id)), "a.txt", "x"),
    ),
    case(
        "project-id-uuid-str-files-list",
        "project_id",
        lambda w, u: u.files.list(wrong(str(w.project.id))),
    ),
    case(
        "project-id-int-files-sync",
        "project_id",
        lambda w, u: u.files.sync(wrong(5), {}),
    ),
    case(
        "project-id-none-files-get",
        "project_id",
        lambda w, u: u.files.get(wrong(None), "existing.txt"),
    ),
    case(
        "project-id-uuid-bytes-files-move",
        "project_id",
        lambda w, u: u.files.move(wrong(w.project.id.bytes), "existing.txt", "m.txt"),
    ),
    case(
        "project-id-uuid-hex-files-delete",
        "project_id",
        lambda w, u: u.files.delete(wrong(w.project.id.hex), "existing.txt"),
    ),
    case(
        "project-id-uuid-str-agent-get",
        "project_id",
        lambda w, u: u.agent_states.get(wrong(str(w.project.id))),
    ),
    case(
        "project-id-digits-str-agent-save",
        "project_id",
        lambda w, u: u.agent_states.save(wrong("123"), {}),
    ),
    case(
        "project-id-int-agent-delete",
        "project_id",
        lambda w, u: u.agent_states.delete(wrong(5)),
    ),
    case("user-id-x-unit-of-work", "user_id", lambda w, u: enter_as(w.store, "x")),
    case(
        "user-id-uuid-str-unit-of-work",
        "user_id",
        lambda w, u: enter_as(w.store, str(w.user.id)),
    ),
    case("user-id-int-unit-of-work", "user_id", lambda w, u: enter_as(w.store, 5)),
    case("user-id-none-unit-of-work", "user_id", lambda w, u: enter_as(w.store, None)),
    case(
        "user-id-uuid-str-users-get",
        "user_id",
        lambda w, u: w.store.users.get(wrong(str(w.user.id))),
    ),
]

LIMITS: list[tuple[str, object]] = [
    ("0", 0),
    ("minus-1", -1),
    ("1001", 1001),
    ("10e12", 10**12),
    ("true", True),
    ("2.5", 2.5),
    ("str-10", "10"),
    ("none", None),
]


def projects_list_limit(value: object) -> Call:
    return lambda w, u: u.projects.list(limit=wrong(value))


def files_list_limit(value: object) -> Call:
    return lambda w, u: u.files.list(w.project.id, limit=wrong(value))


LIMIT_CASES = [
    case(f"limit-{name}-projects-list", "limit", projects_list_limit(value))
    for name, value in LIMITS
] + [
    case(f"limit-{name}-files-list", "limit", files_list_limit(value))
    for name, value in LIMITS
]

CURSOR_CASES = [
    case(
        "cursor-forged-unsigned-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor=FORGED_UNSIGNED),
    ),
    case(
        "cursor-forged-random-signature-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor=FORGED_RANDOM_SIGNATURE),
    ),
    case(
        "cursor-signed-with-another-key-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor=FOREIGN_KEY_PROJECT_CURSOR),
    ),
    case(
        "cursor-forged-random-signature-files",
        "cursor",
        lambda w, u: u.files.list(
            w.project.id, cursor=forged_files_cursor(w.project.id)
        ),
    ),
    case(
        "cursor-signed-with-another-key-files",
        "cursor",
        lambda w, u: u.files.list(
            w.project.id, cursor=files_cursor_of_another_key(w.project.id)
        ),
    ),
    case(
        "cursor-truncated-projects",
        "cursor",
        lambda w, u: u.projects.list(
            cursor=w.projects_cursor[: len(w.projects_cursor) // 2]
        ),
    ),
    case(
        "cursor-truncated-files",
        "cursor",
        lambda w, u: u.files.list(w.project.id, cursor=w.files_cursor[:-1]),
    ),
    case(
        "cursor-payload-char-flipped-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor=payload_flipped(w.projects_cursor)),
    ),
    case(
        "cursor-signature-char-flipped-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor=signature_flipped(w.projects_cursor)),
    ),
    case(
        "cursor-payload-char-flipped-files",
        "cursor",
        lambda w, u: u.files.list(w.project.id, cursor=payload_flipped(w.files_cursor)),
    ),
    case(
        "cursor-signature-char-flipped-files",
        "cursor",
        lambda w, u: u.files.list(
            w.project.id, cursor=signature_flipped(w.files_cursor)
        ),
    ),
    case(
        "cursor-of-files-listing-used-for-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor=w.files_cursor),
    ),
    case(
        "cursor-of-projects-listing-used-for-files",
        "cursor",
        lambda w, u: u.files.list(w.project.id, cursor=w.projects_cursor),
    ),
    case(
        "cursor-of-project-a-used-for-project-b",
        "cursor",
        lambda w, u: u.files.list(w.sibling.id, cursor=w.files_cursor),
    ),
    case(
        "cursor-of-project-b-used-for-project-a",
        "cursor",
        lambda w, u: u.files.list(w.project.id, cursor=w.sibling_files_cursor),
    ),
    case(
        "cursor-empty-str-projects", "cursor", lambda w, u: u.projects.list(cursor="")
    ),
    case(
        "cursor-extra-part-files",
        "cursor",
        lambda w, u: u.files.list(w.project.id, cursor=w.files_cursor + ".x"),
    ),
    case(
        "cursor-non-ascii-files",
        "cursor",
        lambda w, u: u.files.list(w.project.id, cursor="é.é"),
    ),
    case(
        "cursor-surrogate-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor="\ud800.\ud800"),
    ),
    case(
        "cursor-int-projects", "cursor", lambda w, u: u.projects.list(cursor=wrong(5))
    ),
    case(
        "cursor-bytes-files",
        "cursor",
        lambda w, u: u.files.list(w.project.id, cursor=wrong(w.files_cursor.encode())),
    ),
    case(
        "cursor-list-projects",
        "cursor",
        lambda w, u: u.projects.list(cursor=wrong([w.projects_cursor])),
    ),
]

VERSIONS: list[tuple[str, object]] = [
    ("minus-1", -1),
    ("str-1", "1"),
    ("true", True),
    ("float-1.0", 1.0),
]


def put_version(value: object) -> Call:
    return lambda w, u: u.files.put(
        w.project.id, "existing.txt", "new", expected_version=wrong(value)
    )


def delete_version(value: object) -> Call:
    return lambda w, u: u.files.delete(
        w.project.id, "existing.txt", expected_version=wrong(value)
    )


def save_version(value: object) -> Call:
    return lambda w, u: u.agent_states.save(
        w.project.id, {"step": 2}, expected_version=wrong(value)
    )


VERSION_CASES = [
    case(f"expected-version-{name}-{op}", "expected_version", make(value))
    for name, value in VERSIONS
    for op, make in (
        ("files-put", put_version),
        ("files-delete", delete_version),
        ("agent-save", save_version),
    )
]

CASES: list[tuple[str, Bad]] = (
    PATH_CASES
    + NAME_CASES
    + CONTENT_CASES
    + STATE_CASES
    + ID_CASES
    + LIMIT_CASES
    + CURSOR_CASES
    + VERSION_CASES
)
CATALOGUE = [pytest.param(bad, id=case_id) for case_id, bad in CASES]


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
async def world(small_store: Store) -> World:
    user = await new_user(small_store, "Ada")
    async with small_store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("hostile A", description="seeded")
        sibling = await uow.projects.create("hostile B")
        for path, content in SEED.items():
            await uow.files.put(project.id, path, content)
            await uow.files.put(sibling.id, path, content)
        await uow.agent_states.save(project.id, {"step": 1})
        files_cursor = (await uow.files.list(project.id, limit=1)).next_cursor
        sibling_cursor = (await uow.files.list(sibling.id, limit=1)).next_cursor
        projects_cursor = (await uow.projects.list(limit=1)).next_cursor
        project = await uow.projects.get(project.id)
    assert files_cursor is not None
    assert sibling_cursor is not None
    assert projects_cursor is not None
    return World(
        small_store,
        user,
        project,
        sibling,
        files_cursor,
        sibling_cursor,
        projects_cursor,
    )


# ---------------------------------------------------------------------------
# refused input
# ---------------------------------------------------------------------------


def test_the_catalogue_is_large_and_its_cases_break_what_they_claim() -> None:
    ids = [case_id for case_id, _ in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert len(("a" * 1025).encode()) == 1025
    assert len((("x" * 99 + "/") * 10 + "y" * 25).encode()) == 1025
    assert len(("é" * 513).encode()) == 1026
    assert len(("€" * 342).encode()) == 1026
    assert len(("😀" * 257).encode()) == 1028
    assert len(OVER.encode()) == len(OVER_MULTIBYTE.encode()) == SMALL_CONTENT_LIMIT + 1
    for bad_path in [
        "..",
        "a/../b",
        "/etc/passwd",
        "a\\b",
        "dir/",
        "a//b",
        "./a",
        "\ud800",
    ]:
        assert not is_valid_path(bad_path)
    for bad_name in ["", "   ", "x" * 201, "a\x00b", "\ud800"]:
        assert not is_valid_name(bad_name)


@pytest.mark.parametrize("bad", CATALOGUE)
async def test_hostile_input_is_invalid_input_and_changes_nothing(
    world: World, admin: asyncpg.Connection[asyncpg.Record], bad: Bad
) -> None:
    before = await snapshot(admin)
    async with world.store.unit_of_work(world.user.id) as uow:
        with pytest.raises(InvalidInput) as raised:
            await bad.call(world, uow)
        assert raised.value.field in bad.fields, raised.value
        assert raised.value.reason
        # Refused before any SQL: the transaction is intact and usable.
        assert await uow.projects.get(world.project.id) == world.project
        assert len((await uow.files.list(world.project.id)).items) == len(SEED)
    assert await snapshot(admin) == before


# ---------------------------------------------------------------------------
# SQL-looking input is valid input
# ---------------------------------------------------------------------------

SQL_LOOKING = [
    "'; DROP TABLE projects; --",
    "%",
    "_",
    "\\' OR 1=1",
    "' OR '1'='1",
    "%_%",
    "a%",
    "$1",
    '"; DELETE FROM users; --',
    "*/ SELECT pg_sleep(10) /*",
    "' UNION SELECT email FROM users --",
    "1; COMMIT; RESET ROLE; --",
    "%s %(name)s {0}",
    "E'\\x00'",
    "$$; DROP TABLE agent_states; $$",
]
DECOY_PATHS = ["x", "%other", "_other", "aXb", "zz/%", "zz/_"]


async def all_files(
    uow: UnitOfWork, project_id: uuid.UUID, prefix: str | None = None
) -> list[FileEntry]:
    entries: list[FileEntry] = []
    cursor: str | None = None
    while True:
        page = await uow.files.list(project_id, prefix=prefix, limit=2, cursor=cursor)
        entries.extend(page.items)
        if page.next_cursor is None:
            return entries
        cursor = page.next_cursor


@pytest.mark.parametrize("text", SQL_LOOKING, ids=repr)
async def test_sql_looking_strings_are_accepted_and_read_back_exactly(
    store: Store, admin: asyncpg.Connection[asyncpg.Record], text: str
) -> None:
    bystander = await new_user(store, "Bystander")
    async with store.unit_of_work(bystander.id) as uow:
        theirs = await uow.projects.create("bystander")
        await uow.files.put(theirs.id, "keep.txt", "keep")
        await uow.agent_states.save(theirs.id, {"keep": True})
    bystander_before = await snapshot(admin, bystander.id)
    user = await new_user(store, text)
    assert (await store.users.get(user.id)).name == text.strip()

    state = {text: text, "nested": [text, {text: [text]}], "n": 1}
    async with store.unit_of_work(user.id) as uow:
        project = await uow.projects.create(text, description=text)
        assert (project.name, project.description) == (text.strip(), text)
        other = await uow.projects.create("plain")
        other = await uow.projects.update(other.id, name=text, description=text)
        assert (other.name, other.description) == (text.strip(), text)

        # As content, as a path, as a move target, in a sync tree.
        assert (
            await uow.files.put(project.id, "content.txt", text)
        ).outcome == "created"
        for decoy in DECOY_PATHS:
            await uow.files.put(project.id, decoy, decoy)
        path = text if is_valid_path(text) else text.replace("\\", "")
        assert is_valid_path(path)
        await uow.files.put(project.id, path, text)
        await uow.files.move(project.id, path, path + ".moved")
        await uow.files.move(project.id, path + ".moved", path)
        await uow.files.sync(
            other.id, {path: text, f"dir/{path}": text, "plain.txt": text}
        )
        await uow.agent_states.save(project.id, state)

    async with store.unit_of_work(user.id) as uow:
        assert await uow.projects.get(project.id) == project
        assert await uow.projects.get(other.id) == other
        listed = {p.id: p for p in (await uow.projects.list()).items}
        assert listed == {project.id: project, other.id: other}
        assert (await uow.files.get(project.id, "content.txt")).content == text
        read = await uow.files.get(project.id, path)
        assert (read.path, read.content) == (path, text)
        tree = {
            e.path: (await uow.files.get(other.id, e.path)).content
            for e in await all_files(uow, other.id)
        }
        assert tree == {path: text, f"dir/{path}": text, "plain.txt": text}
        assert (await uow.agent_states.get(project.id)).state == state

        # As a listing prefix: a plain string, never a LIKE pattern.
        everything = [e.path for e in await all_files(uow, project.id)]
        assert everything == utf8_order(everything)
        assert is_valid_prefix(text)
        for prefix in {text, path, text[:1]}:
            found = [e.path for e in await all_files(uow, project.id, prefix)]
            assert found == [p for p in everything if p.startswith(prefix)], prefix

    # Nobody else's rows were touched, and every table is still there.
    assert await snapshot(admin, bystander.id) == bystander_before
    counts = await snapshot(admin, user.id)
    assert counts["projects_count"] == 2
    assert counts["files_count"] == 2 + len(DECOY_PATHS) + 3
    assert counts["states_count"] == 1


async def test_boundary_values_just_inside_the_limits_are_accepted(
    small_store: Store, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The refused cases above are one step over a limit; one step under passes."""
    user = await new_user(small_store)
    path_1024 = ("x" * 99 + "/") * 10 + "y" * 24
    content_1024 = "é" * (SMALL_CONTENT_LIMIT // 2)
    deep = nested_dicts(100)
    async with small_store.unit_of_work(user.id) as uow:
        project = await uow.projects.create("  " + "n" * 200 + "  ")
        assert project.name == "n" * 200
        for path in (
            path_1024,
            "é" * 512,
            "😀" * 256,
            "...",
            "a/.../b",
            ".hidden",
            "a..b",
        ):
            assert is_valid_path(path)
            await uow.files.put(project.id, path, content_1024)
        await uow.agent_states.save(project.id, deep)
        page = await uow.files.list(project.id, limit=1000)
    async with small_store.unit_of_work(user.id) as uow:
        assert len(page.items) == 7
        assert {e.size_bytes for e in page.items} == {SMALL_CONTENT_LIMIT}
        assert (await uow.files.get(project.id, path_1024)).content == content_1024
        assert (await uow.agent_states.get(project.id)).state == deep
    assert (await snapshot(admin, user.id))["files_count"] == 7
