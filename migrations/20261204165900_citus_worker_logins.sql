-- Hand-written: on Citus, the roles the application's login role switches
-- to must be able to log in; a no-op on plain PostgreSQL.
--
-- Citus opens the coordinator's connections to the workers as the current
-- role: after SET LOCAL ROLE app_user, a unit of work reaches the shards as
-- app_user, refused while that role is NOLOGIN ("role "app_user" is not
-- permitted to log in"). Where the citus extension is installed in this
-- database, each NOLOGIN role that app_login is a member of (the roles it
-- switches to: app_user, for units of work; store.users logs in as
-- app_auth_login and switches to nothing) gets LOGIN; Citus propagates ALTER ROLE
-- to the workers. Clients still log in as app_login. No password: how the
-- coordinator authenticates to the workers as these roles, and that only
-- the coordinator may log in as them, is the operator's (pg_hba.conf,
-- .pgpass or pg_dist_authinfo; docs/scaling.md, "Run on Citus").
-- Elsewhere it raises a NOTICE saying so and changes nothing.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $citus_logins$
DECLARE
    target name;
    changed text[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE NOTICE 'citus is not installed in database %: the roles app_login switches to stay NOLOGIN',
            current_database();
        RETURN;
    END IF;

    FOR target IN
        SELECT r.rolname
        FROM pg_catalog.pg_auth_members m
        JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
        JOIN pg_catalog.pg_roles l ON l.oid = m.member
        WHERE l.rolname = 'app_login' AND NOT r.rolcanlogin
        ORDER BY r.rolname
    LOOP
        EXECUTE format('ALTER ROLE %I LOGIN', target);
        changed := changed || target::text;
    END LOOP;

    RAISE NOTICE 'citus is installed: LOGIN given to %',
        CASE WHEN cardinality(changed) = 0 THEN 'no role (none needed it)'
             ELSE array_to_string(changed, ', ') END;
END
$citus_logins$;
