-- One agent state per project. The INSERTs select the project row so that a
-- project that is missing or not the actor's inserts nothing. The state comes
-- as JSON text the repository wrote (see validation.state), cast to jsonb.
-- Every write runs under the project lock, as the file writes do
-- (project_files.sql). Versions never repeat, as for files: a state created
-- starts above the project's agent_state_version_floor, which a delete
-- raises under the exclusive lock.
-- History, as for files: every write adds the version row in the same
-- statement, stamped with the project's generation, and a delete marks the
-- deleted version.

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
WITH written AS (
    INSERT INTO agent_states (project_id, owner_id, state, version)
    SELECT p.id, p.owner_id, (@state::text)::jsonb, p.agent_state_version_floor + 1
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    ON CONFLICT (project_id) DO UPDATE
    SET state = excluded.state,
        version = agent_states.version + 1,
        updated_at = excluded.updated_at
    RETURNING project_id, owner_id, state, version, created_at, updated_at
), versioned AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT p.id, p.owner_id, w.version, p.generation, w.state
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
)
SELECT project_id, owner_id, state, version, created_at, updated_at FROM written;

-- name: CreateAgentState :one
-- expected_version 0: only when none exists yet.
WITH written AS (
    INSERT INTO agent_states (project_id, owner_id, state, version)
    SELECT p.id, p.owner_id, (@state::text)::jsonb, p.agent_state_version_floor + 1
    FROM projects p
    WHERE p.id = @project_id AND p.owner_id = @owner_id
    ON CONFLICT (project_id) DO NOTHING
    RETURNING project_id, owner_id, state, version, created_at, updated_at
), versioned AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT p.id, p.owner_id, w.version, p.generation, w.state
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
)
SELECT project_id, owner_id, state, version, created_at, updated_at FROM written;

-- name: SwapAgentState :one
-- Compare-and-swap: applies only at the expected version.
WITH written AS (
    UPDATE agent_states s
    SET state = (@state::text)::jsonb,
        version = s.version + 1,
        updated_at = statement_timestamp()
    WHERE s.project_id = @project_id AND s.owner_id = @owner_id AND s.version = @expected_version
    RETURNING s.project_id, s.owner_id, s.state, s.version, s.created_at, s.updated_at
), versioned AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT p.id, p.owner_id, w.version, p.generation, w.state
    FROM projects p
    JOIN written w ON w.project_id = p.id
    WHERE p.id = @project_id AND p.owner_id = @owner_id
)
SELECT project_id, owner_id, state, version, created_at, updated_at FROM written;

-- name: DeleteAgentState :one
-- Only at the expected version, when one is given; the floor rises to the
-- deleted state's version, which the history marks deleted.
WITH removed AS (
    DELETE FROM agent_states s
    WHERE s.project_id = @project_id AND s.owner_id = @owner_id
      AND (sqlc.narg(expected_version)::bigint IS NULL OR s.version = sqlc.narg(expected_version)::bigint)
    RETURNING s.version
), marked AS (
    UPDATE agent_state_versions v
    SET deleted_at = statement_timestamp(), deleted_generation = p.generation
    FROM removed, projects p
    WHERE v.project_id = @project_id AND v.version = removed.version
      AND p.id = @project_id AND p.owner_id = @owner_id
), raised AS (
    UPDATE projects
    SET agent_state_version_floor = greatest(projects.agent_state_version_floor, removed.version)
    FROM removed
    WHERE projects.id = @project_id AND projects.owner_id = @owner_id
)
SELECT version FROM removed;
