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

-- name: GetFile :one
SELECT * FROM project_files
WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path;

-- name: GetFileVersion :one
SELECT version FROM project_files
WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path;

-- name: PutFile :one
-- One statement for all three outcomes. The existing row is locked first
-- (FOR UPDATE reads its latest committed version): identical content comes
-- back as "unchanged" and nothing is written; otherwise the upsert inserts
-- or updates. No row means no such project for the actor, or identical
-- content at a path another writer created after this statement's
-- snapshot (the caller reads the row to tell which).
-- updated_at comes from excluded, i.e. its default statement_timestamp():
-- Citus takes only IMMUTABLE functions in DO UPDATE SET.
WITH current_file AS (
    SELECT f.project_id, f.path, f.size_bytes, f.sha256, f.version, f.created_at, f.updated_at
    FROM project_files f
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = @path
    FOR UPDATE OF f
), written AS (
    INSERT INTO project_files (project_id, owner_id, path, content, size_bytes, sha256, version)
    SELECT p.id, p.owner_id, @path, @content, @size_bytes, @sha256, p.file_version_floor + 1
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
      AND NOT EXISTS (SELECT 1 FROM current_file c WHERE c.sha256 = @sha256)
    ON CONFLICT (project_id, path) DO UPDATE
    SET content = excluded.content,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = project_files.version + 1,
        updated_at = excluded.updated_at
    WHERE project_files.sha256 <> excluded.sha256
    RETURNING project_id, path, size_bytes, sha256, version, created_at, updated_at,
        CASE WHEN xmax = 0 THEN 'created' ELSE 'updated' END AS outcome
)
SELECT w.project_id, w.path, w.size_bytes, w.sha256, w.version, w.created_at, w.updated_at,
    w.outcome::text AS outcome
FROM written w
UNION ALL
SELECT c.project_id, c.path, c.size_bytes, c.sha256, c.version, c.created_at, c.updated_at,
    'unchanged'::text AS outcome
FROM current_file c
WHERE c.sha256 = @sha256;

-- name: CreateFile :one
-- expected_version 0: only when the path is free.
INSERT INTO project_files (project_id, owner_id, path, content, size_bytes, sha256, version)
SELECT p.id, p.owner_id, @path, @content, @size_bytes, @sha256, p.file_version_floor + 1
FROM projects p
WHERE p.id = @project_id AND p.owner_id = @owner_id
ON CONFLICT (project_id, path) DO NOTHING
RETURNING project_id, path, size_bytes, sha256, version, created_at, updated_at;

-- name: UpdateFileAtVersion :one
-- expected_version n: applies only at version n and only if content changes.
UPDATE project_files
SET content = @content,
    size_bytes = @size_bytes,
    sha256 = @sha256,
    version = version + 1,
    updated_at = statement_timestamp()
WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path
  AND version = @expected_version AND sha256 <> @sha256
RETURNING project_id, path, size_bytes, sha256, version, created_at, updated_at;

-- name: GetFileEntry :one
-- @into
-- A file's metadata without its content (files.stat, and put's look at the
-- current row): the content column is not read, so a large file is neither
-- detoasted nor sent, whatever its size.
SELECT project_id, path, size_bytes, sha256, version, created_at, updated_at
FROM project_files
WHERE project_id = @project_id AND owner_id = @owner_id AND path = @path;

-- name: ListFiles :many
-- @into
-- Keyset page in byte-wise path order. A prefix is the range
-- [prefix, prefix_end): one index range scan, no LIKE escaping.
SELECT project_id, path, size_bytes, sha256, version, created_at, updated_at
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
-- The file leaves @path, so the floor rises to its version, and it arrives
-- at @new_path above the floor: greatest(version, floor) + 1 is both.
WITH moved AS (
    UPDATE project_files f
    SET path = @new_path,
        version = greatest(f.version,
            (SELECT l.file_version_floor FROM projects l WHERE l.id = @project_id AND l.owner_id = @owner_id)) + 1,
        updated_at = statement_timestamp()
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = @path
      AND NOT EXISTS (
        SELECT 1 FROM project_files taken
        WHERE taken.project_id = f.project_id AND taken.path = @new_path::text
      )
    RETURNING f.project_id, f.owner_id, f.path, f.content, f.size_bytes, f.sha256,
        f.version, f.created_at, f.updated_at
), raised AS (
    UPDATE projects
    SET file_version_floor = greatest(projects.file_version_floor, moved.version - 1)
    FROM moved
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
)
SELECT project_id, owner_id, path, content, size_bytes, sha256, version, created_at, updated_at
FROM moved;

-- name: DeleteFile :one
-- The floor rises to the deleted file's version (the caller holds the
-- project lock exclusively).
WITH removed AS (
    DELETE FROM project_files f
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = @path
      AND (sqlc.narg(expected_version)::bigint IS NULL OR f.version = sqlc.narg(expected_version)::bigint)
    RETURNING f.version
), raised AS (
    UPDATE projects
    SET file_version_floor = greatest(projects.file_version_floor, removed.version)
    FROM removed
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
)
SELECT version FROM removed;

-- name: ChangedPaths :many
-- First half of a sync: which of the given paths are new or differ by hash,
-- so that unchanged contents never travel to the server.
SELECT given.path::text AS path
FROM (
    SELECT unnest(@paths::text[]) AS path, unnest(@hashes::text[]) AS sha256
) AS given
LEFT JOIN project_files f
    ON f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = given.path
WHERE f.sha256 IS DISTINCT FROM given.sha256;

-- name: SyncFiles :one
-- Second half, one statement: upsert the changed files, delete every file
-- not in @keep_paths (when asked), count what happened. The caller holds the
-- project lock exclusively, so nothing changed since ChangedPaths.
-- updated_at comes from excluded, i.e. its default statement_timestamp():
-- Citus takes only IMMUTABLE functions in DO UPDATE SET.
WITH given AS (
    -- Set-returning functions side by side in a select list advance together.
    SELECT
        unnest(@paths::text[]) AS path,
        unnest(@contents::text[]) AS content,
        unnest(@sizes::bigint[]) AS size_bytes,
        unnest(@hashes::text[]) AS sha256
), written AS (
    -- Files new at a path start above the floor. The floor is read from
    -- the statement's snapshot, and the files this statement removes are
    -- at other paths (not in @keep_paths, which holds every given path).
    INSERT INTO project_files (project_id, owner_id, path, content, size_bytes, sha256, version)
    SELECT @project_id, @owner_id, given.path, given.content, given.size_bytes, given.sha256,
        project.file_version_floor + 1
    FROM given
    CROSS JOIN (
        SELECT file_version_floor FROM projects
        WHERE id = @project_id AND owner_id = @owner_id
    ) AS project
    ON CONFLICT (project_id, path) DO UPDATE
    SET content = excluded.content,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = project_files.version + 1,
        updated_at = excluded.updated_at
    WHERE project_files.sha256 <> excluded.sha256
    RETURNING (xmax = 0) AS inserted
), removed AS (
    DELETE FROM project_files f
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id
      AND @delete_missing::boolean
      AND f.path <> ALL (@keep_paths::text[])
    RETURNING f.version
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
