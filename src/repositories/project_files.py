"""uow.files: a project's files, addressed by path."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, cast
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from repositories import validation
from repositories._generated import Executor
from repositories._generated import models as rows
from repositories._generated import project_files as queries
from repositories._generated import projects as project_queries
from repositories._guard import Guard, one_call_at_a_time
from repositories._outcomes import once_more, unmatched_write
from repositories._translate import translated
from repositories.errors import InvalidInput, NotFound, PathTaken
from repositories.models import (
    FileEntry,
    FileOutcome,
    FileWrite,
    Page,
    ProjectFile,
    RowModels,
    SyncResult,
    from_row,
)
from repositories.projects import ProjectsRepository
from repositories.settings import UnitOfWorkSettings

RESOURCE = "file"
PROJECT = "project"
_HIGHEST_CODE_POINT = 0x10FFFF
_FILE_PAGE = Page[FileEntry]  # looked up once: subscripting costs each time


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix`, in
    byte-wise (code point) order, or None when there is none."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop()) + 1
        if 0xD800 <= last <= 0xDFFF:  # skip the surrogate block
            last = 0xE000
        if last <= _HIGHEST_CODE_POINT:
            return "".join(chars) + chr(last)
    return None


# Writes return rows without content: the caller's content is the stored one.
ROW_MODELS = RowModels(
    filled_directly=(
        (FileEntry, queries.ListFilesRow),
        (FileEntry, queries.GetFileEntryRow),
    ),
    picked_from=(
        (ProjectFile, queries.PutFileRow, frozenset({"content"})),
        (ProjectFile, queries.CreateFileRow, frozenset({"content"})),
        (ProjectFile, queries.UpdateFileAtVersionRow, frozenset({"content"})),
        (ProjectFile, queries.GetFileEntryRow, frozenset({"content"})),
        (ProjectFile, rows.ProjectFile, frozenset()),
        (ProjectFile, queries.MoveFileRow, frozenset()),
    ),
)


def _file(row: BaseModel, content: str) -> ProjectFile:
    # Writes return rows without content: the caller's content is the stored one.
    return from_row(ProjectFile, row, content=content)


def _path_after(last: FileEntry) -> list[str]:
    # What list reads back from a cursor: the next page starts after `last`.
    return [last.path]


class ProjectFilesRepository:
    """`uow.files`: a project's files, addressed by path."""

    def __init__(
        self,
        conn: Executor,
        actor: UUID,
        settings: UnitOfWorkSettings,
        projects: ProjectsRepository,
        guard: Guard,
    ) -> None:
        self._conn = conn
        self._actor = actor
        self._settings = settings
        self._projects = projects
        self._guard = guard

    async def _current_version(self, project_id: UUID, path: str) -> int | None:
        with translated(RESOURCE):
            return await queries.get_file_version(
                self._conn, project_id=project_id, owner_id=self._actor, path=path
            )

    async def _exists(self, project_id: UUID, path: str) -> bool:
        return await self._current_version(project_id, path) is not None

    @one_call_at_a_time
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
        project_id = validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        body = validation.content(content, self._settings.max_content_bytes)
        expected = validation.expected_version(expected_version)
        self._guard.will_lock(project_id)
        args: dict[str, Any] = {
            "project_id": project_id,
            "owner_id": self._actor,
            "path": checked_path,
            "content": body.text,
            "size_bytes": body.size_bytes,
            "sha256": body.sha256,
        }
        written = await self._write(args, body.text, expected)
        if written is not None:
            return written
        current = await self._entry(project_id, checked_path)
        # An update at version n that matched nothing, while the row is at
        # version n with other content: the row postdates the statement's
        # snapshot (it waited for the project lock). This unit of work holds
        # the lock now, so the second run sees the row and nobody else can
        # change it.
        if (
            expected
            and current is not None
            and current.version == expected
            and current.sha256 != body.sha256
        ):
            written = await self._write(args, body.text, expected)
            if written is not None:
                return written
            current = await self._entry(project_id, checked_path)
        return await self._unwritten(project_id, current, body, expected)

    async def _write(
        self, args: dict[str, Any], text: str, expected: int | None
    ) -> FileWrite | None:
        """One statement of a put; None when it matched no row. A put without
        expected_version and a create (0) upsert, and see rows another writer
        committed while they waited for the project lock; an update at
        version n does not (the lock order: queries/project_files.sql)."""
        with translated(RESOURCE):
            if expected is None:
                put = await queries.put_file(self._conn, **args)
                if put is not None:
                    outcome = cast(FileOutcome, put.outcome)
                    return FileWrite(file=_file(put, text), outcome=outcome)
            elif expected == 0:
                created = await queries.create_file(self._conn, **args)
                if created is not None:
                    return FileWrite(file=_file(created, text), outcome="created")
            else:
                updated = await queries.update_file_at_version(
                    self._conn, **args, expected_version=expected
                )
                if updated is not None:
                    return FileWrite(file=_file(updated, text), outcome="updated")
        return None

    async def _entry(
        self, project_id: UUID, path: str
    ) -> queries.GetFileEntryRow | None:
        with translated(RESOURCE):
            return await queries.get_file_entry(
                self._conn, project_id=project_id, owner_id=self._actor, path=path
            )

    async def _unwritten(
        self,
        project_id: UUID,
        current: queries.GetFileEntryRow | None,
        body: validation.Content,
        expected: int | None,
    ) -> FileWrite:
        """The write matched no row: unchanged content, a version conflict, or
        no such project. Only this slow path pays for the extra query."""
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

    @one_call_at_a_time
    async def get(self, project_id: UUID, path: str) -> ProjectFile:
        """The file at `path`, with its content."""
        project_id = validation.identifier(project_id, "project_id")
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

    @one_call_at_a_time
    async def stat(self, project_id: UUID, path: str) -> FileEntry:
        """The file at `path` without its content: its version, sha256,
        size and timestamps."""
        project_id = validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        with translated(RESOURCE):
            entry = await queries.get_file_entry_into(
                self._conn,
                FileEntry,
                project_id=project_id,
                owner_id=self._actor,
                path=checked_path,
            )
        if entry is None:
            raise NotFound(RESOURCE)
        return entry

    @one_call_at_a_time
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
        project_id = validation.identifier(project_id, "project_id")
        checked_limit = validation.limit(limit)
        lower = "" if prefix is None else validation.prefix(prefix)
        after = ""
        if cursor is not None:
            (after,) = self._settings.cursors.decode(cursor, RESOURCE, str(project_id))
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
        return self._settings.cursors.page(
            _FILE_PAGE, found, checked_limit, RESOURCE, str(project_id), _path_after
        )

    @one_call_at_a_time
    async def move(self, project_id: UUID, path: str, new_path: str) -> ProjectFile:
        """Move the file at `path` to `new_path`, content unchanged."""
        project_id = validation.identifier(project_id, "project_id")
        source = validation.path(path)
        target = validation.path(new_path, "new_path")
        self._guard.will_lock(project_id)
        row = await self._move(project_id, source, target)
        if row is not None:
            return _file(row, row.content)
        source_version = await self._current_version(project_id, source)
        target_version = await self._current_version(project_id, target)
        if source_version is not None and target_version is None:
            # The source is there and the target free, yet nothing moved: the
            # source postdates the statement's snapshot (see put).
            row = await self._move(project_id, source, target)
            if row is not None:
                return _file(row, row.content)
            source_version = await self._current_version(project_id, source)
            target_version = await self._current_version(project_id, target)
        if source_version is None:
            raise NotFound(RESOURCE)
        # The source is there, so new_path refused the move: it is taken (or
        # was, when the move ran). A source gone meanwhile is not found.
        if target_version is None and not await self._exists(project_id, source):
            raise NotFound(RESOURCE)
        raise PathTaken(RESOURCE, "new_path is taken", target_version)

    async def _move(
        self, project_id: UUID, source: str, target: str
    ) -> queries.MoveFileRow | None:
        """One statement of a move; None when it moved nothing."""
        # The NOT EXISTS guard refuses a taken target without an error; the
        # savepoint keeps the unit of work usable when the target is taken
        # after the statement's snapshot (by the previous holder of the
        # project lock), which the unique index check then finds.
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
        return row

    @one_call_at_a_time
    async def delete(
        self, project_id: UUID, path: str, *, expected_version: int | None = None
    ) -> None:
        """Delete the file at `path`."""
        project_id = validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        expected = validation.expected_version(expected_version)
        self._guard.will_lock(project_id)
        delete = partial(
            queries.delete_file,
            self._conn,
            project_id=project_id,
            owner_id=self._actor,
            path=checked_path,
            expected_version=expected,
        )
        with translated(RESOURCE):
            deleted, found = await once_more(
                delete,
                partial(self._current_version, project_id, checked_path),
                expected,
            )
        if deleted is None:
            raise await unmatched_write(RESOURCE, expected=expected, found=found)

    @one_call_at_a_time
    async def sync(
        self, project_id: UUID, files: Mapping[str, str], *, delete_missing: bool = True
    ) -> SyncResult:
        """Make the project's tree equal to `files`, atomically.

        Three statements whatever its size: lock the project, ask which
        paths changed (by sha256), then upsert those and delete the rest at
        once."""
        project_id = validation.identifier(project_id, "project_id")
        if not isinstance(files, Mapping):
            raise InvalidInput("files", "must be a mapping of path to content")
        if not isinstance(delete_missing, bool):
            raise InvalidInput("delete_missing", "must be a bool")
        bodies = validation.tree(
            files,
            max_content_bytes=self._settings.max_content_bytes,
            max_files=self._settings.max_sync_files,
            max_bytes=self._settings.max_sync_bytes,
        )
        paths = [*bodies]
        self._guard.will_lock(project_id)
        with translated(RESOURCE):
            # The project lock, in a statement of its own so that the next
            # ones read what the previous holder wrote: writers of one
            # project take turns (the lock order: queries/project_files.sql),
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
