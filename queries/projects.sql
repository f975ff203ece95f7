-- Every statement carries the acting user's id (@owner_id) and filters on it,
-- so checking ownership and acting are one round trip; row-level security
-- backs this up in the database. Columns are named, never `*`: the version
-- floors (schema.sql) are the file and agent-state queries' business.

-- name: CreateProject :one
-- Selecting the actor's user row turns "no such user" into no row instead of
-- a foreign-key error that would abort the unit of work.
INSERT INTO projects (owner_id, name, description)
SELECT u.id, @name, sqlc.narg(description)
FROM users u
WHERE u.id = @owner_id
RETURNING id, owner_id, name, description, created_at, updated_at;

-- name: GetProject :one
SELECT id, owner_id, name, description, created_at, updated_at
FROM projects
WHERE id = @id AND owner_id = @owner_id;

-- name: ProjectExists :one
-- Used only after a statement matched nothing, to tell NotFound from Conflict.
SELECT EXISTS (
    SELECT 1 FROM projects WHERE id = @id AND owner_id = @owner_id
) AS found;

-- name: LockProject :one
-- The project lock every write of its files or agent state takes first
-- (the lock order: project_files.sql); a sync takes it in a statement of its
-- own, so that the statements after it read what the previous holder wrote.
SELECT id FROM projects
WHERE id = @id AND owner_id = @owner_id
FOR NO KEY UPDATE;

-- name: ListProjectsFirst :many
-- @into
SELECT id, owner_id, name, description, created_at, updated_at
FROM projects
WHERE owner_id = @owner_id
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- name: ListProjectsAfter :many
-- @into
-- Keyset page: rows strictly after (created_at, id) in newest-first order.
SELECT id, owner_id, name, description, created_at, updated_at
FROM projects
WHERE owner_id = @owner_id
  AND (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid)
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- name: UpdateProject :one
-- Only the fields flagged set_* change; updated_at moves only on a real change.
-- The statement's time comes from a one-row subquery, not from inside the
-- CASE: Citus refuses non-IMMUTABLE functions in CASE.
UPDATE projects
SET name = CASE WHEN @set_name::boolean THEN @name::text ELSE name END,
    description = CASE WHEN @set_description::boolean THEN sqlc.narg(description)::text ELSE description END,
    updated_at = CASE
        WHEN (@set_name::boolean AND name IS DISTINCT FROM @name::text)
          OR (@set_description::boolean AND description IS DISTINCT FROM sqlc.narg(description)::text)
        THEN clock.now ELSE updated_at END
FROM (SELECT statement_timestamp() AS now) AS clock
WHERE id = @id AND owner_id = @owner_id
RETURNING projects.id, projects.owner_id, projects.name, projects.description,
    projects.created_at, projects.updated_at;

-- name: DeleteProject :execrows
DELETE FROM projects
WHERE id = @id AND owner_id = @owner_id;
