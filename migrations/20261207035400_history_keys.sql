-- The keys from the current rows to their versions (schema.sql), added
-- NOT VALID: from here on every row written must have its version (a
-- writer that does not record history, the previous release, is refused
-- rather than write around it), and the rows written since the backfill
-- read its snapshot get theirs in the next file, which then validates the
-- keys. Adding a key NOT VALID is a catalog change under a brief lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = 0;

-- Modify "project_files" table
ALTER TABLE "public"."project_files" ADD CONSTRAINT "project_files_version_fkey" FOREIGN KEY ("project_id", "path", "version") REFERENCES "public"."file_versions" ("project_id", "path", "version") ON UPDATE NO ACTION ON DELETE NO ACTION DEFERRABLE INITIALLY DEFERRED NOT VALID;
-- Modify "agent_states" table
ALTER TABLE "public"."agent_states" ADD CONSTRAINT "agent_states_version_fkey" FOREIGN KEY ("project_id", "version") REFERENCES "public"."agent_state_versions" ("project_id", "version") ON UPDATE NO ACTION ON DELETE NO ACTION DEFERRABLE INITIALLY DEFERRED NOT VALID;
