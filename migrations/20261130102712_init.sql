-- Create "users" table
CREATE TABLE "public"."users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "email" text NOT NULL, "email_verified" boolean NOT NULL DEFAULT false, "image" text NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "updated_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("id"));
-- Create index "users_email_lower_key" to table: "users"
CREATE UNIQUE INDEX "users_email_lower_key" ON "public"."users" ((lower(email)));
-- Set comment to table: "users"
COMMENT ON TABLE "public"."users" IS 'Accounts of people; owned by the auth layer (better-auth shape) and the root of every tenant''s data.';
-- Create "verifications" table
CREATE TABLE "public"."verifications" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "identifier" text NOT NULL, "value" text NOT NULL, "expires_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "updated_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("id"));
-- Create index "verifications_identifier_idx" to table: "verifications"
CREATE INDEX "verifications_identifier_idx" ON "public"."verifications" ("identifier");
-- Set comment to table: "verifications"
COMMENT ON TABLE "public"."verifications" IS 'Short-lived secrets (e-mail verification, password reset); not tied to a user row because the user may not exist yet.';
-- Create "accounts" table
CREATE TABLE "public"."accounts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "provider_id" text NOT NULL, "account_id" text NOT NULL, "user_id" uuid NOT NULL, "access_token" text NULL, "refresh_token" text NULL, "id_token" text NULL, "access_token_expires_at" timestamptz NULL, "refresh_token_expires_at" timestamptz NULL, "scope" text NULL, "password" text NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "updated_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("id"), CONSTRAINT "accounts_provider_id_account_id_key" UNIQUE ("provider_id", "account_id"), CONSTRAINT "accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "accounts_user_id_idx" to table: "accounts"
CREATE INDEX "accounts_user_id_idx" ON "public"."accounts" ("user_id");
-- Set comment to table: "accounts"
COMMENT ON TABLE "public"."accounts" IS 'Sign-in methods linked to a user (OAuth identities, or provider "credential" with a password hash).';
-- Set comment to column: "password" on table: "accounts"
COMMENT ON COLUMN "public"."accounts"."password" IS 'A password hash, never the password; NULL for OAuth identities.';
-- Create "projects" table
CREATE TABLE "public"."projects" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "owner_id" uuid NOT NULL, "name" text NOT NULL, "description" text NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "updated_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("id"), CONSTRAINT "projects_id_owner_id_key" UNIQUE ("id", "owner_id"), CONSTRAINT "projects_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "public"."users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "projects_name_length" CHECK ((char_length(name) >= 1) AND (char_length(name) <= 200)), CONSTRAINT "projects_name_no_control_chars" CHECK (name !~ '[\u0001-\u001f\u007f-\u009f]'::text), CONSTRAINT "projects_name_trimmed" CHECK (name = btrim(name)));
-- Create index "projects_owner_id_created_at_id_idx" to table: "projects"
CREATE INDEX "projects_owner_id_created_at_id_idx" ON "public"."projects" ("owner_id", "created_at" DESC, "id" DESC);
-- Set comment to table: "projects"
COMMENT ON TABLE "public"."projects" IS 'A user''s workspace; deleting it removes its files and agent state with it.';
-- Create "agent_states" table
CREATE TABLE "public"."agent_states" ("project_id" uuid NOT NULL, "owner_id" uuid NOT NULL, "state" jsonb NOT NULL, "version" bigint NOT NULL DEFAULT 1, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "updated_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("project_id"), CONSTRAINT "agent_states_project_fkey" FOREIGN KEY ("project_id", "owner_id") REFERENCES "public"."projects" ("id", "owner_id") ON UPDATE CASCADE ON DELETE CASCADE, CONSTRAINT "agent_states_state_is_object" CHECK (jsonb_typeof(state) = 'object'::text), CONSTRAINT "agent_states_version_positive" CHECK (version >= 1));
-- Set comment to table: "agent_states"
COMMENT ON TABLE "public"."agent_states" IS 'The agent''s working memory for a project; version enables compare-and-swap saves.';
-- Set comment to column: "owner_id" on table: "agent_states"
COMMENT ON COLUMN "public"."agent_states"."owner_id" IS 'Copy of projects.owner_id (enforced by the composite foreign key) so row-level security needs no join.';
-- Create "project_files" table
CREATE TABLE "public"."project_files" ("project_id" uuid NOT NULL, "owner_id" uuid NOT NULL, "path" text NOT NULL COLLATE "C", "content" text NOT NULL, "size_bytes" bigint NOT NULL, "sha256" text NOT NULL, "version" bigint NOT NULL DEFAULT 1, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "updated_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("project_id", "path"), CONSTRAINT "project_files_project_fkey" FOREIGN KEY ("project_id", "owner_id") REFERENCES "public"."projects" ("id", "owner_id") ON UPDATE CASCADE ON DELETE CASCADE, CONSTRAINT "project_files_path_chars" CHECK (path !~ '[\\\u0001-\u001f\u007f-\u009f]'::text), CONSTRAINT "project_files_path_length" CHECK ((octet_length(path) >= 1) AND (octet_length(path) <= 1024)), CONSTRAINT "project_files_path_shape" CHECK ((path ~ '^[^/]+(/[^/]+)*$'::text) AND (path !~ '(^|/)\.\.?(/|$)'::text)), CONSTRAINT "project_files_sha256_hex" CHECK (sha256 ~ '^[0-9a-f]{64}$'::text), CONSTRAINT "project_files_size_bytes_matches_content" CHECK ((size_bytes >= 0) AND (size_bytes = octet_length(content))), CONSTRAINT "project_files_version_positive" CHECK (version >= 1));
-- Set comment to table: "project_files"
COMMENT ON TABLE "public"."project_files" IS 'Text files of a project addressed by relative POSIX path; version counts writes for optimistic concurrency.';
-- Set comment to column: "owner_id" on table: "project_files"
COMMENT ON COLUMN "public"."project_files"."owner_id" IS 'Copy of projects.owner_id (enforced by the composite foreign key) so row-level security needs no join.';
-- Set comment to column: "sha256" on table: "project_files"
COMMENT ON COLUMN "public"."project_files"."sha256" IS 'Lowercase hex SHA-256 of the UTF-8 content; lets sync detect unchanged files without comparing content.';
-- Create "sessions" table
CREATE TABLE "public"."sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "token" text NOT NULL, "expires_at" timestamptz NOT NULL, "ip_address" text NULL, "user_agent" text NULL, "user_id" uuid NOT NULL, "created_at" timestamptz NOT NULL DEFAULT statement_timestamp(), "updated_at" timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY ("id"), CONSTRAINT "sessions_token_key" UNIQUE ("token"), CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "sessions_user_id_idx" to table: "sessions"
CREATE INDEX "sessions_user_id_idx" ON "public"."sessions" ("user_id");
-- Set comment to table: "sessions"
COMMENT ON TABLE "public"."sessions" IS 'Bearer sessions of the auth layer; deleting a user signs them out everywhere.';
