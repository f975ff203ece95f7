-- Hand-written: the login role the application connects as. `migrate diff`
-- cannot see it (no grant or policy names it; roles are cluster-wide), so it
-- is written here, as in schema.sql's security section. No password: the
-- operator sets one outside the migrations (ALTER ROLE app_login PASSWORD …).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_login') THEN
        CREATE ROLE app_login LOGIN NOINHERIT NOBYPASSRLS;
    END IF;
END
$$;
-- A role of that name made earlier gets the same posture.
ALTER ROLE app_login NOINHERIT;

-- NOINHERIT: the memberships give no privilege until the role is switched
-- (SET LOCAL ROLE app_user / app_auth).
GRANT app_user TO app_login;
GRANT app_auth TO app_login;
