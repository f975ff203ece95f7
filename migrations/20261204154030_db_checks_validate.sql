-- Validates the constraints the previous file added: a full scan of each
-- table (of project_files, hashing every file's content), under a lock
-- (SHARE UPDATE EXCLUSIVE) that lets reads and writes go on, so it may take
-- as long as it needs.
-- A row that breaks a constraint stops this file, naming the constraint.
-- The API never wrote one, with one exception: before the agent-state size
-- counted numbers as jsonb prints them, a state of thousands of tiny floats
-- (1e-300 is 302 characters in jsonb) could pass 1 MiB as the API counted
-- it and be over 1.5 MiB as text. Find such states with
--   SELECT project_id FROM agent_states
--   WHERE octet_length(state::text) > 1572864;
-- and shorten or delete them, then run this file again.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = 0;

ALTER TABLE "public"."agent_states" VALIDATE CONSTRAINT "agent_states_state_size";
ALTER TABLE "public"."project_files" VALIDATE CONSTRAINT "project_files_sha256_matches_content";
ALTER TABLE "public"."projects" VALIDATE CONSTRAINT "projects_description_length";
