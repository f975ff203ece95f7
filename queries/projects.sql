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

-- name: LockProjectForWrites :one
-- The project lock, taken here and nowhere else, before a unit of work's
-- first write of a project's files, agent state or row (docs/api.md,
-- "Writers of one project", has the rules and why they cannot deadlock):
-- a transaction-level advisory lock on @lock_key, the project's key,
-- shared or @exclusive. A lock taken by a statement on the project row
-- routes with it on a distributed cluster. No row: no such project for
-- the actor, and no lock taken.
-- With @path, @unless_sha256 and @unless_kind (a put), the file at @path
-- is read as well, and when it holds that content already, of that kind,
-- no lock is taken (locked
-- is false): a put of unchanged content writes nothing and waits for
-- nobody. Other writes pass the path '' (no file has it: schema.sql's path
-- checks) rather than NULL, which would make the join's condition a
-- constant that Citus on PostgreSQL 15 and 16 refuses in an outer join.
-- The lock functions sit in one-row sub-selects, each run only when its
-- branch is taken.
SELECT p.id AS project_id,
    f.path, f.size_bytes, f.sha256, f.version, f.created_at, f.updated_at, f.kind,
    (CASE
        WHEN f.sha256 = sqlc.narg(unless_sha256)::text
            AND f.kind = sqlc.narg(unless_kind)::text THEN false
        WHEN @exclusive::boolean
            THEN (SELECT true FROM pg_advisory_xact_lock(@lock_key::bigint))
        ELSE (SELECT true FROM pg_advisory_xact_lock_shared(@lock_key::bigint))
    END)::boolean AS locked
FROM projects p
LEFT JOIN project_files f
    ON f.project_id = p.id AND f.owner_id = p.owner_id
    AND f.path = @path::text
WHERE p.id = @id AND p.owner_id = @owner_id;

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
