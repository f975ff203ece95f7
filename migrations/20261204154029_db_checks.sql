-- The database refuses what the API refuses: a sha256 that is not the
-- content's, a description over the API's 10 000 characters, an agent state
-- whose text form is over 1.5 MiB (schema.sql says why that bound holds
-- every state the API accepts). Taken from `migrate diff`, then each
-- constraint added NOT VALID, so that no table is scanned under the ACCESS
-- EXCLUSIVE lock ADD CONSTRAINT takes: the next file validates them under a
-- lock that blocks no reads or writes. Rows written from now on are checked
-- at once.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE "public"."agent_states"
    ADD CONSTRAINT "agent_states_state_size"
        CHECK (octet_length((state)::text) <= 1572864) NOT VALID;

ALTER TABLE "public"."project_files"
    ADD CONSTRAINT "project_files_sha256_matches_content"
        CHECK (sha256 = encode(sha256(convert_to(content, 'UTF8'::name)), 'hex'::text)) NOT VALID;

ALTER TABLE "public"."projects"
    ADD CONSTRAINT "projects_description_length"
        CHECK (char_length(description) <= 10000) NOT VALID;
