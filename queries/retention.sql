-- Retention: what history and checkpoints keep, and reclaiming content no
-- version names (docs/api.md, "History, checkpoints and retention"). Every
-- statement runs under the project lock held exclusively: no writer is
-- between a version being judged unneeded and its deletion, nor between
-- content being found unnamed and reclaimed.
--
-- A checkpoint at generation G needs, of each path, the highest version
-- written at or before G: the version whose generation is at most G and
-- whose next version's (if any) is above G. That version is kept whatever
-- the policy; so is every current version.
--
-- The cutoff of an age is read from a one-row sub-select: Citus refuses a
-- STABLE function (statement_timestamp) beside a column in a DELETE.

-- name: PruneCheckpoints :execrows
-- Beyond the newest @keep_checkpoints and older than @keep_for.
DELETE FROM checkpoints c
USING (SELECT statement_timestamp() - @keep_for::interval AS at) AS cutoff
WHERE c.project_id = @project_id AND c.owner_id = @owner_id
  AND c.created_at < cutoff.at
  AND c.generation <= (
    SELECT k.generation FROM checkpoints k
    WHERE k.project_id = @project_id AND k.owner_id = @owner_id
    ORDER BY k.generation DESC
    OFFSET @keep_checkpoints LIMIT 1
  );

-- name: PruneFileVersions :execrows
-- Beyond the newest @keep_versions of their path, older than @keep_for,
-- not current and needed by no checkpoint.
DELETE FROM file_versions v
USING (
    SELECT h.path, h.version, h.generation, h.created_at,
        row_number() OVER (PARTITION BY h.path ORDER BY h.version DESC) AS newest_first,
        lead(h.generation) OVER (PARTITION BY h.path ORDER BY h.version) AS next_generation
    FROM file_versions h
    WHERE h.project_id = @project_id AND h.owner_id = @owner_id
) AS history,
    (SELECT statement_timestamp() - @keep_for::interval AS at) AS cutoff
WHERE v.project_id = @project_id AND v.owner_id = @owner_id
  AND v.path = history.path AND v.version = history.version
  AND history.newest_first > @keep_versions::bigint
  AND history.created_at < cutoff.at
  AND NOT EXISTS (
    SELECT 1 FROM project_files f
    WHERE f.project_id = @project_id AND f.path = history.path AND f.version = history.version
  )
  AND NOT EXISTS (
    SELECT 1 FROM checkpoints c
    WHERE c.project_id = @project_id
      AND c.generation >= history.generation
      AND (history.next_generation IS NULL OR c.generation < history.next_generation)
  );

-- name: PruneAgentStateVersions :execrows
-- As PruneFileVersions, for the project's one agent state.
DELETE FROM agent_state_versions v
USING (
    SELECT h.version, h.generation, h.created_at,
        row_number() OVER (ORDER BY h.version DESC) AS newest_first,
        lead(h.generation) OVER (ORDER BY h.version) AS next_generation
    FROM agent_state_versions h
    WHERE h.project_id = @project_id AND h.owner_id = @owner_id
) AS history,
    (SELECT statement_timestamp() - @keep_for::interval AS at) AS cutoff
WHERE v.project_id = @project_id AND v.owner_id = @owner_id
  AND v.version = history.version
  AND history.newest_first > @keep_versions::bigint
  AND history.created_at < cutoff.at
  AND NOT EXISTS (
    SELECT 1 FROM agent_states s
    WHERE s.project_id = @project_id AND s.version = history.version
  )
  AND NOT EXISTS (
    SELECT 1 FROM checkpoints c
    WHERE c.project_id = @project_id
      AND c.generation >= history.generation
      AND (history.next_generation IS NULL OR c.generation < history.next_generation)
  );

-- name: ReclaimContents :one
-- Content no version names any more (a current file's content is its
-- version's): deleted, counted and measured.
WITH reclaimed AS (
    DELETE FROM file_contents c
    WHERE c.project_id = @project_id AND c.owner_id = @owner_id
      AND NOT EXISTS (
        SELECT 1 FROM file_versions v
        WHERE v.project_id = c.project_id AND v.sha256 = c.sha256
      )
    RETURNING c.size_bytes
)
SELECT count(*)::bigint AS contents, coalesce(sum(size_bytes), 0)::bigint AS reclaimed_bytes
FROM reclaimed;
