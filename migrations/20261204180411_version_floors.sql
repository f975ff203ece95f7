-- Version tokens never repeat for a path (schema.sql, projects): each
-- project keeps a floor that deletes and moves raise and creates start
-- above. Taken from `migrate diff`, then the backfill and the timeouts
-- added. The new columns have constant defaults, so adding them rewrites
-- nothing.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = 0;

-- Modify "projects" table
ALTER TABLE "public"."projects" ADD COLUMN "file_version_floor" bigint NOT NULL DEFAULT 0, ADD COLUMN "agent_state_version_floor" bigint NOT NULL DEFAULT 0;

-- Backfill. The versions of files deleted before this migration were never
-- kept, so the floor starts at the highest version a project's files hold
-- now: a path re-created from here on starts above every version the
-- project shows today. (A deleted agent state leaves nothing to go on, and
-- an existing one raises the floor itself when it is deleted.)
UPDATE "public"."projects" AS p
SET file_version_floor = f.version
FROM (
    SELECT project_id, max(version) AS version
    FROM "public"."project_files"
    GROUP BY project_id
) AS f
WHERE p.id = f.project_id;
