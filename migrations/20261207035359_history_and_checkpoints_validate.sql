-- Give up after 5s waiting for a lock rather than queue the table's other queries behind it (apply again later)
SET LOCAL lock_timeout = '5s';
-- No time limit once the locks are held: scans and index builds take what the data needs
SET LOCAL statement_timeout = 0;
-- Validate "agent_states_version_fkey" on table "agent_states": a scan that lets reads and writes go on
ALTER TABLE "public"."agent_states" VALIDATE CONSTRAINT "agent_states_version_fkey";
-- Validate "project_files_kind" on table "project_files": a scan that lets reads and writes go on
ALTER TABLE "public"."project_files" VALIDATE CONSTRAINT "project_files_kind";
-- Validate "project_files_version_fkey" on table "project_files": a scan that lets reads and writes go on
ALTER TABLE "public"."project_files" VALIDATE CONSTRAINT "project_files_version_fkey";
