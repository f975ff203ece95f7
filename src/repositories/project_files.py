"""uow.files: a project's files, addressed by path."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import cast
from uuid import UUID

from pydantic import BaseModel

from repositories import validation
from repositories._generated import Executor
from repositories._generated import project_files as queries
from repositories._generated.projects import LockProjectForWritesRow
from repositories._guard import Guard, one_call_at_a_time
from repositories._outcomes import unmatched_write, version_mismatch, written_or_current
from repositories._project_lock import ProjectLock
from repositories._translate import translated
from repositories.errors import InvalidInput, NotFound, PathTaken, VersionConflict
from repositories.models import (
    FileEntry,
    FileOutcome,
    FileVersion,
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
_VERSION_PAGE = Page[FileVersion]


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
# Content comes from the database as bytes, and as a str for a text file.
ROW_MODELS = RowModels(
    filled_directly=(
        (FileEntry, queries.ListFilesRow),
        (FileEntry, queries.GetFileEntryRow),
        (FileVersion, queries.ListFileHistoryRow),
    ),
    picked_from=(
        (ProjectFile, queries.PutFileRow, frozenset({"content"})),
        (ProjectFile, queries.CreateFileRow, frozenset({"content"})),
        (ProjectFile, queries.UpdateFileAtVersionRow, frozenset({"content"})),
        (ProjectFile, queries.GetFileEntryRow, frozenset({"content"})),
        (ProjectFile, queries.GetFileRow, frozenset({"content"})),
        (ProjectFile, queries.MoveFileRow, frozenset({"content"})),
        # A version's time is its creation: it is never updated.
        (
            ProjectFile,
            queries.GetFileAtVersionRow,
            frozenset({"content", "updated_at"}),
        ),
    ),
)


def _file(row: BaseModel, content: str | bytes) -> ProjectFile:
    # Writes return rows without content: the caller's content is the stored one.
    return from_row(ProjectFile, row, content=content)


def _stored_content(kind: str, data: bytes) -> str | bytes:
    """Stored bytes as the API hands them back: a text file's as its str."""
    return data.decode("utf-8") if kind == "text" else data


def _fits(
    body: validation.Content, expected: int | None, current: queries.GetFileEntryRow
) -> bool:
    """Whether a put that matched nothing would apply to the row as read."""
    changes = current.sha256 != body.sha256 or current.kind != body.kind
    return changes and expected in (None, current.version)


def _holds(
    stored: queries.GetFileEntryRow | LockProjectForWritesRow,
    body: validation.Content,
) -> bool:
    return stored.sha256 == body.sha256 and stored.kind == body.kind


def _unchanged_or_refused(
    stored: queries.GetFileEntryRow | LockProjectForWritesRow,
    content: str | bytes,
    expected: int | None,
) -> FileWrite:
    """A put whose content the file holds already: unchanged when the
    version fits `expected`, else VersionConflict; nothing is written."""
    if expected in (None, stored.version):
        return FileWrite(file=_file(stored, content), outcome="unchanged")
    reason = version_mismatch(expected, stored.version)
    raise VersionConflict(RESOURCE, reason, stored.version)


def _path_after(last: FileEntry) -> list[str]:
    # What list reads back from a cursor: the next page starts after `last`.
    return [last.path]


def _version_after(last: FileVersion) -> list[str]:
    # What history reads back from a cursor: the next page is below `last`.
    return [str(last.version)]


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
        self._lock = ProjectLock(conn, actor, guard)

    async def _current_version(self, project_id: UUID, path: str) -> int | None:
        with translated(RESOURCE):
            return await queries.get_file_version(
                self._conn, project_id=project_id, owner_id=self._actor, path=path
            )

    @one_call_at_a_time
    async def put(
        self,
        project_id: UUID,
        path: str,
        content: str | bytes,
        *,
        expected_version: int | None = None,
    ) -> FileWrite:
        """Write `content` at `path`: create the file, update it, or leave it
        unchanged when it holds that content already. A str is a text file,
        bytes a binary one; the previous content stays in the history."""
        project_id = validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        body = validation.content(content, self._settings.max_content_bytes)
        expected = validation.expected_version(expected_version)
        stored = await self._lock.hold_unless_stored(
            project_id, checked_path, body.sha256, body.kind
        )
        if stored is not None:  # that content is there: nothing to write
            return _unchanged_or_refused(stored, body.value, expected)
        with translated(RESOURCE):
            written, current = await written_or_current(
                partial(self._write, project_id, checked_path, body, expected),
                partial(self._entry, project_id, checked_path),
                partial(_fits, body, expected),
            )
        if written is not None:
            return written
        if current is not None and _holds(current, body):
            return _unchanged_or_refused(current, body.value, expected)
        raise await unmatched_write(
            RESOURCE,
            expected=expected,
            found=None if current is None else current.version,
            parent=PROJECT,
            parent_exists=partial(self._projects.exists, project_id),
        )

    async def _write(
        self,
        project_id: UUID,
        path: str,
        body: validation.Content,
        expected: int | None,
    ) -> FileWrite | None:
        """The statement of a put; None when it matched no row."""
        if expected is None:
            put = await queries.put_file(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                path=path,
                kind=body.kind,
                content=body.data,
                size_bytes=body.size_bytes,
                sha256=body.sha256,
            )
            if put is None:
                return None
            outcome = cast(FileOutcome, put.outcome)
            return FileWrite(file=_file(put, body.value), outcome=outcome)
        if expected == 0:
            created = await queries.create_file(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                path=path,
                kind=body.kind,
                content=body.data,
                size_bytes=body.size_bytes,
                sha256=body.sha256,
            )
            if created is None:
                return None
            return FileWrite(file=_file(created, body.value), outcome="created")
        updated = await queries.update_file_at_version(
            self._conn,
            kind=body.kind,
            content=body.data,
            size_bytes=body.size_bytes,
            sha256=body.sha256,
            project_id=project_id,
            owner_id=self._actor,
            path=path,
            expected_version=expected,
        )
        if updated is None:
            return None
        return FileWrite(file=_file(updated, body.value), outcome="updated")

    async def _entry(
        self, project_id: UUID, path: str
    ) -> queries.GetFileEntryRow | None:
        return await queries.get_file_entry(
            self._conn, project_id=project_id, owner_id=self._actor, path=path
        )

    @one_call_at_a_time
    async def get(
        self, project_id: UUID, path: str, *, version: int | None = None
    ) -> ProjectFile:
        """The file at `path`, with its content (a str for a text file,
        bytes for a binary one); with `version`, that version of the path
        from its history."""
        project_id = validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        if version is not None:
            wanted = validation.version(version)
            return await self._get_version(project_id, checked_path, wanted)
        with translated(RESOURCE):
            row = await queries.get_file(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                path=checked_path,
            )
        if row is None:
            raise NotFound(RESOURCE)
        return _file(row, _stored_content(row.kind, row.content))

    async def _get_version(
        self, project_id: UUID, path: str, version: int
    ) -> ProjectFile:
        with translated(RESOURCE):
            row = await queries.get_file_at_version(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                path=path,
                version=version,
            )
        if row is None:
            raise NotFound(RESOURCE)
        content = _stored_content(row.kind, row.content)
        return from_row(ProjectFile, row, content=content, updated_at=row.created_at)

    @one_call_at_a_time
    async def history(
        self,
        project_id: UUID,
        path: str,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[FileVersion]:
        """One page of the versions of `path`, newest first, deleted ones
        included (`deleted_at` set); an empty page for a path that never
        held a file."""
        project_id = validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        checked_limit = validation.limit(limit)
        below = None
        if cursor is not None:
            (after,) = self._settings.cursors.decode(
                cursor, "file version", f"{project_id}/{checked_path}"
            )
            below = int(after)  # what _version_after wrote, signed
        with translated(RESOURCE):
            found = await queries.list_file_history_into(
                self._conn,
                FileVersion,
                project_id=project_id,
                owner_id=self._actor,
                path=checked_path,
                before_version=below,
                row_limit=checked_limit + 1,
            )
        if not found and not await self._projects.exists(project_id):
            raise NotFound(PROJECT)
        return self._settings.cursors.page(
            _VERSION_PAGE,
            found,
            checked_limit,
            "file version",
            f"{project_id}/{checked_path}",
            _version_after,
        )

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
        await self._lock.hold(project_id, whole_project=True, missing=RESOURCE)
        with translated(RESOURCE):
            row = await queries.move_file(
                self._conn,
                new_path=target,
                project_id=project_id,
                owner_id=self._actor,
                path=source,
            )
            if row is not None:
                return _file(row, _stored_content(row.kind, row.content))
            # The lock is held exclusively: what is read now is what the
            # move saw. No source is NotFound; else the target was taken.
            if await self._current_version(project_id, source) is None:
                raise NotFound(RESOURCE)
            taken = await self._current_version(project_id, target)
        raise PathTaken(RESOURCE, "new_path is taken", taken)

    @one_call_at_a_time
    async def delete(
        self, project_id: UUID, path: str, *, expected_version: int | None = None
    ) -> None:
        """Delete the file at `path`."""
        project_id = validation.identifier(project_id, "project_id")
        checked_path = validation.path(path)
        expected = validation.expected_version(expected_version)
        await self._lock.hold(project_id, whole_project=True, missing=RESOURCE)
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
            found = await self._current_version(project_id, checked_path)
        raise await unmatched_write(RESOURCE, expected=expected, found=found)

    @one_call_at_a_time
    async def sync(
        self,
        project_id: UUID,
        files: Mapping[str, str | bytes],
        *,
        delete_missing: bool = True,
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
        # Exclusive: no other writer of the project is between the two
        # statements, so the result is one caller's tree, never a mix.
        await self._lock.hold(project_id, whole_project=True)
        with translated(RESOURCE):
            changed = await queries.changed_paths(
                self._conn,
                paths=paths,
                hashes=[body.sha256 for body in bodies.values()],
                kinds=[body.kind for body in bodies.values()],
                project_id=project_id,
                owner_id=self._actor,
            )
            counts = await queries.sync_files(
                self._conn,
                paths=changed,
                contents=[bodies[path].data for path in changed],
                sizes=[bodies[path].size_bytes for path in changed],
                hashes=[bodies[path].sha256 for path in changed],
                kinds=[bodies[path].kind for path in changed],
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
