-- The history of the rows already there (see 20261207035358_history_and_checkpoints.sql):
-- the content of every current file, once per project, as UTF-8 bytes; its
-- version; every agent state's version; all in generation 0, stamped with
-- the time the row was last written. Reads of the old tables take no lock
-- that stops their writers, and the new tables have no reader yet. Rows
-- written while this runs are backfilled by the next file; ON CONFLICT
-- lets a file run again after a failure.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = 0;

INSERT INTO "public"."file_contents" (project_id, owner_id, sha256, size_bytes, content)
SELECT DISTINCT ON (f.project_id, f.sha256)
    f.project_id, f.owner_id, f.sha256, f.size_bytes, convert_to(f.content, 'UTF8')
FROM "public"."project_files" f
WHERE f.content IS NOT NULL
ORDER BY f.project_id, f.sha256
ON CONFLICT (project_id, sha256) DO NOTHING;

INSERT INTO "public"."file_versions"
    (project_id, owner_id, path, version, generation, kind, size_bytes, sha256, created_at)
SELECT f.project_id, f.owner_id, f.path, f.version, 0, f.kind, f.size_bytes, f.sha256, f.updated_at
FROM "public"."project_files" f
WHERE f.content IS NOT NULL
ON CONFLICT (project_id, path, version) DO NOTHING;

INSERT INTO "public"."agent_state_versions" (project_id, owner_id, version, generation, state, created_at)
SELECT s.project_id, s.owner_id, s.version, 0, s.state, s.updated_at
FROM "public"."agent_states" s
ON CONFLICT (project_id, version) DO NOTHING;
