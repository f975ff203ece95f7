-- Distribute the schema over a Citus cluster; a no-op on plain PostgreSQL.
--
-- Where the citus extension is installed in this database, in one
-- transaction (all or nothing):
--   * users becomes a reference table (a copy on every node), so the
--     foreign key projects.owner_id -> users stays enforceable; sessions and
--     accounts, which reference users, stay on the coordinator (Citus adds
--     them to its metadata as local tables through that foreign key);
--     verifications stays a plain table on the coordinator;
--   * projects is hash-distributed by id, and project_files and agent_states
--     by project_id, co-located with projects: everything of one project
--     lives in one shard group;
--   * the coordinator forwards SET LOCAL to the workers, where the shards'
--     row-level security policies read app.user_id.
-- Elsewhere it raises a NOTICE saying so and changes nothing.
--
-- Preconditions on Citus and the reasons for each step: docs/scaling.md.
-- The Citus function calls below are resolved only when their branch runs,
-- so the block compiles and runs on a server without Citus.

DO $distribute$
DECLARE
    available boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        SELECT EXISTS (
            SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'citus'
        ) INTO available;
        RAISE NOTICE 'citus is not installed in database % (%): nothing to distribute, the tables stay local',
            current_database(),
            CASE WHEN available THEN 'available on this server but not created'
                 ELSE 'not available on this server' END;
        RETURN;
    END IF;

    IF EXISTS (
        SELECT FROM pg_dist_partition WHERE logicalrelid = 'public.projects'::regclass
    ) THEN
        RAISE NOTICE 'projects is already distributed: nothing to do';
        RETURN;
    END IF;

    -- sessions and accounts can stay local only if the coordinator holds a
    -- placement of users (citus.enable_local_reference_table_foreign_keys).
    IF NOT EXISTS (SELECT FROM pg_dist_node WHERE groupid = 0) THEN
        RAISE EXCEPTION 'the coordinator is not registered in pg_dist_node'
            USING HINT = 'run SELECT citus_set_coordinator_host(''<coordinator host>'', <port>); then this script again';
    END IF;

    -- One connection per worker: creating the tables and copying any
    -- existing rows in one transaction, then changing more objects, is what
    -- parallel connections would refuse.
    SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

    -- Distribute the referenced table first. While projects still points at
    -- users, making users a reference table would pull projects and its
    -- children into the coordinator's local tables; so this foreign key is
    -- dropped and re-created around the distribution (same transaction).
    ALTER TABLE public.projects DROP CONSTRAINT projects_owner_id_fkey;
    PERFORM create_reference_table('public.users');
    PERFORM create_distributed_table('public.projects', 'id');
    PERFORM create_distributed_table(
        'public.project_files', 'project_id', colocate_with => 'public.projects'
    );
    PERFORM create_distributed_table(
        'public.agent_states', 'project_id', colocate_with => 'public.projects'
    );
    ALTER TABLE public.projects ADD CONSTRAINT projects_owner_id_fkey
        FOREIGN KEY (owner_id) REFERENCES public.users(id) ON DELETE CASCADE;

    -- The unit of work sets app.user_id with SET LOCAL; forward it.
    EXECUTE format(
        'ALTER DATABASE %I SET citus.propagate_set_commands = %L',
        current_database(),
        'local'
    );
    RAISE NOTICE 'distributed: users (reference), projects, project_files, agent_states (by project id, co-located)';
END
$distribute$;
