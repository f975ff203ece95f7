"""uow.files: a project's files, addressed by path."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from functools import partial
from typing import Any, cast
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from generated import Executor
from generated import project_files as queries
from generated import projects as project_queries
from repositories import validation
from repositories.cursors import CursorCodec
from repositories.database_errors import translated
from repositories.errors import InvalidInput, NotFound, PathTaken
from repositories.models import (
    FileEntry,
    FileOutcome,
    FileWrite,
    Page,
    ProjectFile,
    SyncResult,
    from_row,
    page,
)
from repositories.projects import ProjectsRepository
from repositories.unmatched import unmatched_write

RESOURCE = "file"
PROJECT = "project"
_HIGHEST_CODE_POINT = 0x10FFFF
_FILE_PAGE = Page[FileEntry]  # looked up once: subscripting costs each time


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix`, in
    byte-wise (code point) order, or None when there is none."""
    chars = builtins.list(prefix)
    while chars:
        last = ord(chars.pop()) + 1
        if 0xD800 <= last <= 0xDFFF:  # skip the surrogate block
            last = 0xE000
        if last <= _HIGHEST_CODE_POINT:
            return "".join(chars) + chr(last)
    return None


def _file(row: BaseModel, content: str) -> ProjectFile:
    # Writes return rows without content: the caller's content is the stored one.
    return from_row(ProjectFile, row, content=content)


class ProjectFilesRepository:
    """`uow.files`: a project's files, addressed by path."""

    def __init__(
        self,
        conn: Executor,
        actor: UUID,
        cursors: CursorCodec,
        projects: ProjectsRepository,
        max_content_bytes: int,
    ) -> None:
        self._conn = conn
        self._actor = actor
        self._cursors = cursors
        self._projects = projects
        self._max_content_bytes = max_content_bytes

    async def _current_version(self, project_id: UUID, path: str) -> int | None:
        with translated(RESOURCE):
            return await queries.get_file_version(
                self._conn, project_id=project_id, owner_id=self._actor, path=path
            )

    async def _exists(self, project_id: UUID, path: str) -> bool:
        return await self._current_version(project_id, path) is not None

    async def put(
        self,
        project_id: UUID,
        path: str,
        content: str,
        *,
        expected_version: int | None = None,
    ) -> FileWrite:
        """Write `content` at `path`: create the file, update it, or leave it
        unchanged when it holds that content already."""
        validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        body = validation.content(content, self._max_content_bytes)
        expected = validation.expected_version(expected_version)
        args: dict[str, Any] = {
            "project_id": project_id,
            "owner_id": self._actor,
            "path": checked_path,
            "content": body.text,
            "size_bytes": body.size_bytes,
            "sha256": body.sha256,
        }
        outcome: FileOutcome
        with translated(RESOURCE):
            if expected is None:
                put = await queries.put_file(self._conn, **args)
                if put is not None:
                    outcome = cast(FileOutcome, put.outcome)
                    return FileWrite(file=_file(put, body.text), outcome=outcome)
            elif expected == 0:
                created = await queries.create_file(self._conn, **args)
                if created is not None:
                    return FileWrite(file=_file(created, body.text), outcome="created")
            else:
                updated = await queries.update_file_at_version(
                    self._conn, **args, expected_version=expected
                )
                if updated is not None:
                    return FileWrite(file=_file(updated, body.text), outcome="updated")
        return await self._unwritten(project_id, checked_path, body, expected)

    async def _unwritten(
        self,
        project_id: UUID,
        path: str,
        body: validation.Content,
        expected: int | None,
    ) -> FileWrite:
        """The write matched no row: unchanged content, a version conflict, or
        no such project. Only this slow path pays for the extra query."""
        with translated(RESOURCE):
            current = await queries.get_file_entry(
                self._conn, project_id=project_id, owner_id=self._actor, path=path
            )
        version = current.version if current else None
        same_content = current is not None and current.sha256 == body.sha256
        if same_content and expected in (None, version):
            assert current is not None
            return FileWrite(file=_file(current, body.text), outcome="unchanged")
        raise await unmatched_write(
            RESOURCE,
            expected=expected,
            found=version,
            parent=PROJECT,
            parent_exists=partial(self._projects.exists, project_id),
        )

    async def get(self, project_id: UUID, path: str) -> ProjectFile:
        """The file at `path`, with its content."""
        validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        with translated(RESOURCE):
            row = await queries.get_file(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                path=checked_path,
            )
        if row is None:
            raise NotFound(RESOURCE)
        return _file(row, row.content)

    async def stat(self, project_id: UUID, path: str) -> FileEntry:
        """The file at `path` without its content: its version, sha256,
        size and timestamps."""
        validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        with translated(RESOURCE):
            entry = await queries.stat_file_into(
                self._conn,
                FileEntry,
                project_id=project_id,
                owner_id=self._actor,
                path=checked_path,
            )
        if entry is None:
            raise NotFound(RESOURCE)
        return entry

    async def list(
        self,
        project_id: UUID,
        *,
        prefix: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[FileEntry]:
        """One page of the project's files, without content, in byte-wise
        path order."""
        validation.identifier(project_id, "project_id")
        checked_limit = validation.limit(limit)
        lower = "" if prefix is None else validation.prefix(prefix)
        after = ""
        if cursor is not None:
            (after,) = self._cursors.decode(cursor, RESOURCE, str(project_id))
        with translated(RESOURCE):
            # Each row becomes a FileEntry at once: one model per row.
            found = await queries.list_files_into(
                self._conn,
                FileEntry,
                project_id=project_id,
                owner_id=self._actor,
                after_path=after,
                prefix=lower,
                prefix_end=prefix_end(lower) if lower else None,
                row_limit=checked_limit + 1,
            )
        if not found and not await self._projects.exists(project_id):
            raise NotFound(PROJECT)
        items = found[:checked_limit]
        next_cursor = None
        if len(found) > checked_limit:
            next_cursor = self._cursors.encode(
                RESOURCE, str(project_id), [items[-1].path]
            )
        return page(_FILE_PAGE, items, next_cursor)

    async def move(self, project_id: UUID, path: str, new_path: str) -> ProjectFile:
        """Move the file at `path` to `new_path`, content unchanged."""
        validation.identifier(project_id, "project_id")
        source = validation.path(path)
        target = validation.path(new_path, "new_path")
        # The NOT EXISTS guard refuses a taken target without an error; the
        # savepoint keeps the unit of work usable if a concurrent writer takes
        # the target between the guard and the unique index check.
        with translated(RESOURCE):
            await self._conn.execute("SAVEPOINT move_file")
            try:
                row = await queries.move_file(
                    self._conn,
                    new_path=target,
                    project_id=project_id,
                    owner_id=self._actor,
                    path=source,
                )
            except asyncpg.UniqueViolationError:
                # Lost the race for the target: report it as the guard would.
                await self._conn.execute("ROLLBACK TO SAVEPOINT move_file")
                row = None
            except BaseException:
                await self._conn.execute("ROLLBACK TO SAVEPOINT move_file")
                raise
            else:
                await self._conn.execute("RELEASE SAVEPOINT move_file")
        if row is not None:
            return _file(row, row.content)
        if await self._current_version(project_id, source) is None:
            raise NotFound(RESOURCE)
        # The source is there, so new_path refused the move: it is taken (or
        # was, when the move ran). A source gone meanwhile is not found.
        taken = await self._current_version(project_id, target)
        if taken is None and not await self._exists(project_id, source):
            raise NotFound(RESOURCE)
        raise PathTaken(RESOURCE, "new_path is taken", taken)

    async def delete(
        self, project_id: UUID, path: str, *, expected_version: int | None = None
    ) -> None:
        """Delete the file at `path`."""
        validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        expected = validation.expected_version(expected_version)
        with translated(RESOURCE):
            deleted = await queries.delete_file(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                path=checked_path,
                expected_version=expected,
            )
        if deleted is not None:
            return
        raise await unmatched_write(
            RESOURCE,
            expected=expected,
            found=await self._current_version(project_id, checked_path),
        )

    async def sync(
        self, project_id: UUID, files: Mapping[str, str], *, delete_missing: bool = True
    ) -> SyncResult:
        """Make the project's tree equal to `files`, atomically.

        Three statements whatever its size: lock the project, ask which
        paths changed (by sha256), then upsert those and delete the rest at
        once."""
        validation.identifier(project_id, "project_id")
        if not isinstance(files, Mapping):
            raise InvalidInput("files", "must be a mapping of path to content")
        if not isinstance(delete_missing, bool):
            raise InvalidInput("delete_missing", "must be a bool")
        bodies: dict[str, validation.Content] = {}
        for raw_path, raw_content in files.items():
            try:
                bodies[validation.path(raw_path)] = validation.content(
                    raw_content, self._max_content_bytes
                )
            except InvalidInput as refused:
                # Which of the tree's files: the key as given, when a str.
                if not isinstance(raw_path, str):
                    raise
                raise InvalidInput(
                    refused.field, refused.reason, path=raw_path
                ) from None
        paths = builtins.list(bodies)
        with translated(RESOURCE):
            # The row lock makes concurrent syncs of one project take turns,
            # so the result is one caller's tree, never a mix.
            if not await self._lock(project_id):
                raise NotFound(PROJECT)
            changed = await queries.changed_paths(
                self._conn,
                paths=paths,
                hashes=[body.sha256 for body in bodies.values()],
                project_id=project_id,
                owner_id=self._actor,
            )
            counts = await queries.sync_files(
                self._conn,
                paths=changed,
                contents=[bodies[path].text for path in changed],
                sizes=[bodies[path].size_bytes for path in changed],
                hashes=[bodies[path].sha256 for path in changed],
                project_id=project_id,
                owner_id=self._actor,
                delete_missing=delete_missing,
                keep_paths=paths,
            )
        assert counts is not None  # an aggregate SELECT always returns its row
        return SyncResult(
            created=counts.created,
            updated=counts.updated,
            unchanged=len(paths) - counts.created - counts.updated,
            deleted=counts.deleted,
        )

    async def _lock(self, project_id: UUID) -> bool:
        locked = await project_queries.lock_project(
            self._conn, id=project_id, owner_id=self._actor
        )
        return locked is not None
