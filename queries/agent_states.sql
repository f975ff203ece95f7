-- One agent state per project. The INSERTs select the project row so that a
-- project that is missing or not the actor's inserts nothing. The state comes
-- as JSON text the repository wrote (see validation.state), cast to jsonb.
-- Every write runs under the project lock, as the file writes do
-- (project_files.sql). Versions never repeat, as for files: a state created
-- starts above the project's agent_state_version_floor, which a delete
-- raises under the exclusive lock.

-- name: GetAgentState :one
SELECT * FROM agent_states
WHERE project_id = @project_id AND owner_id = @owner_id;

-- name: GetAgentStateVersion :one
-- After a write that matched nothing: the version alone, so that Conflict
-- is told even when the stored state cannot be decoded.
SELECT version FROM agent_states
WHERE project_id = @project_id AND owner_id = @owner_id;

-- name: UpsertAgentState :one
-- Last writer wins; every save counts as a version.
-- updated_at comes from excluded, i.e. its default statement_timestamp():
-- Citus takes only IMMUTABLE functions in DO UPDATE SET.
INSERT INTO agent_states (project_id, owner_id, state, version)
SELECT p.id, p.owner_id, (@state::text)::jsonb, p.agent_state_version_floor + 1
FROM projects p
WHERE p.id = @project_id AND p.owner_id = @owner_id
ON CONFLICT (project_id) DO UPDATE
SET state = excluded.state,
    version = agent_states.version + 1,
    updated_at = excluded.updated_at
RETURNING *;

-- name: CreateAgentState :one
-- expected_version 0: only when none exists yet.
INSERT INTO agent_states (project_id, owner_id, state, version)
SELECT p.id, p.owner_id, (@state::text)::jsonb, p.agent_state_version_floor + 1
FROM projects p
WHERE p.id = @project_id AND p.owner_id = @owner_id
ON CONFLICT (project_id) DO NOTHING
RETURNING *;

-- name: SwapAgentState :one
-- Compare-and-swap: applies only at the expected version.
UPDATE agent_states
SET state = (@state::text)::jsonb,
    version = version + 1,
    updated_at = statement_timestamp()
WHERE project_id = @project_id AND owner_id = @owner_id AND version = @expected_version
RETURNING *;

-- name: DeleteAgentState :one
-- Only at the expected version, when one is given; the floor rises to the
-- deleted state's version.
WITH removed AS (
    DELETE FROM agent_states s
    WHERE s.project_id = @project_id AND s.owner_id = @owner_id
      AND (sqlc.narg(expected_version)::bigint IS NULL OR s.version = sqlc.narg(expected_version)::bigint)
    RETURNING s.version
), raised AS (
    UPDATE projects
    SET agent_state_version_floor = greatest(projects.agent_state_version_floor, removed.version)
    FROM removed
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
)
SELECT version FROM removed;
