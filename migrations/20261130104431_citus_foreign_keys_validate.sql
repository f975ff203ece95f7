-- Validates the keys the previous file replaced: a full scan of each table,
-- under a lock (SHARE UPDATE EXCLUSIVE) that lets reads and writes go on, so
-- it may take as long as it needs.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = 0;

ALTER TABLE "public"."project_files" VALIDATE CONSTRAINT "project_files_project_fkey";
ALTER TABLE "public"."agent_states" VALIDATE CONSTRAINT "agent_states_project_fkey";
