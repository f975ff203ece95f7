-- Files of a project, addressed by path. Writes return the row without its
-- content: the caller already holds the content it sent, and it may be MiBs.
--
-- Every write runs after its unit of work holds the project lock
-- (LockProjectForWrites in projects.sql; docs/api.md, "Writers of one
-- project", says which writes take it shared and which exclusive, and why
-- no order of writes deadlocks). The statements here take no lock of
-- their own beyond the rows they write.
--
-- Versions never repeat for a path (schema.sql, projects.file_version_floor):
-- a file created at a path starts at the project's floor + 1, and every
-- statement that takes a file off a path raises the floor to its version.
-- Only writes that hold the lock exclusively raise the floor, so a write
-- holding it shared reads a floor nobody changes until it commits.
--
-- History (schema.sql, file_versions): each statement that writes a file
-- also stores its content (once per project: ON CONFLICT DO NOTHING) and
-- adds the version row, stamped with the project's generation read under
-- the same lock; a statement that takes a file off its path marks that
-- version deleted. Content is bytes; `kind` says whether the API hands it
-- back as text.

-- name: GetFile :one
-- The current file with its content.
SELECT f.project_id, f.path, f.size_bytes, f.sha256, f.version, f.created_at,
    f.updated_at, f.kind, c.content
FROM project_files f
JOIN file_contents c ON c.project_id = f.project_id AND c.sha256 = f.sha256
WHERE f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = @path;

-- name: GetFileAtVersion :one
-- One version from the history, with its content; a deleted version is
-- still a version of the path (deleted_at says so).
SELECT v.project_id, v.path, v.size_bytes, v.sha256, v.version, v.created_at,
    v.kind, v.deleted_at, c.content
FROM file_versions v
JOIN file_contents c ON c.project_id = v.project_id AND c.sha256 = v.sha256
WHERE v.project_id = @project_id AND v.owner_id = @owner_id AND v.path = @path
  AND v.version = @version;

-- name: GetFileVersion :one
SELECT version FROM project_files
WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path;

-- name: ListFileHistory :many
-- @into
-- A path's versions, newest first; a keyset page below @before_version
-- (none: the first page).
SELECT project_id, path, version, kind, size_bytes, sha256, created_at, deleted_at
FROM file_versions
WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path
  AND (sqlc.narg(before_version)::bigint IS NULL OR version < sqlc.narg(before_version)::bigint)
ORDER BY version DESC
LIMIT @row_limit;

-- name: PutFile :one
-- One statement for all three outcomes. The existing row is locked first
-- (FOR UPDATE reads its latest committed version): identical content of
-- the same kind comes back as "unchanged" and nothing is written;
-- otherwise the content is stored (unless the project holds it), the
-- upsert inserts or updates, and the version is added to the history. No
-- row means no such project for the actor, or identical content at a path
-- another writer created after this statement's snapshot (the caller
-- reads the row to tell which).
-- updated_at comes from excluded, i.e. its default statement_timestamp():
-- Citus takes only IMMUTABLE functions in DO UPDATE SET.
WITH current_file AS (
    SELECT f.project_id, f.path, f.size_bytes, f.sha256, f.version, f.created_at,
        f.updated_at, f.kind
    FROM project_files f
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = @path
    FOR UPDATE OF f
), stored AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    SELECT p.id, p.owner_id, @sha256, @size_bytes, @content::bytea
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
      AND NOT EXISTS (
        SELECT 1 FROM current_file c WHERE c.sha256 = @sha256 AND c.kind = @kind::text
      )
    ON CONFLICT (project_id, sha256) DO NOTHING
), written AS (
    INSERT INTO project_files (project_id, owner_id, path, kind, size_bytes, sha256, version)
    SELECT p.id, p.owner_id, @path, @kind::text, @size_bytes, @sha256, p.file_version_floor + 1
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
      AND NOT EXISTS (
        SELECT 1 FROM current_file c WHERE c.sha256 = @sha256 AND c.kind = @kind::text
      )
    ON CONFLICT (project_id, path) DO UPDATE
    SET kind = excluded.kind,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = project_files.version + 1,
        updated_at = excluded.updated_at
    WHERE project_files.sha256 <> excluded.sha256 OR project_files.kind <> excluded.kind
    RETURNING project_id, owner_id, path, size_bytes, sha256, version, created_at,
        updated_at, kind, CASE WHEN xmax = 0 THEN 'created' ELSE 'updated' END AS outcome
), versioned AS (
    INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT p.id, p.owner_id, w.path, w.version, p.generation, w.kind, w.size_bytes, w.sha256
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
)
SELECT w.project_id, w.path, w.size_bytes, w.sha256, w.version, w.created_at, w.updated_at,
    w.kind, w.outcome::text AS outcome
FROM written w
UNION ALL
SELECT c.project_id, c.path, c.size_bytes, c.sha256, c.version, c.created_at, c.updated_at,
    c.kind, 'unchanged'::text AS outcome
FROM current_file c
WHERE c.sha256 = @sha256 AND c.kind = @kind::text;

-- name: CreateFile :one
-- expected_version 0: only when the path is free.
WITH stored AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    SELECT p.id, p.owner_id, @sha256, @size_bytes, @content::bytea
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
      AND NOT EXISTS (
        SELECT 1 FROM project_files f
        WHERE f.project_id = @project_id AND f.path = @path::text
      )
    ON CONFLICT (project_id, sha256) DO NOTHING
), written AS (
    INSERT INTO project_files (project_id, owner_id, path, kind, size_bytes, sha256, version)
    SELECT p.id, p.owner_id, @path, @kind::text, @size_bytes, @sha256, p.file_version_floor + 1
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    ON CONFLICT (project_id, path) DO NOTHING
    RETURNING project_id, owner_id, path, size_bytes, sha256, version, created_at, updated_at, kind
), versioned AS (
    INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT p.id, p.owner_id, w.path, w.version, p.generation, w.kind, w.size_bytes, w.sha256
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
)
SELECT project_id, path, size_bytes, sha256, version, created_at, updated_at, kind
FROM written;

-- name: UpdateFileAtVersion :one
-- expected_version n: applies only at version n and only if the content or
-- its kind changes.
WITH stored AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    SELECT p.id, p.owner_id, @sha256, @size_bytes, @content::bytea
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
      AND EXISTS (
        SELECT 1 FROM project_files f
        WHERE f.project_id = @project_id AND f.path = @path::text
          AND f.version = @expected_version
          AND (f.sha256 <> @sha256 OR f.kind <> @kind::text)
      )
    ON CONFLICT (project_id, sha256) DO NOTHING
), written AS (
    UPDATE project_files
    SET kind = @kind::text,
        size_bytes = @size_bytes,
        sha256 = @sha256,
        version = version + 1,
        updated_at = statement_timestamp()
    WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path
      AND version = @expected_version
      AND (sha256 <> @sha256 OR kind <> @kind::text)
    RETURNING project_id, owner_id, path, size_bytes, sha256, version, created_at, updated_at, kind
), versioned AS (
    INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT p.id, p.owner_id, w.path, w.version, p.generation, w.kind, w.size_bytes, w.sha256
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
)
SELECT project_id, path, size_bytes, sha256, version, created_at, updated_at, kind
FROM written;

-- name: GetFileEntry :one
-- @into
-- A file's metadata without its content (files.stat, and put's look at the
-- current row): no content is read, whatever the file's size.
SELECT project_id, path, size_bytes, sha256, version, created_at, updated_at, kind
FROM project_files
WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path;

-- name: ListFiles :many
-- @into
-- Keyset page in byte-wise path order. A prefix is the range
-- [prefix, prefix_end): one index range scan, no LIKE escaping.
SELECT project_id, path, size_bytes, sha256, version, created_at, updated_at, kind
FROM project_files
WHERE project_id = @project_id AND owner_id = @owner_id
  AND path > @after_path::text
  AND path >= @prefix::text
  AND (sqlc.narg(prefix_end)::text IS NULL OR path < sqlc.narg(prefix_end)::text)
ORDER BY path
LIMIT @row_limit;

-- name: MoveFile :one
-- Moves only onto a free path; a taken one matches nothing (Conflict). The
-- caller holds the project lock exclusively, so the check that the path is
-- free cannot be overtaken.
-- The file leaves @path, so the floor rises to its version (which the
-- history marks deleted), and it arrives at @new_path above the floor:
-- greatest(version, floor) + 1 is both; the history gains that version.
WITH project AS (
    SELECT p.id, p.owner_id, p.file_version_floor, p.generation
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
), moved AS (
    UPDATE project_files f
    SET path = @new_path,
        version = greatest(f.version, (SELECT file_version_floor FROM project)) + 1,
        updated_at = statement_timestamp()
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = @path
      AND NOT EXISTS (
        SELECT 1 FROM project_files taken
        WHERE taken.project_id = f.project_id AND taken.path = @new_path::text
      )
    RETURNING f.project_id, f.owner_id, f.path, f.size_bytes, f.sha256,
        f.version, f.created_at, f.updated_at, f.kind
), versioned AS (
    INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT p.id, p.owner_id, m.path, m.version, p.generation, m.kind, m.size_bytes, m.sha256
    FROM projects p
    JOIN moved m ON m.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
), left_path AS (
    -- The version the file had at @path: its path's highest. (Read here,
    -- not in a WITH clause of its own: Citus runs the clauses one after
    -- another, and would read @path's file after the move.)
    UPDATE file_versions v
    SET deleted_at = statement_timestamp(), deleted_generation = p.generation
    FROM moved, project p
    WHERE v.project_id = @project_id AND v.path = @path
      AND v.version = (
        SELECT max(h.version) FROM file_versions h
        WHERE h.project_id = @project_id AND h.path = @path
      )
), raised AS (
    UPDATE projects
    SET file_version_floor = greatest(projects.file_version_floor, moved.version - 1)
    FROM moved
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
)
SELECT m.project_id, m.path, m.size_bytes, m.sha256, m.version, m.created_at,
    m.updated_at, m.kind, c.content
FROM moved m
JOIN file_contents c ON c.project_id = @project_id AND c.sha256 = m.sha256;

-- name: DeleteFile :one
-- The floor rises to the deleted file's version, which the history marks
-- deleted (the caller holds the project lock exclusively).
WITH removed AS (
    DELETE FROM project_files f
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = @path
      AND (sqlc.narg(expected_version)::bigint IS NULL OR f.version = sqlc.narg(expected_version)::bigint)
    RETURNING f.version
), marked AS (
    UPDATE file_versions v
    SET deleted_at = statement_timestamp(), deleted_generation = p.generation
    FROM removed, projects p
    WHERE v.project_id = @project_id AND v.path = @path AND v.version = removed.version
      AND p.id = @project_id AND p.owner_id = @owner_id
), raised AS (
    UPDATE projects
    SET file_version_floor = greatest(projects.file_version_floor, removed.version)
    FROM removed
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
)
SELECT version FROM removed;

-- name: ChangedPaths :many
-- First half of a sync: which of the given paths are new or differ by hash
-- or kind, so that unchanged contents never travel to the server.
SELECT given.path::text AS path
FROM (
    SELECT unnest(@paths::text[]) AS path, unnest(@hashes::text[]) AS sha256,
        unnest(@kinds::text[]) AS kind
) AS given
LEFT JOIN project_files f
    ON f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = given.path
WHERE f.sha256 IS DISTINCT FROM given.sha256 OR f.kind IS DISTINCT FROM given.kind;

-- name: SyncFiles :one
-- Second half, one statement: store the new contents, upsert the changed
-- files and add their versions, delete every file not in @keep_paths (when
-- asked) and mark those versions deleted, count what happened. The caller
-- holds the project lock exclusively, so nothing changed since ChangedPaths.
-- updated_at comes from excluded, i.e. its default statement_timestamp():
-- Citus takes only IMMUTABLE functions in DO UPDATE SET.
WITH given AS (
    -- Set-returning functions side by side in a select list advance together.
    SELECT
        unnest(@paths::text[]) AS path,
        unnest(@contents::bytea[]) AS content,
        unnest(@sizes::bigint[]) AS size_bytes,
        unnest(@hashes::text[]) AS sha256,
        unnest(@kinds::text[]) AS kind
), project AS (
    SELECT p.id, p.owner_id, p.file_version_floor, p.generation
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
), stored AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    SELECT DISTINCT ON (given.sha256) p.id, p.owner_id, given.sha256, given.size_bytes, given.content
    FROM projects p
    CROSS JOIN given
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    ORDER BY given.sha256
    ON CONFLICT (project_id, sha256) DO NOTHING
), written AS (
    -- Files new at a path start above the floor. The floor is read from
    -- the statement's snapshot, and the files this statement removes are
    -- at other paths (not in @keep_paths, which holds every given path).
    INSERT INTO project_files (project_id, owner_id, path, kind, size_bytes, sha256, version)
    SELECT p.id, p.owner_id, given.path, given.kind, given.size_bytes, given.sha256,
        p.file_version_floor + 1
    FROM projects p
    CROSS JOIN given
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    ON CONFLICT (project_id, path) DO UPDATE
    SET kind = excluded.kind,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = project_files.version + 1,
        updated_at = excluded.updated_at
    WHERE project_files.sha256 <> excluded.sha256 OR project_files.kind <> excluded.kind
    RETURNING project_id, owner_id, path, version, kind, size_bytes, sha256, (xmax = 0) AS inserted
), versioned AS (
    INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT p.id, p.owner_id, w.path, w.version, p.generation, w.kind, w.size_bytes, w.sha256
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
), removed AS (
    DELETE FROM project_files f
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id
      AND @delete_missing::boolean
      AND f.path <> ALL (@keep_paths::text[])
    RETURNING f.path, f.version
), marked AS (
    UPDATE file_versions v
    SET deleted_at = statement_timestamp(), deleted_generation = p.generation
    FROM removed, project p
    WHERE v.project_id = @project_id AND v.path = removed.path AND v.version = removed.version
), raised AS (
    UPDATE projects
    SET file_version_floor = greatest(projects.file_version_floor, gone.version)
    FROM (SELECT max(version) AS version FROM removed) AS gone
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
      AND gone.version IS NOT NULL
)
SELECT
    (SELECT count(*) FROM written WHERE inserted)::bigint AS created,
    (SELECT count(*) FROM written WHERE NOT inserted)::bigint AS updated,
    (SELECT count(*) FROM removed)::bigint AS deleted;
