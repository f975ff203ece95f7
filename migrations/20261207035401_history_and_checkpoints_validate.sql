-- The rows written between the backfill's snapshot and the keys get their
-- history (the keys check every row written since), then the keys and the
-- kind check are validated: scans that let reads and writes go on.
-- Give up after 5s waiting for a lock rather than queue the table's other queries behind it (apply again later)
SET LOCAL lock_timeout = '5s';
-- No time limit once the locks are held: scans and index builds take what the data needs
SET LOCAL statement_timeout = 0;
-- The history of rows written while the backfill ran (none since the keys).
INSERT INTO "public"."file_contents" (project_id, owner_id, sha256, size_bytes, content)
SELECT DISTINCT ON (f.project_id, f.sha256)
    f.project_id, f.owner_id, f.sha256, f.size_bytes, convert_to(f.content, 'UTF8')
FROM "public"."project_files" f
WHERE f.content IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM "public"."file_versions" v
    WHERE v.project_id = f.project_id AND v.path = f.path AND v.version = f.version
  )
ORDER BY f.project_id, f.sha256
ON CONFLICT (project_id, sha256) DO NOTHING;

INSERT INTO "public"."file_versions"
    (project_id, owner_id, path, version, generation, kind, size_bytes, sha256, created_at)
SELECT f.project_id, f.owner_id, f.path, f.version, 0, f.kind, f.size_bytes, f.sha256, f.updated_at
FROM "public"."project_files" f
WHERE f.content IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM "public"."file_versions" v
    WHERE v.project_id = f.project_id AND v.path = f.path AND v.version = f.version
  )
ON CONFLICT (project_id, path, version) DO NOTHING;

INSERT INTO "public"."agent_state_versions" (project_id, owner_id, version, generation, state, created_at)
SELECT s.project_id, s.owner_id, s.version, 0, s.state, s.updated_at
FROM "public"."agent_states" s
WHERE NOT EXISTS (
    SELECT 1 FROM "public"."agent_state_versions" v
    WHERE v.project_id = s.project_id AND v.version = s.version
)
ON CONFLICT (project_id, version) DO NOTHING;

-- Validate "agent_states_version_fkey" on table "agent_states": a scan that lets reads and writes go on
ALTER TABLE "public"."agent_states" VALIDATE CONSTRAINT "agent_states_version_fkey";
-- Validate "project_files_kind" on table "project_files": a scan that lets reads and writes go on
ALTER TABLE "public"."project_files" VALIDATE CONSTRAINT "project_files_kind";
-- Validate "project_files_version_fkey" on table "project_files": a scan that lets reads and writes go on
ALTER TABLE "public"."project_files" VALIDATE CONSTRAINT "project_files_version_fkey";
