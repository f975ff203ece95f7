-- Checkpoints: a project's state named at one moment (schema.sql, the
-- history section). A checkpoint is one row, whatever the project's size:
-- it closes the project's generation, and the tree at it is read from the
-- history. Writes (create, restore) run under the project lock held
-- exclusively; reads take no lock: the history at or below a checkpoint's
-- generation changes only by retention, which holds that lock too.

-- name: CreateCheckpoint :one
-- Under the project lock held exclusively: every write so far is in the
-- generation it closes, every later one in the next. The id comes from the
-- caller: a volatile default would make Citus run the insert on the
-- coordinator.
WITH closed AS (
    UPDATE projects p
    SET generation = p.generation + 1
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    RETURNING p.id, p.generation - 1 AS closed_generation
), created AS (
    INSERT INTO checkpoints (project_id, owner_id, id, label, generation)
    SELECT p.id, p.owner_id, @id::uuid, sqlc.narg(label), closed.closed_generation
    FROM projects p
    JOIN closed ON closed.id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    -- Never taken (a new random id); the clause makes Citus name the shard
    -- in RETURNING as it should (without it: "missing FROM-clause entry").
    ON CONFLICT (project_id, id) DO NOTHING
    RETURNING id, project_id, label, created_at, generation
)
SELECT id, project_id, label, created_at, generation FROM created;

-- name: GetCheckpoint :one
SELECT id, project_id, label, created_at, generation
FROM checkpoints
WHERE project_id = @project_id AND owner_id = @owner_id AND id = @id;

-- name: ListCheckpoints :many
-- Newest first; a keyset page below @before_generation (none: the first
-- page).
SELECT id, project_id, label, created_at, generation
FROM checkpoints
WHERE project_id = @project_id AND owner_id = @owner_id
  AND (sqlc.narg(before_generation)::bigint IS NULL
    OR generation < sqlc.narg(before_generation)::bigint)
ORDER BY generation DESC
LIMIT @row_limit;

-- name: DeleteCheckpoint :execrows
-- The versions only it needed become prunable (retention.sql).
DELETE FROM checkpoints
WHERE project_id = @project_id AND owner_id = @owner_id AND id = @id;

-- name: RestoreFiles :one
-- One statement, under the project lock held exclusively: the tree at
-- @generation (each path's highest version written at or before it,
-- unless deleted by then) becomes the current tree. Paths whose content
-- or kind differs are written as new versions (above the floor when the
-- path is free), paths the checkpoint did not have are deleted, the rest
-- are left alone; the history records every change, as a sync would.
WITH project AS (
    SELECT p.id, p.owner_id, p.file_version_floor, p.generation
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
), last_at AS (
    SELECT DISTINCT ON (v.path) v.path, v.kind, v.size_bytes, v.sha256, v.deleted_generation
    FROM file_versions v
    WHERE v.project_id = @project_id AND v.owner_id = @owner_id
      AND v.generation <= @generation
    ORDER BY v.path, v.version DESC
), target AS (
    SELECT l.path, l.kind, l.size_bytes, l.sha256
    FROM last_at l
    WHERE l.deleted_generation IS NULL OR l.deleted_generation > @generation
), changed AS (
    SELECT t.path, t.kind, t.size_bytes, t.sha256
    FROM target t
    LEFT JOIN project_files f
        ON f.project_id = @project_id AND f.owner_id = @owner_id AND f.path = t.path
    WHERE f.sha256 IS DISTINCT FROM t.sha256 OR f.kind IS DISTINCT FROM t.kind
), written AS (
    INSERT INTO project_files (project_id, owner_id, path, kind, size_bytes, sha256, version)
    SELECT p.id, p.owner_id, c.path, c.kind, c.size_bytes, c.sha256, p.file_version_floor + 1
    FROM projects p
    CROSS JOIN changed c
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    ON CONFLICT (project_id, path) DO UPDATE
    SET kind = excluded.kind,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = project_files.version + 1,
        updated_at = excluded.updated_at
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
      AND EXISTS (SELECT 1 FROM project)
      AND NOT EXISTS (SELECT 1 FROM target t WHERE t.path = f.path)
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
    (SELECT count(*) FROM target)::bigint AS kept,
    (SELECT count(*) FROM removed)::bigint AS deleted;

-- name: RestoreAgentState :one
-- The agent state at @generation becomes the current one, as a new
-- version; none then deletes the current one (the floor rises). The same
-- state is left alone.
WITH project AS (
    SELECT p.id, p.owner_id, p.agent_state_version_floor, p.generation
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
), last_at AS (
    SELECT v.state, v.deleted_generation
    FROM agent_state_versions v
    WHERE v.project_id = @project_id AND v.owner_id = @owner_id
      AND v.generation <= @generation
    ORDER BY v.version DESC
    LIMIT 1
), target AS (
    SELECT l.state FROM last_at l
    WHERE l.deleted_generation IS NULL OR l.deleted_generation > @generation
), written AS (
    INSERT INTO agent_states (project_id, owner_id, state, version)
    SELECT p.id, p.owner_id, t.state, p.agent_state_version_floor + 1
    FROM projects p
    CROSS JOIN target t
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    ON CONFLICT (project_id) DO UPDATE
    SET state = excluded.state,
        version = agent_states.version + 1,
        updated_at = excluded.updated_at
    WHERE agent_states.state <> excluded.state
    RETURNING project_id, owner_id, state, version
), versioned AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT p.id, p.owner_id, w.version, p.generation, w.state
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
), removed AS (
    DELETE FROM agent_states s
    WHERE s.project_id = @project_id AND s.owner_id = @owner_id
      AND EXISTS (SELECT 1 FROM project)
      AND NOT EXISTS (SELECT 1 FROM target)
    RETURNING s.version
), marked AS (
    UPDATE agent_state_versions v
    SET deleted_at = statement_timestamp(), deleted_generation = p.generation
    FROM removed, project p
    WHERE v.project_id = @project_id AND v.version = removed.version
), raised AS (
    UPDATE projects
    SET agent_state_version_floor = greatest(projects.agent_state_version_floor, removed.version)
    FROM removed
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
)
SELECT (CASE
    WHEN EXISTS (SELECT 1 FROM written) THEN 'restored'
    WHEN EXISTS (SELECT 1 FROM removed) THEN 'deleted'
    ELSE 'unchanged'
END)::text AS outcome;

-- name: DiffCheckpoints :many
-- The paths whose file differs between the trees at two generations:
-- added (only in the later), removed (only in the earlier), changed.
WITH from_last AS (
    SELECT DISTINCT ON (v.path) v.path, v.kind, v.sha256, v.deleted_generation
    FROM file_versions v
    WHERE v.project_id = @project_id AND v.owner_id = @owner_id
      AND v.generation <= @from_generation
    ORDER BY v.path, v.version DESC
), from_tree AS (
    SELECT path, kind, sha256 FROM from_last
    WHERE deleted_generation IS NULL OR deleted_generation > @from_generation
), to_last AS (
    SELECT DISTINCT ON (v.path) v.path, v.kind, v.sha256, v.deleted_generation
    FROM file_versions v
    WHERE v.project_id = @project_id AND v.owner_id = @owner_id
      AND v.generation <= @to_generation
    ORDER BY v.path, v.version DESC
), to_tree AS (
    SELECT path, kind, sha256 FROM to_last
    WHERE deleted_generation IS NULL OR deleted_generation > @to_generation
)
SELECT coalesce(a.path, b.path)::text AS path,
    (CASE WHEN a.path IS NULL THEN 'added'
          WHEN b.path IS NULL THEN 'removed'
          ELSE 'changed' END)::text AS change
FROM from_tree a
FULL JOIN to_tree b ON b.path = a.path
WHERE a.path IS NULL OR b.path IS NULL OR a.sha256 <> b.sha256 OR a.kind <> b.kind
ORDER BY 1;

-- name: DiffCheckpointWithNow :many
-- As DiffCheckpoints, from a checkpoint's tree to the current files.
WITH from_last AS (
    SELECT DISTINCT ON (v.path) v.path, v.kind, v.sha256, v.deleted_generation
    FROM file_versions v
    WHERE v.project_id = @project_id AND v.owner_id = @owner_id
      AND v.generation <= @from_generation
    ORDER BY v.path, v.version DESC
), from_tree AS (
    SELECT path, kind, sha256 FROM from_last
    WHERE deleted_generation IS NULL OR deleted_generation > @from_generation
), to_tree AS (
    SELECT f.path, f.kind, f.sha256
    FROM project_files f
    WHERE f.project_id = @project_id AND f.owner_id = @owner_id
)
SELECT coalesce(a.path, b.path)::text AS path,
    (CASE WHEN a.path IS NULL THEN 'added'
          WHEN b.path IS NULL THEN 'removed'
          ELSE 'changed' END)::text AS change
FROM from_tree a
FULL JOIN to_tree b ON b.path = a.path
WHERE a.path IS NULL OR b.path IS NULL OR a.sha256 <> b.sha256 OR a.kind <> b.kind
ORDER BY 1;
