-- Hand-written: what Atlas's community engine does not diff (roles, grants,
-- row-level security flags, policies). Keep in step with the security section
-- of schema.sql; the catalog-equivalence test (tests/migrations) fails when
-- the two disagree.

-- ENABLE ROW LEVEL SECURITY takes an ACCESS EXCLUSIVE lock: on a live
-- database, give up rather than queue behind long transactions (and block
-- every reader queued behind us). LOCAL: the engine runs the file in one
-- transaction, and the settings must not outlive it on a pooled connection.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Roles are cluster-wide, so creation must tolerate a role that already
-- exists (another database, or a second run).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_user') THEN
        CREATE ROLE app_user NOLOGIN;
    END IF;
END
$$;

-- Least privilege: row access on tenant tables, read-only users, and nothing
-- at all on secrets (sessions, accounts, verifications).
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, project_files, agent_states TO app_user;
GRANT SELECT ON users TO app_user;

-- FORCE makes the table owner subject to the policies too; only superusers
-- and BYPASSRLS roles (migrations, maintenance) see across tenants.
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects FORCE ROW LEVEL SECURITY;
ALTER TABLE project_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_files FORCE ROW LEVEL SECURITY;
ALTER TABLE agent_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_states FORCE ROW LEVEL SECURITY;

-- NULLIF: once a transaction-local set_config has ended, the setting reads
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
