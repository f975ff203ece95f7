-- Hand-written: what neither Atlas's engine nor the project's security diff
-- sees (database privileges, privileges on pg_catalog functions, a login
-- role no grant or policy names, memberships of the login roles). Keep in
-- step with schema.sql's security section.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- No temporary objects for anyone but the owner: a temp table or view of a
-- tenant table's name would shadow it for whoever runs on that connection
-- next (pg_temp is searched first unless search_path says otherwise).
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

-- The auth layer logs in as a role of its own: the tenant login can no
-- longer become app_auth (which reads every user's e-mail), and the auth
-- login cannot become app_user. INHERIT: store.users runs with app_auth's
-- privileges without switching role. No password here: the operator sets
-- one (ALTER ROLE app_auth_login PASSWORD …) outside the migrations.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_auth_login') THEN
        CREATE ROLE app_auth_login LOGIN INHERIT NOBYPASSRLS;
    END IF;
END
$$;
GRANT app_auth TO app_auth_login;
REVOKE app_auth FROM app_login;
