-- File history, content stored once per project, binary files and
-- checkpoints (schema.sql, the history section), in five files so that no
-- lock stops the application for longer than a catalog change:
--   1. this one: the new tables, the new columns and the kind check, all on
--      empty tables or with constant defaults (nothing is rewritten or
--      scanned);
--   2. the backfill: each current file's content to file_contents (as
--      UTF-8 bytes) and its version to file_versions, each agent state's
--      to agent_state_versions, in generation 0; it reads the old tables
--      with no lock that stops their writers;
--   3. the keys from the current rows to their versions (NOT VALID), after
--      the backfill of the rows written while it ran, under a lock that
--      holds writers (not readers) for that little;
--   4. their validation, a scan that lets reads and writes go on;
--   5. the inline content column dropped.
-- Taken from `migrate diff`, then split and reordered, also for Citus: the
-- new tables are created without their foreign keys, distributed with
-- projects where Citus is installed (a no-op elsewhere), and only then
-- given their keys (Citus refuses a key from a local table to a
-- distributed one); a statement that runs on several shards comes after.
-- From file 3 on, a writer that does not record history (the previous
-- release) is refused by the keys rather than write around the history.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = 0;

CREATE TABLE "public"."agent_state_versions" ("project_id" uuid NOT NULL, "owner_id" uuid NOT NULL, "version" bigint NOT NULL, "generation" bigint NOT NULL, "state" jsonb NOT NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "deleted_at" timestamptz NULL, "deleted_generation" bigint NULL, PRIMARY KEY ("project_id", "version"), CONSTRAINT "agent_state_versions_deleted_together" CHECK ((deleted_at IS NULL) = (deleted_generation IS NULL)), CONSTRAINT "agent_state_versions_state_is_object" CHECK (jsonb_typeof(state) = 'object'::text), CONSTRAINT "agent_state_versions_version_positive" CHECK (version >= 1));
CREATE TABLE "public"."checkpoints" ("project_id" uuid NOT NULL, "owner_id" uuid NOT NULL, "id" uuid NOT NULL DEFAULT gen_random_uuid(), "label" text NULL, "generation" bigint NOT NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("project_id", "id"), CONSTRAINT "checkpoints_project_id_generation_key" UNIQUE ("project_id", "generation"), CONSTRAINT "checkpoints_label_length" CHECK ((char_length(label) >= 1) AND (char_length(label) <= 200)), CONSTRAINT "checkpoints_label_no_control_chars" CHECK (label !~ '[\u0001-\u001f\u007f-\u009f]'::text), CONSTRAINT "checkpoints_label_trimmed" CHECK (label = btrim(label)));
CREATE TABLE "public"."file_contents" ("project_id" uuid NOT NULL, "owner_id" uuid NOT NULL, "sha256" text NOT NULL, "size_bytes" bigint NOT NULL, "content" bytea NOT NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("project_id", "sha256"), CONSTRAINT "file_contents_content_size" CHECK (size_bytes <= 5242880), CONSTRAINT "file_contents_sha256_matches_content" CHECK (sha256 = encode(sha256(content), 'hex'::text)), CONSTRAINT "file_contents_size_matches_content" CHECK (size_bytes = octet_length(content)));
CREATE TABLE "public"."file_versions" ("project_id" uuid NOT NULL, "owner_id" uuid NOT NULL, "path" text NOT NULL COLLATE "C", "version" bigint NOT NULL, "generation" bigint NOT NULL, "kind" text NOT NULL, "size_bytes" bigint NOT NULL, "sha256" text NOT NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "deleted_at" timestamptz NULL, "deleted_generation" bigint NULL, PRIMARY KEY ("project_id", "path", "version"), CONSTRAINT "file_versions_deleted_together" CHECK ((deleted_at IS NULL) = (deleted_generation IS NULL)), CONSTRAINT "file_versions_kind" CHECK (kind = ANY (ARRAY['text'::text, 'binary'::text])), CONSTRAINT "file_versions_size" CHECK ((size_bytes >= 0) AND (size_bytes <= 5242880)), CONSTRAINT "file_versions_version_positive" CHECK (version >= 1));
CREATE INDEX "file_versions_project_id_sha256_idx" ON "public"."file_versions" ("project_id", "sha256");
COMMENT ON TABLE "public"."agent_state_versions" IS 'Every saved agent state of a project, the current one included, until retention prunes it.';
COMMENT ON TABLE "public"."checkpoints" IS 'Named states of a project (every file and the agent state) it can be restored to; a row, whatever the project''s size.';
COMMENT ON TABLE "public"."file_contents" IS 'File contents of a project, stored once per project under their SHA-256 whatever the number of versions and paths holding them.';
COMMENT ON COLUMN "public"."file_contents"."owner_id" IS 'Copy of projects.owner_id (enforced by the composite foreign key) so row-level security needs no join.';
COMMENT ON TABLE "public"."file_versions" IS 'Every version of every path of a project, the current ones included, until retention prunes it.';
COMMENT ON COLUMN "public"."file_versions"."generation" IS 'The project''s generation when the version was written: a checkpoint at generation G holds it if it is its path''s highest version at or before G.';

-- Distribute the new tables with projects where Citus is installed and
-- projects is distributed (20261130104436_citus_distribution.sql); a NOTICE
-- and nothing else elsewhere. Citus's functions are resolved only when the
-- branch runs.
DO $distribute$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE NOTICE 'citus is not installed in database %: the new tables stay local',
            current_database();
        RETURN;
    END IF;
    IF NOT EXISTS (
        SELECT FROM pg_dist_partition WHERE logicalrelid = 'public.projects'::regclass
    ) THEN
        RAISE NOTICE 'projects is not distributed: the new tables stay local';
        RETURN;
    END IF;
    SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
    PERFORM create_distributed_table(
        'public.file_contents', 'project_id', colocate_with => 'public.projects'
    );
    PERFORM create_distributed_table(
        'public.file_versions', 'project_id', colocate_with => 'public.projects'
    );
    PERFORM create_distributed_table(
        'public.agent_state_versions', 'project_id', colocate_with => 'public.projects'
    );
    PERFORM create_distributed_table(
        'public.checkpoints', 'project_id', colocate_with => 'public.projects'
    );
    RAISE NOTICE 'distributed: file_contents, file_versions, agent_state_versions, checkpoints (by project id, co-located)';
END
$distribute$;
ALTER TABLE "public"."agent_state_versions" ADD CONSTRAINT "agent_state_versions_project_fkey" FOREIGN KEY ("project_id", "owner_id") REFERENCES "public"."projects" ("id", "owner_id") ON UPDATE NO ACTION ON DELETE CASCADE;
ALTER TABLE "public"."checkpoints" ADD CONSTRAINT "checkpoints_project_fkey" FOREIGN KEY ("project_id", "owner_id") REFERENCES "public"."projects" ("id", "owner_id") ON UPDATE NO ACTION ON DELETE CASCADE;
ALTER TABLE "public"."file_contents" ADD CONSTRAINT "file_contents_project_fkey" FOREIGN KEY ("project_id", "owner_id") REFERENCES "public"."projects" ("id", "owner_id") ON UPDATE NO ACTION ON DELETE CASCADE;
ALTER TABLE "public"."file_versions" ADD CONSTRAINT "file_versions_content_fkey" FOREIGN KEY ("project_id", "sha256") REFERENCES "public"."file_contents" ("project_id", "sha256") ON UPDATE NO ACTION ON DELETE NO ACTION;
ALTER TABLE "public"."file_versions" ADD CONSTRAINT "file_versions_project_fkey" FOREIGN KEY ("project_id", "owner_id") REFERENCES "public"."projects" ("id", "owner_id") ON UPDATE NO ACTION ON DELETE CASCADE;

-- Modify "projects" table (after the distribution: Citus distributes a
-- table only before any statement of the transaction ran on several shards)
ALTER TABLE "public"."projects" ADD COLUMN "generation" bigint NOT NULL DEFAULT 0;

-- Modify "project_files" table: the kind of each file (every file so far is
-- text); its content from now on in file_contents.
-- schemaflow:allow-destructive new rows keep their content in file_contents; the column goes four files on (20261207035402_drop_inline_content.sql)
ALTER TABLE "public"."project_files" ALTER COLUMN "content" DROP NOT NULL;
-- One subcommand per statement: Citus runs ADD CONSTRAINT only alone.
ALTER TABLE "public"."project_files" ADD COLUMN "kind" text NOT NULL DEFAULT 'text';
ALTER TABLE "public"."project_files" ADD CONSTRAINT "project_files_kind" CHECK (kind = ANY (ARRAY['text'::text, 'binary'::text])) NOT VALID;
COMMENT ON TABLE "public"."project_files" IS 'The current files of a project addressed by relative POSIX path; version counts writes for optimistic concurrency.';
COMMENT ON COLUMN "public"."project_files"."sha256" IS 'Lowercase hex SHA-256 of the content''s bytes (UTF-8 for text); names the content in file_contents and lets sync detect unchanged files.';

-- Row-level security, policies and privileges of the new tables.
CREATE POLICY "agent_state_versions_owner_isolation" ON "public"."agent_state_versions" AS PERMISSIVE FOR ALL TO "app_user" USING ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid)) WITH CHECK ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid));
CREATE POLICY "checkpoints_owner_isolation" ON "public"."checkpoints" AS PERMISSIVE FOR ALL TO "app_user" USING ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid)) WITH CHECK ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid));
CREATE POLICY "file_contents_owner_isolation" ON "public"."file_contents" AS PERMISSIVE FOR ALL TO "app_user" USING ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid)) WITH CHECK ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid));
CREATE POLICY "file_versions_owner_isolation" ON "public"."file_versions" AS PERMISSIVE FOR ALL TO "app_user" USING ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid)) WITH CHECK ((owner_id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid));
ALTER TABLE "public"."agent_state_versions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."agent_state_versions" FORCE ROW LEVEL SECURITY;
ALTER TABLE "public"."checkpoints" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."checkpoints" FORCE ROW LEVEL SECURITY;
ALTER TABLE "public"."file_contents" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."file_contents" FORCE ROW LEVEL SECURITY;
ALTER TABLE "public"."file_versions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."file_versions" FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."agent_state_versions" TO "app_user";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."checkpoints" TO "app_user";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."file_contents" TO "app_user";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."file_versions" TO "app_user";
