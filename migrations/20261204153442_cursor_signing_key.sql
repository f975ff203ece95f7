-- Written by `nox -s generate -- cursor_signing_key`; the two settings below
-- and the INSERT at the end were added by hand.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Create "cursor_signing_key" table
CREATE TABLE "public"."cursor_signing_key" ("id" boolean NOT NULL DEFAULT true, "key" bytea NOT NULL DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())), PRIMARY KEY ("id"), CONSTRAINT "cursor_signing_key_length" CHECK (octet_length(key) >= 32), CONSTRAINT "cursor_signing_key_one_row" CHECK (id));
-- Set comment to table: "cursor_signing_key"
COMMENT ON TABLE "public"."cursor_signing_key" IS 'One row: the key that signs listing cursors, shared by every process of the application.';
-- Create role "app_login"
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_login') THEN
        CREATE ROLE "app_login" LOGIN NOINHERIT NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
-- Grant role "app_user" to "app_login"
GRANT "app_user" TO "app_login";
-- Grant SELECT on table: "cursor_signing_key" to role "app_login"
GRANT SELECT ON TABLE "public"."cursor_signing_key" TO "app_login";
-- Added by hand (data, which the engine does not diff): the key itself,
-- made here once, from the column's default.
INSERT INTO "public"."cursor_signing_key" DEFAULT VALUES ON CONFLICT DO NOTHING;
