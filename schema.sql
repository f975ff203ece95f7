-- The declarative schema: the single source of truth that `migrate diff`
-- turns into migrations and sqlc reads to type the queries. Edit this file,
-- then `nox -s generate -- NAME`; never edit a committed migration.
--
-- Rules of the file:
-- * Every constraint and index has an explicit name, so error mapping in the
--   repositories can rely on it and diffs stay stable.
-- * Only built-in, immutable expressions and no triggers or views: Atlas's
--   community engine does not diff triggers or views (the project's diff adds
--   functions, but a trigger would still be missed). One exception:
--   convert_to(content, 'UTF8') is stable rather than immutable because it
--   names an encoding; in a UTF8 database it gives the stored bytes as
--   they are. Timestamps are set
--   by defaults on insert and by the queries (updated_at =
--   statement_timestamp()) on update: the statement's time rather than the
--   transaction's, so rows written in one unit of work still order by when
--   each was written.
-- * Control characters are spelled as explicit ranges (\u0001-\u001f, DEL and
--   C1 \u007f-\u009f, i.e. Unicode category Cc) instead of [[:cntrl:]], whose
--   meaning depends on the collation (under "C" it matches ASCII only).

-- ---------------------------------------------------------------------------
-- Authentication (shaped like better-auth's core tables, plural names)
-- ---------------------------------------------------------------------------

CREATE TABLE users (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    name           text        NOT NULL,
    email          text        NOT NULL,
    email_verified boolean     NOT NULL DEFAULT false,
    image          text        NULL,
    created_at     timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT statement_timestamp(),
    CONSTRAINT users_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE users IS
    'Accounts of people; owned by the auth layer (better-auth shape) and the root of every tenant''s data.';

-- Mail providers treat addresses case-insensitively, so two rows differing
-- only in case would be the same person signing up twice.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE sessions (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    token      text        NOT NULL,
    expires_at timestamptz NOT NULL,
    ip_address text        NULL,
    user_agent text        NULL,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_key UNIQUE (token),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);
COMMENT ON TABLE sessions IS
    'Bearer sessions of the auth layer; deleting a user signs them out everywhere.';

-- Serves "sign out all sessions of a user" and the cascade from users.
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE accounts (
    id                       uuid        NOT NULL DEFAULT gen_random_uuid(),
    provider_id              text        NOT NULL,
    account_id               text        NOT NULL,
    user_id                  uuid        NOT NULL,
    access_token             text        NULL,
    refresh_token            text        NULL,
    id_token                 text        NULL,
    access_token_expires_at  timestamptz NULL,
    refresh_token_expires_at timestamptz NULL,
    scope                    text        NULL,
    password                 text        NULL,
    created_at               timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at               timestamptz NOT NULL DEFAULT statement_timestamp(),
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    -- One external identity can be linked to at most one user.
    CONSTRAINT accounts_provider_id_account_id_key UNIQUE (provider_id, account_id),
    CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);
COMMENT ON TABLE accounts IS
    'Sign-in methods linked to a user (OAuth identities, or provider "credential" with a password hash).';
COMMENT ON COLUMN accounts.password IS
    'A password hash, never the password; NULL for OAuth identities.';

-- Serves "which sign-in methods does this user have" and the cascade.
CREATE INDEX accounts_user_id_idx ON accounts (user_id);

CREATE TABLE verifications (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    identifier text        NOT NULL,
    value      text        NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    CONSTRAINT verifications_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE verifications IS
    'Short-lived secrets (e-mail verification, password reset); not tied to a user row because the user may not exist yet.';

-- The auth layer looks verifications up by identifier, never by id.
CREATE INDEX verifications_identifier_idx ON verifications (identifier);

-- ---------------------------------------------------------------------------
-- Tenant data: projects, their files, their agent state
-- ---------------------------------------------------------------------------

CREATE TABLE projects (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    owner_id    uuid        NOT NULL,
    name        text        NOT NULL,
    description text        NULL,
    created_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- Version tokens never repeat for a path: when a file leaves a path
    -- (delete, move, a sync that drops it) the floor rises to its version,
    -- and a file created later starts above the floor, so an If-Match kept
    -- from before a delete cannot match the file made after it. The same
    -- for the project's agent state. Internal: no API model carries them.
    file_version_floor        bigint NOT NULL DEFAULT 0,
    agent_state_version_floor bigint NOT NULL DEFAULT 0,
    -- Counts the project's checkpoints: each closes the generation it finds
    -- and opens the next. Internal, as the floors are.
    generation                bigint NOT NULL DEFAULT 0,
    CONSTRAINT projects_pkey PRIMARY KEY (id),
    -- Target of the children's composite foreign keys: it makes the
    -- denormalised owner_id on every child provably equal to the project's.
    CONSTRAINT projects_id_owner_id_key UNIQUE (id, owner_id),
    CONSTRAINT projects_owner_id_fkey FOREIGN KEY (owner_id)
        REFERENCES users (id) ON DELETE CASCADE,
    -- The repositories trim before storing; the database refuses anything
    -- that would let two names look alike or break a one-line display.
    CONSTRAINT projects_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT projects_name_trimmed CHECK (name = btrim(name)),
    CONSTRAINT projects_name_no_control_chars
        CHECK (name !~ '[\u0001-\u001f\u007f-\u009f]'),
    -- The API's limit, in characters (code points) as it counts them.
    CONSTRAINT projects_description_length
        CHECK (char_length(description) <= 10000)
);
COMMENT ON TABLE projects IS
    'A user''s workspace; deleting it removes its files and agent state with it.';

-- Keyset pagination of "my projects, newest first, ties by id" is one index
-- range scan; the leading owner_id also serves RLS and the users cascade.
CREATE INDEX projects_owner_id_created_at_id_idx
    ON projects (owner_id, created_at DESC, id DESC);

-- History. Every write of a file or of the agent state adds a version row
-- here, in the statement that writes it, so the history cannot miss a
-- write. Content is stored once per project, named by its hash, however
-- many versions and paths hold it; projects never share a content row (the
-- key starts with the project), so no tenant can learn of another's bytes.
--
-- Checkpoints without copying: projects.generation counts checkpoints; a
-- version records the generation it was written in (and the one it was
-- deleted in); a checkpoint keeps the generation it closed. The tree at a
-- checkpoint is, for each path, its highest version written at or before
-- that generation, unless deleted at or before it. A checkpoint bumps the
-- generation under the project lock held exclusively, and every write reads
-- it under the lock, so no write falls on both sides of a checkpoint.

CREATE TABLE file_contents (
    project_id uuid        NOT NULL,
    owner_id   uuid        NOT NULL,
    sha256     text        NOT NULL,
    size_bytes bigint      NOT NULL,
    content    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    CONSTRAINT file_contents_pkey PRIMARY KEY (project_id, sha256),
    CONSTRAINT file_contents_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    -- The database checks what it can of what the API promises: the name
    -- is the bytes' hash, the size their length, within the largest file.
    CONSTRAINT file_contents_sha256_matches_content
        CHECK (sha256 = encode(sha256(content), 'hex')),
    CONSTRAINT file_contents_size_matches_content
        CHECK (size_bytes = octet_length(content)),
    CONSTRAINT file_contents_content_size CHECK (size_bytes <= 5242880)
);
COMMENT ON TABLE file_contents IS
    'File contents of a project, stored once per project under their SHA-256 whatever the number of versions and paths holding them.';
COMMENT ON COLUMN file_contents.owner_id IS
    'Copy of projects.owner_id (enforced by the composite foreign key) so row-level security needs no join.';

CREATE TABLE file_versions (
    project_id         uuid        NOT NULL,
    owner_id           uuid        NOT NULL,
    path               text        COLLATE "C" NOT NULL,
    version            bigint      NOT NULL,
    generation         bigint      NOT NULL,
    kind               text        NOT NULL,
    size_bytes         bigint      NOT NULL,
    sha256             text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- Set on the path's current version when a delete, a move, a sync or a
    -- restore takes the file off the path.
    deleted_at         timestamptz NULL,
    deleted_generation bigint      NULL,
    -- Also the order of a path's history, and the tree at a checkpoint.
    CONSTRAINT file_versions_pkey PRIMARY KEY (project_id, path, version),
    CONSTRAINT file_versions_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    -- No version without its content: reclaiming content a version still
    -- names fails rather than leave the version unreadable.
    CONSTRAINT file_versions_content_fkey FOREIGN KEY (project_id, sha256)
        REFERENCES file_contents (project_id, sha256),
    CONSTRAINT file_versions_kind CHECK (kind IN ('text', 'binary')),
    CONSTRAINT file_versions_size CHECK (size_bytes BETWEEN 0 AND 5242880),
    CONSTRAINT file_versions_version_positive CHECK (version >= 1),
    CONSTRAINT file_versions_deleted_together
        CHECK ((deleted_at IS NULL) = (deleted_generation IS NULL))
);
COMMENT ON TABLE file_versions IS
    'Every version of every path of a project, the current ones included, until retention prunes it.';
COMMENT ON COLUMN file_versions.generation IS
    'The project''s generation when the version was written: a checkpoint at generation G holds it if it is its path''s highest version at or before G.';

-- Reclaiming content asks whether any version still names it.
CREATE INDEX file_versions_project_id_sha256_idx ON file_versions (project_id, sha256);

CREATE TABLE agent_state_versions (
    project_id         uuid        NOT NULL,
    owner_id           uuid        NOT NULL,
    version            bigint      NOT NULL,
    generation         bigint      NOT NULL,
    state              jsonb       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT statement_timestamp(),
    deleted_at         timestamptz NULL,
    deleted_generation bigint      NULL,
    CONSTRAINT agent_state_versions_pkey PRIMARY KEY (project_id, version),
    CONSTRAINT agent_state_versions_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    CONSTRAINT agent_state_versions_state_is_object
        CHECK (jsonb_typeof(state) = 'object'),
    CONSTRAINT agent_state_versions_version_positive CHECK (version >= 1),
    CONSTRAINT agent_state_versions_deleted_together
        CHECK ((deleted_at IS NULL) = (deleted_generation IS NULL))
);
COMMENT ON TABLE agent_state_versions IS
    'Every saved agent state of a project, the current one included, until retention prunes it.';

CREATE TABLE project_files (
    project_id uuid        NOT NULL,
    owner_id   uuid        NOT NULL,
    path       text        COLLATE "C" NOT NULL,
    size_bytes bigint      NOT NULL,
    sha256     text        NOT NULL,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- 'text' (the API gives a str back) or 'binary' (bytes). Both are
    -- stored as bytes in file_contents; the kind says how to hand them back.
    kind       text        NOT NULL DEFAULT 'text',
    -- The primary key doubles as the listing index: byte-wise path order
    -- within a project, and prefix scans (path LIKE 'dir/%') under "C".
    CONSTRAINT project_files_pkey PRIMARY KEY (project_id, path),
    -- No ON UPDATE action: the key holds the distribution column (project
    -- id), and Citus refuses ON UPDATE CASCADE on such a key (docs/scaling.md).
    -- A project changing hands must move its children in the same statement.
    CONSTRAINT project_files_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    -- A current file is a version in the history, and that version's
    -- content is stored (file_versions_content_fkey), so a checkpoint can
    -- name it and it reads back. (No key from here to file_contents: it
    -- would need an index on sha256 for reclaiming content to check it.)
    -- Checked at commit: a statement writes the file and its version
    -- together, and Citus runs a statement's data-modifying WITH clauses
    -- one after the other, the file's first.
    CONSTRAINT project_files_version_fkey FOREIGN KEY (project_id, path, version)
        REFERENCES file_versions (project_id, path, version)
        DEFERRABLE INITIALLY DEFERRED,
    -- Path rules of the contract, so raw SQL cannot store what the API refuses.
    CONSTRAINT project_files_path_length
        CHECK (octet_length(path) BETWEEN 1 AND 1024),
    -- Relative, no empty segment (no leading, trailing or doubled '/'),
    -- and no '.' or '..' segment.
    CONSTRAINT project_files_path_shape
        CHECK (path ~ '^[^/]+(/[^/]+)*$' AND path !~ '(^|/)\.\.?(/|$)'),
    CONSTRAINT project_files_path_chars
        CHECK (path !~ '[\\\u0001-\u001f\u007f-\u009f]'),
    -- The API's default max_content_bytes (5 MiB): the largest file any
    -- writer can store. Listings read size_bytes and sha256 from here, so
    -- they read no content; file_contents checks both against the bytes.
    CONSTRAINT project_files_content_size CHECK (size_bytes <= 5242880),
    CONSTRAINT project_files_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT project_files_kind CHECK (kind IN ('text', 'binary')),
    CONSTRAINT project_files_version_positive CHECK (version >= 1)
);
COMMENT ON TABLE project_files IS
    'The current files of a project addressed by relative POSIX path; version counts writes for optimistic concurrency.';
COMMENT ON COLUMN project_files.owner_id IS
    'Copy of projects.owner_id (enforced by the composite foreign key) so row-level security needs no join.';
COMMENT ON COLUMN project_files.sha256 IS
    'Lowercase hex SHA-256 of the content''s bytes (UTF-8 for text); names the content in file_contents and lets sync detect unchanged files.';

CREATE TABLE agent_states (
    project_id uuid        NOT NULL,
    owner_id   uuid        NOT NULL,
    state      jsonb       NOT NULL,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- One agent state per project.
    CONSTRAINT agent_states_pkey PRIMARY KEY (project_id),
    -- No ON UPDATE action, as for project_files_project_fkey.
    CONSTRAINT agent_states_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    -- The state's version in the history; checked at commit, as
    -- project_files_version_fkey is.
    CONSTRAINT agent_states_version_fkey FOREIGN KEY (project_id, version)
        REFERENCES agent_state_versions (project_id, version)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT agent_states_state_is_object CHECK (jsonb_typeof(state) = 'object'),
    -- The API allows 1 MiB of compact JSON with numbers written out in full
    -- (as jsonb prints them). jsonb's text form is that text with a space
    -- after each ':' and ',' outside strings; each is followed by at least
    -- one other byte and the text opens with '{', so the spaces are fewer
    -- than half its bytes: 1.5 MiB bounds every state the API accepts.
    CONSTRAINT agent_states_state_size
        CHECK (octet_length(state::text) <= 1572864),
    CONSTRAINT agent_states_version_positive CHECK (version >= 1)
);
COMMENT ON TABLE agent_states IS
    'The agent''s working memory for a project; version enables compare-and-swap saves.';
COMMENT ON COLUMN agent_states.owner_id IS
    'Copy of projects.owner_id (enforced by the composite foreign key) so row-level security needs no join.';

CREATE TABLE checkpoints (
    project_id uuid        NOT NULL,
    owner_id   uuid        NOT NULL,
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    label      text        NULL,
    generation bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    CONSTRAINT checkpoints_pkey PRIMARY KEY (project_id, id),
    -- One checkpoint closes each generation; also the listing's order.
    CONSTRAINT checkpoints_project_id_generation_key UNIQUE (project_id, generation),
    CONSTRAINT checkpoints_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    -- As a project's name: one trimmed line.
    CONSTRAINT checkpoints_label_length CHECK (char_length(label) BETWEEN 1 AND 200),
    CONSTRAINT checkpoints_label_trimmed CHECK (label = btrim(label)),
    CONSTRAINT checkpoints_label_no_control_chars
        CHECK (label !~ '[\u0001-\u001f\u007f-\u009f]')
);
COMMENT ON TABLE checkpoints IS
    'Named states of a project (every file and the agent state) it can be restored to; a row, whatever the project''s size.';

-- ---------------------------------------------------------------------------
-- The application's own settings
-- ---------------------------------------------------------------------------

-- The key that signs listing cursors: made once, by the migration that
-- creates the table, so every process and every restart signs alike with
-- no configuration. 32 bytes from two version-4 UUIDs (PostgreSQL's strong
-- random source; 244 random bits). Read once by Store.open as the login
-- role; no tenant role can read it.
CREATE TABLE cursor_signing_key (
    id  boolean NOT NULL DEFAULT true,
    key bytea   NOT NULL
        DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())),
    CONSTRAINT cursor_signing_key_pkey PRIMARY KEY (id),
    CONSTRAINT cursor_signing_key_one_row CHECK (id),
    CONSTRAINT cursor_signing_key_length CHECK (octet_length(key) >= 32)
);
COMMENT ON TABLE cursor_signing_key IS
    'One row: the key that signs listing cursors, shared by every process of the application.';
INSERT INTO cursor_signing_key DEFAULT VALUES;

-- ---------------------------------------------------------------------------
-- Security: roles, grants, row-level security
-- ---------------------------------------------------------------------------
-- Atlas's community engine ignores everything below; the project's
-- `migrate diff` reads it from the catalog and writes it into the migration
-- (the first copy is the hand-written security migration of the history),
-- and `migrate lint` refuses a migration that takes RLS away from a tenant
-- table unless the file says why. The application connects as its login
-- role (which must be granted app_user) and, in every unit of work, runs
--   SET LOCAL ROLE app_user;
--   SET LOCAL app.user_id = '<actor uuid>';
-- so a query that forgets its ownership predicate still sees only the
-- actor's rows. Both settings are transaction-local: safe with pools and
-- PgBouncer transaction pooling.

-- Roles are cluster-wide, so creation must tolerate a role that already
-- exists (another database, or a second run).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_user') THEN
        CREATE ROLE app_user NOLOGIN;
    END IF;
END
$$;

-- The auth layer's role: it creates users and finds them by e-mail at
-- sign-in, so it reads every users row. store.users logs in as
-- app_auth_login, its only member (below); tenant code never reaches it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_auth') THEN
        CREATE ROLE app_auth NOLOGIN;
    END IF;
END
$$;

-- Least privilege: row access on tenant tables, the actor's own users row,
-- and nothing at all on secrets (sessions, accounts, verifications).
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, project_files, agent_states,
    file_contents, file_versions, agent_state_versions, checkpoints TO app_user;
GRANT SELECT ON users TO app_user;
GRANT USAGE ON SCHEMA public TO app_auth;
GRANT SELECT, INSERT ON users TO app_auth;

-- The login role the application connects as: it can log in and become
-- app_user, and nothing else. NOINHERIT: it holds no privilege
-- of its own until the unit of work (or store.users) switches role, so code
-- that RESETs the role on a lent connection can read nothing. It owns
-- nothing, cannot bypass RLS, and has no password here: the operator sets
-- one (ALTER ROLE app_login PASSWORD …) outside the migrations. Roles that
-- no grant or policy names are invisible to `migrate diff`, so this part
-- lives in a hand-written migration too.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_login') THEN
        CREATE ROLE app_login LOGIN NOINHERIT NOBYPASSRLS;
    END IF;
END
$$;
-- A role of that name made earlier gets the same posture.
ALTER ROLE app_login NOINHERIT;
GRANT app_user TO app_login;
-- Its one privilege of its own: reading the cursor key when the Store opens.
GRANT SELECT ON cursor_signing_key TO app_login;

-- The auth layer logs in as a role of its own, so the tenant login cannot
-- become app_auth (which reads every user's e-mail) and the auth login
-- cannot become app_user. INHERIT: store.users runs with app_auth's
-- privileges without switching role. No password here either.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_auth_login') THEN
        CREATE ROLE app_auth_login LOGIN INHERIT NOBYPASSRLS;
    END IF;
END
$$;
GRANT app_auth TO app_auth_login;

-- No temporary objects for anyone but the owner: a temp table or view of a
-- tenant table's name would shadow it for whoever runs on that connection
-- next (pg_temp is searched first unless search_path says otherwise; the
-- repositories also pin search_path to public, pg_temp in every
-- transaction).
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- No large objects: every tenant runs as the same roles, so a large object
-- one tenant created would be readable by all. Server-side backend control
-- goes too: the application never needs it, and between sessions of one
-- role it would let one tenant cancel or end another's work.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace
          AND (p.proname LIKE 'lo\_%' OR p.proname IN ('loread', 'lowrite',
               'pg_cancel_backend', 'pg_terminate_backend'))
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
END
$$;

-- FORCE makes the table owner subject to the policies too; only superusers
-- and BYPASSRLS roles (migrations, maintenance) see across tenants.
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects FORCE ROW LEVEL SECURITY;
ALTER TABLE project_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_files FORCE ROW LEVEL SECURITY;
ALTER TABLE agent_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_states FORCE ROW LEVEL SECURITY;
ALTER TABLE file_contents ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_contents FORCE ROW LEVEL SECURITY;
ALTER TABLE file_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_versions FORCE ROW LEVEL SECURITY;
ALTER TABLE agent_state_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_state_versions FORCE ROW LEVEL SECURITY;
ALTER TABLE checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoints FORCE ROW LEVEL SECURITY;

-- NULLIF: once a transaction-local setting has ended, it reads
-- as '' rather than NULL; both mean "no actor", and owner_id = NULL is never
-- true, so no actor sees nothing. WITH CHECK is spelled out because writes
-- are where it matters: foreign-key checks bypass RLS, so the composite key
-- alone would accept a child row pointing at another tenant's project.
CREATE POLICY projects_owner_isolation ON projects
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

CREATE POLICY project_files_owner_isolation ON project_files
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

CREATE POLICY agent_states_owner_isolation ON agent_states
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

CREATE POLICY file_contents_owner_isolation ON file_contents
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

CREATE POLICY file_versions_owner_isolation ON file_versions
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

CREATE POLICY agent_state_versions_owner_isolation ON agent_state_versions
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

CREATE POLICY checkpoints_owner_isolation ON checkpoints
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

-- users: an actor sees only their own row; the auth layer (app_auth) sees
-- and creates any. Foreign keys from tenant rows to users are checked
-- without RLS, so a project still names its owner.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

CREATE POLICY users_own_row ON users
    FOR SELECT TO app_user
    USING (id = NULLIF(current_setting('app.user_id', true), '')::uuid);

CREATE POLICY users_auth_layer ON users
    FOR ALL TO app_auth
    USING (true)
    WITH CHECK (true);
