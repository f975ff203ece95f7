-- Written by `nox -s generate -- least_privilege`; the two settings below
-- were added in review: ENABLE ROW LEVEL SECURITY takes an ACCESS EXCLUSIVE
-- lock on users, so give up rather than queue behind long transactions.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Create role "app_auth"
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_auth') THEN
        CREATE ROLE "app_auth" NOLOGIN INHERIT NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
-- Create policy "users_auth_layer" on table: "users"
CREATE POLICY "users_auth_layer" ON "public"."users" AS PERMISSIVE FOR ALL TO "app_auth" USING (true) WITH CHECK (true);
-- Create policy "users_own_row" on table: "users"
CREATE POLICY "users_own_row" ON "public"."users" AS PERMISSIVE FOR SELECT TO "app_user" USING ((id = (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid));
-- Enable row-level security on table: "users"
ALTER TABLE "public"."users" ENABLE ROW LEVEL SECURITY;
-- Force row-level security on table: "users"
ALTER TABLE "public"."users" FORCE ROW LEVEL SECURITY;
-- Grant USAGE on schema: "public" to role "app_auth"
GRANT USAGE ON SCHEMA "public" TO "app_auth";
-- Grant SELECT, INSERT on table: "users" to role "app_auth"
GRANT SELECT, INSERT ON TABLE "public"."users" TO "app_auth";
