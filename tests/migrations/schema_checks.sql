-- Proves that schema.sql guards its own data, independently of the Python
-- layer: every CHECK rejects what the contract forbids (and names itself in
-- the error), and row-level security hides and protects other tenants' rows.
--
-- Run in a fresh psql session against a database where schema.sql is loaded:
--   psql -X -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f tests/migrations/schema_checks.sql
-- The invoking role must be a superuser or have BYPASSRLS (it writes fixture
-- rows for two tenants). Everything runs in one transaction that is rolled
-- back, so the database is left as it was. Any failed assertion raises and,
-- with ON_ERROR_STOP, makes psql exit non-zero.
--
-- Fixture ids (fixed so the DO blocks can name them):
--   user A  00000000-0000-4000-8000-00000000000a
--   user B  00000000-0000-4000-8000-00000000000b
--   A's project with a file and a state   ...-0000000000a1
--   A's project without a state           ...-0000000000a2
--   B's project with a file and a state   ...-0000000000b1
-- Every file has its content in file_contents and its version in
-- file_versions, every state its version in agent_state_versions, and a1
-- and b1 a checkpoint each, so every tenant table holds rows of both.

\set ON_ERROR_STOP 1
\set QUIET 1

BEGIN;

DO $$
BEGIN
    IF NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'schema_checks.sql must run as a superuser or a BYPASSRLS role (fixtures span two tenants), not as %', current_user;
    END IF;
    IF current_setting('app.user_id', true) IS NOT NULL THEN
        RAISE EXCEPTION 'run schema_checks.sql in a fresh session: app.user_id is already defined (%)',
            quote_nullable(current_setting('app.user_id', true));
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Fixtures (valid rows, including edge cases that must be accepted)
-- ---------------------------------------------------------------------------

INSERT INTO users (id, name, email) VALUES
    ('00000000-0000-4000-8000-00000000000a', 'Ada', 'schema-check-a@example.invalid'),
    ('00000000-0000-4000-8000-00000000000b', 'Bob', 'schema-check-b@example.invalid');

INSERT INTO projects (id, owner_id, name) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'A project'),
    ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a', repeat('é', 200)),
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000000b', 'B project');

CREATE TEMPORARY TABLE fixture_files ON COMMIT DROP AS
SELECT project_id::uuid, owner_id::uuid, path, content,
       octet_length(content) AS size_bytes, encode(sha256(content), 'hex') AS sha256
FROM (VALUES
        ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
         'README.md', convert_to('hello A', 'UTF8')),
        ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
         '.env', ''::bytea),                                -- dot-files are fine
        ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
         'a/.../b', convert_to('x', 'UTF8')),               -- '...' is an ordinary segment
        ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
         'a/..b/c.', convert_to('x', 'UTF8')),              -- dots inside a segment; same content
        ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
         'dir with space/ünïcødé.txt', convert_to('é', 'UTF8')),
        ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
         repeat('é', 512), convert_to('exactly 1024 bytes of path', 'UTF8')),
        ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000000b',
         'README.md', convert_to('hello B', 'UTF8'))
     ) AS f(project_id, owner_id, path, content);

-- Content once per project, whatever the number of paths holding it.
INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
SELECT DISTINCT project_id, owner_id, sha256, size_bytes, content FROM fixture_files;

INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
SELECT project_id, owner_id, path, 1, 0, 'text', size_bytes, sha256 FROM fixture_files;

INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
SELECT project_id, owner_id, path, size_bytes, sha256 FROM fixture_files;

-- A deleted version: both deletion columns set.
INSERT INTO file_versions
    (project_id, owner_id, path, version, generation, kind, size_bytes, sha256,
     deleted_at, deleted_generation)
SELECT project_id, owner_id, 'gone.txt', 1, 0, 'binary', size_bytes, sha256, now(), 0
FROM fixture_files WHERE project_id = '00000000-0000-4000-8000-0000000000a1' AND path = '.env';

INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 1, 0, '{"step": 1}'),
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000000b', 1, 0, '{}');

INSERT INTO agent_states (project_id, owner_id, state) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', '{"step": 1}'),
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000000b', '{}');

-- A label of 200 characters, and none at all.
INSERT INTO checkpoints (project_id, owner_id, label, generation) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', repeat('é', 200), 0),
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000000b', NULL, 0);

-- ---------------------------------------------------------------------------
-- CHECK constraints: each bad row is rejected, by the constraint named
-- ---------------------------------------------------------------------------

DO $checks$
DECLARE
    test record;
    rejected_by text;
BEGIN
    FOR test IN
        SELECT * FROM (VALUES
            -- projects.name
            ('name empty',
             $q$INSERT INTO projects (owner_id, name) VALUES ('00000000-0000-4000-8000-00000000000a', '')$q$,
             'projects_name_length'),
            ('name of 201 characters',
             $q$INSERT INTO projects (owner_id, name) VALUES ('00000000-0000-4000-8000-00000000000a', repeat('x', 201))$q$,
             'projects_name_length'),
            ('name with leading space',
             $q$INSERT INTO projects (owner_id, name) VALUES ('00000000-0000-4000-8000-00000000000a', ' x')$q$,
             'projects_name_trimmed'),
            ('name with a newline',
             $q$INSERT INTO projects (owner_id, name) VALUES ('00000000-0000-4000-8000-00000000000a', E'a\nb')$q$,
             'projects_name_no_control_chars'),
            ('name with DEL',
             $q$INSERT INTO projects (owner_id, name) VALUES ('00000000-0000-4000-8000-00000000000a', 'a' || chr(127))$q$,
             'projects_name_no_control_chars'),
            ('name with C1 control NEL (U+0085)',
             $q$INSERT INTO projects (owner_id, name) VALUES ('00000000-0000-4000-8000-00000000000a', 'a' || chr(133) || 'b')$q$,
             'projects_name_no_control_chars'),
            ('description of 10001 characters',
             $q$UPDATE projects SET description = repeat('é', 10001) WHERE id = '00000000-0000-4000-8000-0000000000a1'$q$,
             'projects_description_length'),
            ('rename to empty',
             $q$UPDATE projects SET name = '' WHERE id = '00000000-0000-4000-8000-0000000000a1'$q$,
             'projects_name_length'),
            -- project_files.path
            ('path empty',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', '', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_length|project_files_path_shape'),
            ('path with a .. segment',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a/../b', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_shape'),
            ('path starting with ..',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', '../etc/passwd', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_shape'),
            ('path ending with ..',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a/..', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_shape'),
            ('path with a . segment',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', './a', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_shape'),
            ('path with leading /',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', '/etc/passwd', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_shape'),
            ('path with an empty segment',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a//b', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_shape'),
            ('path with trailing /',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a/', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_shape'),
            ('path with a backslash',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a\b', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_chars'),
            ('path with a control character',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', E'a\tb', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_chars'),
            ('path with C1 control U+009F',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a' || chr(159), 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_chars'),
            ('path of 1025 bytes',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', repeat('a', 1025), 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_length'),
            ('path of 513 characters = 1026 bytes',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', repeat('é', 513), 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_path_length'),
            ('move to a .. path',
             $q$UPDATE project_files SET path = '../README.md'
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1' AND path = 'README.md'$q$,
             'project_files_path_shape'),
            -- project_files.sha256, size_bytes, version
            ('sha256 uppercase',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 0, repeat('A', 64))$q$,
             'project_files_sha256_hex'),
            ('sha256 of 63 characters',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 0, repeat('0', 63))$q$,
             'project_files_sha256_hex'),
            ('file size over 5 MiB',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 5242881, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_content_size'),
            ('file kind other than text or binary',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256, kind)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 0, encode(sha256(''::bytea), 'hex'), 'image')$q$,
             'project_files_kind'),
            ('file version 0',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256, version)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 0, encode(sha256(''::bytea), 'hex'), 0)$q$,
             'project_files_version_positive'),
            -- file_contents: the name is the bytes' hash, the size their length
            ('sha256 of other content',
             $q$INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', encode(sha256('y'::bytea), 'hex'), 1, 'x'::bytea)$q$,
             'file_contents_sha256_matches_content'),
            ('sha256 uppercase',
             $q$INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', upper(encode(sha256('x'::bytea), 'hex')), 1, 'x'::bytea)$q$,
             'file_contents_sha256_matches_content'),
            ('content changed without sha256',
             $q$UPDATE file_contents SET content = convert_to('hello!!', 'UTF8'), size_bytes = 7
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1'
                  AND sha256 = encode(sha256(convert_to('hello A', 'UTF8')), 'hex')$q$,
             'file_contents_sha256_matches_content'),
            ('size_bytes counts characters, not bytes',
             $q$INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', encode(sha256(convert_to('ü', 'UTF8')), 'hex'), 1, convert_to('ü', 'UTF8'))$q$,
             'file_contents_size_matches_content'),
            ('size_bytes negative',
             $q$INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', encode(sha256('n'::bytea), 'hex'), -1, 'n'::bytea)$q$,
             'file_contents_size_matches_content'),
            ('content changed without size_bytes',
             $q$UPDATE file_contents SET content = convert_to('changed content', 'UTF8'),
                    sha256 = encode(sha256('changed content'::bytea), 'hex')
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1'
                  AND sha256 = encode(sha256(convert_to('hello A', 'UTF8')), 'hex')$q$,
             'file_contents_size_matches_content'),
            ('content over 5 MiB',
             $q$INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
                SELECT '00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', encode(sha256(b), 'hex'), octet_length(b), b
                FROM (SELECT convert_to(repeat('x', 5242881), 'UTF8')) AS c(b)$q$,
             'file_contents_content_size'),
            -- file_versions
            ('version kind other than text or binary',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 1, 0, 'image', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'file_versions_kind'),
            ('version of a file over 5 MiB',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 1, 0, 'text', 5242881, encode(sha256(''::bytea), 'hex'))$q$,
             'file_versions_size'),
            ('version of negative size',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 1, 0, 'text', -1, encode(sha256(''::bytea), 'hex'))$q$,
             'file_versions_size'),
            ('file history version 0',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 0, 0, 'text', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'file_versions_version_positive'),
            ('version deleted at a time without a generation',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256, deleted_at)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 1, 0, 'text', 0, encode(sha256(''::bytea), 'hex'), now())$q$,
             'file_versions_deleted_together'),
            ('version deleted in a generation without a time',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256, deleted_generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x', 1, 0, 'text', 0, encode(sha256(''::bytea), 'hex'), 0)$q$,
             'file_versions_deleted_together'),
            ('current version marked deleted at a time only',
             $q$UPDATE file_versions SET deleted_at = now()
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1' AND path = 'README.md'$q$,
             'file_versions_deleted_together'),
            -- agent_states
            ('state version 0',
             $q$INSERT INTO agent_states (project_id, owner_id, state, version)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a', '{}', 0)$q$,
             'agent_states_version_positive'),
            ('state is an array',
             $q$INSERT INTO agent_states (project_id, owner_id, state)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a', '[]')$q$,
             'agent_states_state_is_object'),
            ('state is a string',
             $q$INSERT INTO agent_states (project_id, owner_id, state)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a', '"x"')$q$,
             'agent_states_state_is_object'),
            ('state is JSON null',
             $q$INSERT INTO agent_states (project_id, owner_id, state)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a', 'null')$q$,
             'agent_states_state_is_object'),
            ('state text over 1.5 MiB',
             $q$INSERT INTO agent_states (project_id, owner_id, state)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a',
                        jsonb_build_object('a', repeat('x', 1572864 - 8)))$q$,
             'agent_states_state_size'),
            -- agent_state_versions
            ('state history version 0',
             $q$INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 0, 0, '{}')$q$,
             'agent_state_versions_version_positive'),
            ('state history holds an array',
             $q$INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 2, 0, '[]')$q$,
             'agent_state_versions_state_is_object'),
            ('state history holds JSON null',
             $q$INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 2, 0, 'null')$q$,
             'agent_state_versions_state_is_object'),
            ('state version deleted at a time without a generation',
             $q$INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state, deleted_at)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 2, 0, '{}', now())$q$,
             'agent_state_versions_deleted_together'),
            ('state version deleted in a generation without a time',
             $q$INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state, deleted_generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 2, 0, '{}', 0)$q$,
             'agent_state_versions_deleted_together'),
            -- checkpoints.label, as a project's name
            ('label empty',
             $q$INSERT INTO checkpoints (project_id, owner_id, label, generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', '', 1)$q$,
             'checkpoints_label_length'),
            ('label of 201 characters',
             $q$INSERT INTO checkpoints (project_id, owner_id, label, generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', repeat('x', 201), 1)$q$,
             'checkpoints_label_length'),
            ('label with trailing space',
             $q$INSERT INTO checkpoints (project_id, owner_id, label, generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'x ', 1)$q$,
             'checkpoints_label_trimmed'),
            ('label with a newline',
             $q$INSERT INTO checkpoints (project_id, owner_id, label, generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', E'a\nb', 1)$q$,
             'checkpoints_label_no_control_chars'),
            ('label with DEL',
             $q$INSERT INTO checkpoints (project_id, owner_id, label, generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a' || chr(127), 1)$q$,
             'checkpoints_label_no_control_chars'),
            ('label with C1 control NEL (U+0085)',
             $q$INSERT INTO checkpoints (project_id, owner_id, label, generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'a' || chr(133) || 'b', 1)$q$,
             'checkpoints_label_no_control_chars'),
            ('relabel to empty',
             $q$UPDATE checkpoints SET label = ''
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1'$q$,
             'checkpoints_label_length')
        ) AS t(label, statement, expected)
    LOOP
        BEGIN
            EXECUTE test.statement;
            RAISE EXCEPTION 'CHECK missing: "%" was accepted (expected %)', test.label, test.expected;
        EXCEPTION WHEN check_violation THEN
            GET STACKED DIAGNOSTICS rejected_by = CONSTRAINT_NAME;
            IF rejected_by !~ ('^(' || test.expected || ')$') THEN
                RAISE EXCEPTION '"%" was rejected by % instead of %', test.label, rejected_by, test.expected;
            END IF;
        END;
    END LOOP;
    RAISE NOTICE 'checks: all bad rows rejected by the expected constraint';
END
$checks$;

-- Foreign keys: the composite key ties each child's owner to its project's
-- owner; a current row is a version of the history, and a version names
-- content its own project stores. Each bad row is rejected by the key named.
-- The keys from the current rows to their versions are checked at commit;
-- here each is checked at its statement's end (SET CONSTRAINTS), and the
-- block after this one shows them deferred and still checked.
DO $keys$
DECLARE
    test record;
    rejected_by text;
BEGIN
    SET CONSTRAINTS ALL IMMEDIATE;
    FOR test IN
        SELECT * FROM (VALUES
            ('file with an owner other than its project''s',
             -- Its version (deleted, so the path is free) and content exist:
             -- only the owner is wrong.
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000b',
                        'gone.txt', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_project_fkey'),
            ('content with an owner other than its project''s',
             $q$INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000b',
                        encode(sha256('stolen'::bytea), 'hex'), 6, 'stolen'::bytea)$q$,
             'file_contents_project_fkey'),
            ('version with an owner other than its project''s',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000b',
                        'stolen.txt', 1, 0, 'text', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'file_versions_project_fkey'),
            ('state version with an owner other than its project''s',
             $q$INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000b', 1, 0, '{}')$q$,
             'agent_state_versions_project_fkey'),
            ('checkpoint with an owner other than its project''s',
             $q$INSERT INTO checkpoints (project_id, owner_id, label, generation)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000b', 'stolen', 1)$q$,
             'checkpoints_project_fkey'),
            ('file without its version',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
                        'unversioned.txt', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_version_fkey'),
            ('file moved to a version it does not have',
             $q$UPDATE project_files SET version = 2
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1' AND path = 'README.md'$q$,
             'project_files_version_fkey'),
            ('agent state without its version',
             $q$INSERT INTO agent_states (project_id, owner_id, state)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a', '{}')$q$,
             'agent_states_version_fkey'),
            ('agent state moved to a version it does not have',
             $q$UPDATE agent_states SET version = 2
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1'$q$,
             'agent_states_version_fkey'),
            ('version of content not stored',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
                        'new.txt', 1, 0, 'text', 3, encode(sha256('new'::bytea), 'hex'))$q$,
             'file_versions_content_fkey'),
            ('version of content only another project stores',
             $q$INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
                        'copied.txt', 1, 0, 'text', 7, encode(sha256(convert_to('hello B', 'UTF8')), 'hex'))$q$,
             'file_versions_content_fkey'),
            ('content reclaimed while a version names it',
             $q$DELETE FROM file_contents
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1'
                  AND sha256 = encode(sha256(convert_to('hello A', 'UTF8')), 'hex')$q$,
             'file_versions_content_fkey'),
            ('current version pruned',
             $q$DELETE FROM file_versions
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1' AND path = 'README.md'$q$,
             'project_files_version_fkey'),
            ('current state version pruned',
             $q$DELETE FROM agent_state_versions
                WHERE project_id = '00000000-0000-4000-8000-0000000000a1'$q$,
             'agent_states_version_fkey')
        ) AS t(label, statement, expected)
    LOOP
        BEGIN
            EXECUTE test.statement;
            RAISE EXCEPTION 'key missing: "%" was accepted (expected %)', test.label, test.expected;
        EXCEPTION WHEN foreign_key_violation THEN
            GET STACKED DIAGNOSTICS rejected_by = CONSTRAINT_NAME;
            IF rejected_by <> test.expected THEN
                RAISE EXCEPTION '"%" was rejected by % instead of %', test.label, rejected_by, test.expected;
            END IF;
        END;
    END LOOP;
    SET CONSTRAINTS ALL DEFERRED;
    RAISE NOTICE 'keys: all bad rows rejected by the expected key';
END
$keys$;

-- Deferred, the keys to the versions still hold: a file or a state written
-- before its version is accepted by the statement and refused when its
-- check runs (at commit, or here when checking is made immediate).
DO $deferred$
DECLARE
    test record;
    rejected_by text;
BEGIN
    FOR test IN
        SELECT * FROM (VALUES
            ('file without its version',
             $q$INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
                VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a',
                        'unversioned.txt', 0, encode(sha256(''::bytea), 'hex'))$q$,
             'project_files_version_fkey'),
            ('agent state without its version',
             $q$INSERT INTO agent_states (project_id, owner_id, state)
                VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000a', '{}')$q$,
             'agent_states_version_fkey')
        ) AS t(label, statement, expected)
    LOOP
        BEGIN
            EXECUTE test.statement;
            SET CONSTRAINTS ALL IMMEDIATE;
            RAISE EXCEPTION 'key missing: "%" was accepted at commit (expected %)', test.label, test.expected;
        EXCEPTION WHEN foreign_key_violation THEN
            GET STACKED DIAGNOSTICS rejected_by = CONSTRAINT_NAME;
            IF rejected_by <> test.expected THEN
                RAISE EXCEPTION '"%" was rejected by % instead of %', test.label, rejected_by, test.expected;
            END IF;
        END;
        SET CONSTRAINTS ALL DEFERRED;
    END LOOP;
    RAISE NOTICE 'keys: a current row without its version is refused when its deferred key is checked';
END
$deferred$;

-- ---------------------------------------------------------------------------
-- Row-level security, acting as app_user
-- ---------------------------------------------------------------------------

SET LOCAL ROLE app_user;

-- No actor at all: app.user_id was never set in this session (NULL).
DO $$
DECLARE
    n bigint;
BEGIN
    IF current_setting('app.user_id', true) IS NOT NULL THEN
        RAISE EXCEPTION 'expected app.user_id to be unset';
    END IF;
    SELECT (SELECT count(*) FROM projects) + (SELECT count(*) FROM project_files)
         + (SELECT count(*) FROM agent_states) + (SELECT count(*) FROM file_contents)
         + (SELECT count(*) FROM file_versions) + (SELECT count(*) FROM agent_state_versions)
         + (SELECT count(*) FROM checkpoints) INTO n;
    IF n <> 0 THEN
        RAISE EXCEPTION 'with no app.user_id, % tenant rows are visible', n;
    END IF;
    UPDATE projects SET name = 'hijacked'; GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'with no app.user_id, UPDATE projects hit % rows', n; END IF;
    DELETE FROM project_files; GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'with no app.user_id, DELETE project_files hit % rows', n; END IF;
    DELETE FROM checkpoints; GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'with no app.user_id, DELETE checkpoints hit % rows', n; END IF;
    UPDATE file_contents SET created_at = now(); GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'with no app.user_id, UPDATE file_contents hit % rows', n; END IF;
    BEGIN
        INSERT INTO projects (owner_id, name) VALUES ('00000000-0000-4000-8000-00000000000a', 'x');
        RAISE EXCEPTION 'with no app.user_id, INSERT of a project was accepted';
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
END
$$;

-- No actor, the way a pooled connection looks after an earlier transaction
-- ended: the setting exists but is ''.
DO $$ BEGIN PERFORM set_config('app.user_id', '', true); END $$;
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT (SELECT count(*) FROM projects) + (SELECT count(*) FROM project_files)
         + (SELECT count(*) FROM agent_states) + (SELECT count(*) FROM file_contents)
         + (SELECT count(*) FROM file_versions) + (SELECT count(*) FROM agent_state_versions)
         + (SELECT count(*) FROM checkpoints) INTO n;
    IF n <> 0 THEN
        RAISE EXCEPTION 'with app.user_id = '''', % tenant rows are visible', n;
    END IF;
END
$$;

-- Actor B.
DO $$ BEGIN PERFORM set_config('app.user_id', '00000000-0000-4000-8000-00000000000b', true); END $$;
DO $$
DECLARE
    a constant uuid := '00000000-0000-4000-8000-00000000000a';
    a_project constant uuid := '00000000-0000-4000-8000-0000000000a1';
    a_project_without_state constant uuid := '00000000-0000-4000-8000-0000000000a2';
    b_project constant uuid := '00000000-0000-4000-8000-0000000000b1';
    n bigint;
BEGIN
    -- Sees only its own rows, even without an ownership predicate.
    IF (SELECT count(*) FROM projects) <> 1
       OR (SELECT count(*) FROM project_files) <> 1
       OR (SELECT count(*) FROM agent_states) <> 1
       OR (SELECT count(*) FROM file_contents) <> 1
       OR (SELECT count(*) FROM file_versions) <> 1
       OR (SELECT count(*) FROM agent_state_versions) <> 1
       OR (SELECT count(*) FROM checkpoints) <> 1 THEN
        RAISE EXCEPTION 'B should see exactly its own project, file, state, content, versions and checkpoint';
    END IF;
    IF EXISTS (SELECT FROM projects WHERE id = a_project OR owner_id = a)
       OR EXISTS (SELECT FROM project_files WHERE project_id = a_project OR owner_id = a)
       OR EXISTS (SELECT FROM agent_states WHERE project_id = a_project OR owner_id = a)
       OR EXISTS (SELECT FROM file_contents WHERE project_id = a_project OR owner_id = a)
       OR EXISTS (SELECT FROM file_versions WHERE project_id = a_project OR owner_id = a)
       OR EXISTS (SELECT FROM agent_state_versions WHERE project_id = a_project OR owner_id = a)
       OR EXISTS (SELECT FROM checkpoints WHERE project_id = a_project OR owner_id = a) THEN
        RAISE EXCEPTION 'B can see rows of A';
    END IF;

    -- Cannot change or remove A's rows: 0 rows affected.
    UPDATE projects SET name = 'hijacked' WHERE id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B updated % of A''s projects', n; END IF;
    UPDATE project_files SET size_bytes = 0 WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B updated % of A''s files', n; END IF;
    UPDATE file_contents SET content = '', size_bytes = 0,
        sha256 = encode(sha256(''::bytea), 'hex') WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B updated % of A''s contents', n; END IF;
    UPDATE file_versions SET deleted_at = now(), deleted_generation = 0 WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B updated % of A''s file versions', n; END IF;
    UPDATE agent_state_versions SET state = '{"hijacked": true}' WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B updated % of A''s state versions', n; END IF;
    UPDATE checkpoints SET label = 'hijacked' WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B updated % of A''s checkpoints', n; END IF;
    DELETE FROM checkpoints WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B deleted % of A''s checkpoints', n; END IF;
    UPDATE agent_states SET state = '{"hijacked": true}' WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B updated % of A''s agent states', n; END IF;
    DELETE FROM agent_states WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B deleted % of A''s agent states', n; END IF;
    DELETE FROM project_files WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B deleted % of A''s files', n; END IF;
    DELETE FROM agent_state_versions WHERE project_id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B deleted % of A''s state versions', n; END IF;
    DELETE FROM file_versions WHERE project_id = a_project AND path = 'gone.txt';
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B deleted % of A''s file versions', n; END IF;
    DELETE FROM projects WHERE id = a_project;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'B deleted % of A''s projects', n; END IF;

    -- Cannot create rows in A's name (WITH CHECK).
    BEGIN
        INSERT INTO projects (owner_id, name) VALUES (a, 'planted');
        RAISE EXCEPTION 'B inserted a project owned by A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
        VALUES (a_project, a, 'planted.txt', 0, encode(sha256(''::bytea), 'hex'));
        RAISE EXCEPTION 'B inserted a file owned by A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
        VALUES (a_project, a, encode(sha256('planted'::bytea), 'hex'), 7, 'planted'::bytea);
        RAISE EXCEPTION 'B inserted content owned by A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        INSERT INTO file_versions (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
        VALUES (a_project, a, 'planted.txt', 1, 0, 'text', 0, encode(sha256(''::bytea), 'hex'));
        RAISE EXCEPTION 'B inserted a file version owned by A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
        VALUES (a_project_without_state, a, 1, 0, '{}');
        RAISE EXCEPTION 'B inserted a state version owned by A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        INSERT INTO checkpoints (project_id, owner_id, label, generation)
        VALUES (a_project, a, 'planted', 1);
        RAISE EXCEPTION 'B inserted a checkpoint owned by A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        INSERT INTO agent_states (project_id, owner_id, state)
        VALUES (a_project_without_state, a, '{}');
        RAISE EXCEPTION 'B inserted an agent state owned by A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    -- ... nor hand its own project over to A.
    BEGIN
        UPDATE projects SET owner_id = a WHERE id = b_project;
        RAISE EXCEPTION 'B gave its project to A';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;

    -- Least privilege: no access to auth secrets, users read-only.
    BEGIN
        PERFORM count(*) FROM sessions;
        RAISE EXCEPTION 'app_user can read sessions';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM count(*) FROM accounts;
        RAISE EXCEPTION 'app_user can read accounts';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM count(*) FROM verifications;
        RAISE EXCEPTION 'app_user can read verifications';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        UPDATE users SET name = 'x' WHERE id = a;
        RAISE EXCEPTION 'app_user can update users';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    PERFORM count(*) FROM users;
END
$$;

-- Actor A: still sees all of its rows, unchanged by B's attempts.
DO $$ BEGIN PERFORM set_config('app.user_id', '00000000-0000-4000-8000-00000000000a', true); END $$;
DO $$
BEGIN
    -- 6 files over 5 contents ('x' twice), 7 versions (gone.txt's too).
    IF (SELECT count(*) FROM projects) <> 2
       OR (SELECT count(*) FROM project_files) <> 6
       OR (SELECT count(*) FROM agent_states) <> 1
       OR (SELECT count(*) FROM file_contents) <> 5
       OR (SELECT count(*) FROM file_versions) <> 7
       OR (SELECT count(*) FROM agent_state_versions) <> 1
       OR (SELECT count(*) FROM checkpoints) <> 1 THEN
        RAISE EXCEPTION 'A should see its 2 projects, 6 files, 1 state, 5 contents, 7 file versions, 1 state version and 1 checkpoint';
    END IF;
    IF (SELECT name FROM projects WHERE id = '00000000-0000-4000-8000-0000000000a1') <> 'A project'
       OR (SELECT convert_from(c.content, 'UTF8') FROM project_files f
           JOIN file_contents c ON c.project_id = f.project_id AND c.sha256 = f.sha256
           WHERE f.project_id = '00000000-0000-4000-8000-0000000000a1' AND f.path = 'README.md') <> 'hello A'
       OR (SELECT state FROM agent_states
           WHERE project_id = '00000000-0000-4000-8000-0000000000a1') <> '{"step": 1}'
       OR (SELECT state FROM agent_state_versions
           WHERE project_id = '00000000-0000-4000-8000-0000000000a1') <> '{"step": 1}'
       OR (SELECT label FROM checkpoints
           WHERE project_id = '00000000-0000-4000-8000-0000000000a1') <> repeat('é', 200)
       OR EXISTS (SELECT FROM file_versions
           WHERE project_id = '00000000-0000-4000-8000-0000000000a1'
             AND deleted_at IS NOT NULL AND path <> 'gone.txt') THEN
        RAISE EXCEPTION 'A''s rows were changed by B';
    END IF;
    RAISE NOTICE 'row-level security: tenants are isolated';
END
$$;

ROLLBACK;
