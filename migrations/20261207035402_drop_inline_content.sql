-- The contract step of the history migration: a file's content now lives
-- in file_contents (the backfill copied every row's), and
-- every current row has its version (validated by the previous file), so
-- the inline column and the checks that read it go. Dropping a column
-- rewrites nothing: the lock is held for a catalog change only.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = 0;

-- Modify "project_files" table
-- One subcommand per statement, as Citus runs them.
-- schemaflow:allow-destructive the content moved to file_contents (20261207035358_history_and_checkpoints.sql copies every row's), and file_contents checks its hash and size
ALTER TABLE "public"."project_files" DROP CONSTRAINT "project_files_sha256_matches_content";
-- schemaflow:allow-destructive the content moved to file_contents (20261207035358_history_and_checkpoints.sql copies every row's), and file_contents checks its hash and size
ALTER TABLE "public"."project_files" DROP CONSTRAINT "project_files_size_bytes_matches_content";
-- schemaflow:allow-destructive the content moved to file_contents (20261207035358_history_and_checkpoints.sql copies every row's), and file_contents checks its hash and size
ALTER TABLE "public"."project_files" DROP COLUMN "content";
