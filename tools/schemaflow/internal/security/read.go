// Package security reads what Atlas's community engine does not inspect in a
// PostgreSQL database (row-level security, policies, privileges, the roles
// they name, functions) and writes the statements that turn one such state
// into another. `migrate diff` adds those statements to the engine's, and
// `migrate lint` reads each table's row-level security through RowSecurity.
package security

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"ariga.io/atlas/sql/schema"
	"github.com/lib/pq"

	"schemaflow/internal/pgident"
)

// State is what Atlas's community engine does not inspect: row-level
// security flags, policies, privileges, the roles they name, and functions.
// It is read from one database's catalog; two of them (the replayed history
// and the desired schema) are diffed into statements by Changes.
type State struct {
	tables     map[string]tableFlags // by qualified table name
	relations  map[string]bool       // every table, view and sequence, by qualified name
	columns    map[string]bool       // by qualified table name + "\x00" + column
	policies   map[string]policy     // by qualified table name + "\x00" + policy name
	privileges map[privilege]bool    // value: WITH GRANT OPTION
	functions  map[string]function   // by qualified name + identity arguments
	roles      map[string]role       // roles the objects above name
	members    map[membership]bool   // value: WITH ADMIN OPTION
}

type tableFlags struct {
	schema, name string
	rls, force   bool
}

type policy struct {
	schema, table, name string
	command             string // ALL, SELECT, INSERT, UPDATE, DELETE
	permissive          bool
	roles               []string // sorted; PUBLIC for everyone
	using, check        sql.NullString
}

// privilege is one grant: on a schema, a table-like object, or a column.
type privilege struct {
	kind     string // SCHEMA, TABLE, SEQUENCE, COLUMN
	schema   string
	object   string // table or sequence; empty for a schema
	column   string
	grantee  string // a role name, or PUBLIC
	grantRaw string // SELECT, INSERT, …
}

type function struct {
	schema, name, args, definition string
}

type role struct {
	name                                          string
	login, inherit, bypassRLS, createDB, createRo bool
}

type membership struct{ granted, member string }

// systemSchemas are never the schema's own.
var systemSchemas = []string{"pg_catalog", "information_schema"}

const userNamespaces = `SELECT oid FROM pg_namespace
WHERE nspname <> ALL($1) AND nspname NOT LIKE 'pg\_%'`

// Read reads the state of a database from its catalog: every schema but the
// system ones (pg_catalog, information_schema, pg_*) and those skipped (such
// as the revisions table's).
func Read(ctx context.Context, db schema.ExecQuerier, skip ...string) (*State, error) {
	s := &State{
		tables: map[string]tableFlags{}, relations: map[string]bool{}, columns: map[string]bool{},
		policies:   map[string]policy{},
		privileges: map[privilege]bool{}, functions: map[string]function{},
		roles: map[string]role{}, members: map[membership]bool{},
	}
	excluded := pq.Array(slices.Concat(systemSchemas, skip))
	steps := []func(context.Context, schema.ExecQuerier, any) error{
		s.readTables, s.readPolicies, s.readPrivileges, s.readFunctions, s.readRoles,
	}
	for _, step := range steps {
		if err := step(ctx, db, excluded); err != nil {
			return nil, fmt.Errorf("reading the security catalog: %w", err)
		}
	}
	return s, nil
}

// scan runs a query and hands each row to fn.
func scan(ctx context.Context, db schema.ExecQuerier, query string, fn func(*sql.Rows) error, params ...any) error {
	rows, err := db.QueryContext(ctx, query, params...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *State) readTables(ctx context.Context, db schema.ExecQuerier, excluded any) error {
	err := scan(ctx, db, `SELECT n.nspname, c.relname, c.relkind IN ('r', 'p'), c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.oid IN (`+userNamespaces+`)`, func(r *sql.Rows) error {
		var (
			t       tableFlags
			isTable bool
		)
		if err := r.Scan(&t.schema, &t.name, &isTable, &t.rls, &t.force); err != nil {
			return err
		}
		s.relations[qualified(t.schema, t.name)] = true
		if isTable {
			s.tables[qualified(t.schema, t.name)] = t
		}
		return nil
	}, excluded)
	if err != nil {
		return err
	}
	return scan(ctx, db, `SELECT n.nspname, c.relname, a.attname
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND n.oid IN (`+userNamespaces+`)`, func(r *sql.Rows) error {
		var schemaName, table, column string
		if err := r.Scan(&schemaName, &table, &column); err != nil {
			return err
		}
		s.columns[qualified(schemaName, table)+"\x00"+column] = true
		return nil
	}, excluded)
}

func (s *State) readPolicies(ctx context.Context, db schema.ExecQuerier, excluded any) error {
	return scan(ctx, db, `SELECT n.nspname, c.relname, p.polname,
    CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                  WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
    p.polpermissive,
    ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END
          FROM unnest(p.polroles) r ORDER BY 1),
    pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.oid IN (`+userNamespaces+`)`, func(r *sql.Rows) error {
		var p policy
		if err := r.Scan(&p.schema, &p.table, &p.name, &p.command, &p.permissive, pq.Array(&p.roles), &p.using, &p.check); err != nil {
			return err
		}
		s.policies[qualified(p.schema, p.table)+"\x00"+p.name] = p
		return nil
	}, excluded)
}

func (s *State) readPrivileges(ctx context.Context, db schema.ExecQuerier, excluded any) error {
	// Owners hold every privilege implicitly; only grants to others count.
	add := func(r *sql.Rows) error {
		var (
			p         privilege
			grantable bool
		)
		if err := r.Scan(&p.kind, &p.schema, &p.object, &p.column, &p.grantee, &p.grantRaw, &grantable); err != nil {
			return err
		}
		s.privileges[p] = grantable
		return nil
	}
	queries := []string{
		`SELECT 'SCHEMA', n.nspname, '', '', coalesce(g.rolname, 'PUBLIC'), a.privilege_type, a.is_grantable
FROM pg_namespace n, aclexplode(n.nspacl) a LEFT JOIN pg_roles g ON g.oid = a.grantee
WHERE n.oid IN (` + userNamespaces + `) AND a.grantee <> n.nspowner`,
		`SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, n.nspname, c.relname, '',
       coalesce(g.rolname, 'PUBLIC'), a.privilege_type, a.is_grantable
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
LEFT JOIN pg_roles g ON g.oid = a.grantee
WHERE n.oid IN (` + userNamespaces + `) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND a.grantee <> c.relowner`,
		`SELECT 'COLUMN', n.nspname, c.relname, att.attname, coalesce(g.rolname, 'PUBLIC'),
       a.privilege_type, a.is_grantable
FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(att.attacl) a
LEFT JOIN pg_roles g ON g.oid = a.grantee
WHERE n.oid IN (` + userNamespaces + `) AND NOT att.attisdropped AND a.grantee <> c.relowner`,
	}
	for _, q := range queries {
		if err := scan(ctx, db, q, add, excluded); err != nil {
			return err
		}
	}
	return nil
}

func (s *State) readFunctions(ctx context.Context, db schema.ExecQuerier, excluded any) error {
	// Functions an extension brought in belong to the extension.
	return scan(ctx, db, `SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
       pg_get_functiondef(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.oid IN (`+userNamespaces+`) AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')`, func(r *sql.Rows) error {
		var f function
		if err := r.Scan(&f.schema, &f.name, &f.args, &f.definition); err != nil {
			return err
		}
		f.definition = strings.TrimRight(f.definition, "\n")
		s.functions[qualified(f.schema, f.name)+"("+f.args+")"] = f
		return nil
	}, excluded)
}

// readRoles reads the roles that grants and policies of this database name,
// and the memberships among them. Roles are cluster-wide, so only roles the
// database refers to belong to its schema.
func (s *State) readRoles(ctx context.Context, db schema.ExecQuerier, _ any) error {
	names := map[string]bool{}
	for p := range s.privileges {
		names[p.grantee] = true
	}
	for _, p := range s.policies {
		for _, r := range p.roles {
			names[r] = true
		}
	}
	delete(names, "PUBLIC")
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	array := pq.Array(list)
	err := scan(ctx, db, `SELECT rolname, rolcanlogin, rolinherit, rolbypassrls, rolcreatedb, rolcreaterole
FROM pg_roles WHERE rolname = ANY($1) AND rolname NOT LIKE 'pg\_%' AND NOT rolsuper`, func(r *sql.Rows) error {
		var ro role
		if err := r.Scan(&ro.name, &ro.login, &ro.inherit, &ro.bypassRLS, &ro.createDB, &ro.createRo); err != nil {
			return err
		}
		s.roles[ro.name] = ro
		return nil
	}, array)
	if err != nil {
		return err
	}
	return scan(ctx, db, `SELECT g.rolname, m.rolname, a.admin_option
FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
WHERE g.rolname = ANY($1) AND m.rolname = ANY($1)`, func(r *sql.Rows) error {
		var (
			ms    membership
			admin bool
		)
		if err := r.Scan(&ms.granted, &ms.member, &admin); err != nil {
			return err
		}
		s.members[ms] = admin
		return nil
	}, array)
}

// TableRLS is one table's row-level security.
type TableRLS struct {
	Name            string // the table's name, without its schema
	Enabled, Forced bool
	Policies        []string // the names of its policies, sorted
}

// RowSecurity is the row-level security of every table, by qualified name
// ("schema"."table").
func (s *State) RowSecurity() map[string]TableRLS {
	out := make(map[string]TableRLS, len(s.tables))
	for key, t := range s.tables {
		out[key] = TableRLS{Name: t.name, Enabled: t.rls, Forced: t.force}
	}
	for _, key := range sortedKeys(s.policies) {
		p := s.policies[key]
		table := qualified(p.schema, p.table)
		if t, ok := out[table]; ok {
			t.Policies = append(t.Policies, p.name)
			out[table] = t
		}
	}
	return out
}

func qualified(schemaName, name string) string {
	return pgident.Qualified(schemaName, name)
}

// roleName quotes a grantee, leaving the PUBLIC keyword bare.
func roleName(n string) string {
	if n == "PUBLIC" {
		return n
	}
	return pgident.Quote(n)
}
