package security

import (
	"fmt"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"

	"schemaflow/internal/pgident"
)

// privilegeOrder is PostgreSQL's own order of privileges, so a statement
// lists them the same way every time.
var privilegeOrder = []string{
	"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER",
	"MAINTAIN", "USAGE", "CREATE", "EXECUTE",
}

// Changes are the statements that bring `current` (the replayed
// history) to `desired` (the schema file), in an order that always applies
// after the engine's own changes: roles first (grants and policies name
// them), then functions (policies and defaults call them), policies, the
// row-level security flags, privileges, and last the functions that went.
func Changes(current, desired *State) []*migrate.Change {
	var out []*migrate.Change
	add := func(comment, cmd string) {
		out = append(out, &migrate.Change{Comment: comment, Cmd: cmd})
	}
	for _, name := range sortedKeys(desired.roles) {
		if _, known := current.roles[name]; !known {
			add(fmt.Sprintf("Create role %q", name), createRole(desired.roles[name]))
		}
	}
	for _, m := range sortedMemberships(desired.members) {
		admin := desired.members[m]
		if was, ok := current.members[m]; !ok || was != admin {
			suffix := ""
			if admin {
				suffix = " WITH ADMIN OPTION"
			}
			add(fmt.Sprintf("Grant role %q to %q", m.granted, m.member),
				fmt.Sprintf("GRANT %s TO %s%s", pgident.Quote(m.granted), pgident.Quote(m.member), suffix))
		}
	}
	for _, key := range sortedKeys(desired.functions) {
		f := desired.functions[key]
		if was, ok := current.functions[key]; !ok || was.definition != f.definition {
			add(fmt.Sprintf("Create or replace function %q", f.name), f.definition)
		}
	}
	out = append(out, policyChanges(current, desired)...)
	for _, key := range sortedKeys(desired.tables) {
		t, was := desired.tables[key], current.tables[key]
		if t.rls != was.rls {
			add(fmt.Sprintf("%s row-level security on table: %q", onOff(t.rls, "Enable", "Disable"), t.name),
				fmt.Sprintf("ALTER TABLE %s %s ROW LEVEL SECURITY", key, onOff(t.rls, "ENABLE", "DISABLE")))
		}
		if t.force != was.force {
			add(fmt.Sprintf("%s row-level security on table: %q", onOff(t.force, "Force", "Stop forcing"), t.name),
				fmt.Sprintf("ALTER TABLE %s %s ROW LEVEL SECURITY", key, onOff(t.force, "FORCE", "NO FORCE")))
		}
	}
	out = append(out, privilegeChanges(current, desired)...)
	for _, key := range sortedKeys(current.functions) {
		if _, kept := desired.functions[key]; !kept {
			f := current.functions[key]
			add(fmt.Sprintf("Drop function %q", f.name),
				fmt.Sprintf("DROP FUNCTION %s(%s)", qualified(f.schema, f.name), f.args))
		}
	}
	return out
}

func onOff(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
}

func createRole(r role) string {
	attrs := []string{
		onOff(r.login, "LOGIN", "NOLOGIN"),
		onOff(r.inherit, "INHERIT", "NOINHERIT"),
		onOff(r.bypassRLS, "BYPASSRLS", "NOBYPASSRLS"),
		onOff(r.createDB, "CREATEDB", "NOCREATEDB"),
		onOff(r.createRo, "CREATEROLE", "NOCREATEROLE"),
	}
	// Roles are cluster-wide: another database (or an earlier deployment)
	// may have made it already. No password is ever written here.
	return fmt.Sprintf(`DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN
        CREATE ROLE %s %s;
    END IF;
END
$$`, quoteLiteral(r.name), pgident.Quote(r.name), strings.Join(attrs, " "))
}

// policyChanges drops what went (and what ALTER POLICY cannot change: the
// command, permissive or restrictive, removing a USING or WITH CHECK), alters
// what it can, then creates.
func policyChanges(current, desired *State) []*migrate.Change {
	var drops, alters, creates []*migrate.Change
	for _, key := range sortedKeys(current.policies) {
		p := current.policies[key]
		if _, tableKept := desired.tables[qualified(p.schema, p.table)]; !tableKept {
			continue // the engine drops the table, and its policies with it
		}
		next, kept := desired.policies[key]
		if !kept || !alterable(p, next) {
			drops = append(drops, &migrate.Change{
				Comment: fmt.Sprintf("Drop policy %q on table: %q", p.name, p.table),
				Cmd:     fmt.Sprintf("DROP POLICY %s ON %s", pgident.Quote(p.name), qualified(p.schema, p.table)),
			})
		}
	}
	for _, key := range sortedKeys(desired.policies) {
		p := desired.policies[key]
		was, existed := current.policies[key]
		switch {
		case existed && alterable(was, p):
			if cmd := alterPolicy(was, p); cmd != "" {
				alters = append(alters, &migrate.Change{
					Comment: fmt.Sprintf("Modify policy %q on table: %q", p.name, p.table),
					Cmd:     cmd,
				})
			}
		default:
			creates = append(creates, &migrate.Change{
				Comment: fmt.Sprintf("Create policy %q on table: %q", p.name, p.table),
				Cmd:     createPolicy(p),
			})
		}
	}
	return append(append(drops, alters...), creates...)
}

// alterable says whether ALTER POLICY can turn `from` into `to`.
func alterable(from, to policy) bool {
	return from.command == to.command && from.permissive == to.permissive &&
		(to.using.Valid || !from.using.Valid) && (to.check.Valid || !from.check.Valid)
}

func alterPolicy(from, to policy) string {
	var parts []string
	if strings.Join(from.roles, ",") != strings.Join(to.roles, ",") {
		parts = append(parts, "TO "+roleList(to.roles))
	}
	if to.using != from.using {
		parts = append(parts, "USING ("+to.using.String+")")
	}
	if to.check != from.check {
		parts = append(parts, "WITH CHECK ("+to.check.String+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("ALTER POLICY %s ON %s %s", pgident.Quote(to.name), qualified(to.schema, to.table), strings.Join(parts, " "))
}

func createPolicy(p policy) string {
	cmd := fmt.Sprintf("CREATE POLICY %s ON %s AS %s FOR %s TO %s", pgident.Quote(p.name),
		qualified(p.schema, p.table), onOff(p.permissive, "PERMISSIVE", "RESTRICTIVE"), p.command, roleList(p.roles))
	if p.using.Valid {
		cmd += " USING (" + p.using.String + ")"
	}
	if p.check.Valid {
		cmd += " WITH CHECK (" + p.check.String + ")"
	}
	return cmd
}

func roleList(roles []string) string {
	quoted := make([]string, len(roles))
	for i, r := range roles {
		quoted[i] = roleName(r)
	}
	return strings.Join(quoted, ", ")
}

// grantTarget groups privileges into one statement: same object, grantee
// and grant option.
type grantTarget struct {
	kind, schema, object, grantee string
	grantable                     bool
}

// privilegeChanges revokes before it grants. A grant option added to an
// existing privilege is a GRANT … WITH GRANT OPTION; one taken away is a
// REVOKE GRANT OPTION FOR. Privileges on tables the engine drops go with
// them.
func privilegeChanges(current, desired *State) []*migrate.Change {
	revokes := map[grantTarget][]privilege{}
	revokeOption := map[grantTarget][]privilege{}
	grants := map[grantTarget][]privilege{}
	target := func(p privilege, grantable bool) grantTarget {
		return grantTarget{kind: p.kind, schema: p.schema, object: p.object, grantee: p.grantee, grantable: grantable}
	}
	for p, option := range current.privileges {
		if !objectKept(p, desired) {
			continue
		}
		switch next, kept := desired.privileges[p]; {
		case !kept:
			revokes[target(p, false)] = append(revokes[target(p, false)], p)
		case option && !next:
			revokeOption[target(p, false)] = append(revokeOption[target(p, false)], p)
		}
	}
	for p, option := range desired.privileges {
		if was, had := current.privileges[p]; !had || (option && !was) {
			grants[target(p, option)] = append(grants[target(p, option)], p)
		}
	}
	var out []*migrate.Change
	out = append(out, grantStatements("Revoke", revokes)...)
	out = append(out, grantStatements("Revoke grant option", revokeOption)...)
	return append(out, grantStatements("Grant", grants)...)
}

// objectKept reports whether a privilege's object is still there after the
// engine's changes (privileges on what it drops go with it).
func objectKept(p privilege, desired *State) bool {
	switch p.kind {
	case "SCHEMA":
		return true
	case "COLUMN":
		return desired.columns[qualified(p.schema, p.object)+"\x00"+p.column]
	default:
		return desired.relations[qualified(p.schema, p.object)]
	}
}

func grantStatements(verb string, groups map[grantTarget][]privilege) []*migrate.Change {
	keys := make([]grantTarget, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return fmt.Sprint(a.kind, a.schema, a.object, a.grantee, a.grantable) <
			fmt.Sprint(b.kind, b.schema, b.object, b.grantee, b.grantable)
	})
	var out []*migrate.Change
	for _, k := range keys {
		privs := privilegeList(groups[k])
		var on, subject string
		switch k.kind {
		case "SCHEMA":
			on, subject = "SCHEMA "+pgident.Quote(k.schema), fmt.Sprintf("schema: %q", k.schema)
		case "SEQUENCE":
			on, subject = "SEQUENCE "+qualified(k.schema, k.object), fmt.Sprintf("sequence: %q", k.object)
		default:
			on, subject = "TABLE "+qualified(k.schema, k.object), fmt.Sprintf("table: %q", k.object)
		}
		var cmd string
		switch verb {
		case "Grant":
			cmd = fmt.Sprintf("GRANT %s ON %s TO %s", privs, on, roleName(k.grantee))
			if k.grantable {
				cmd += " WITH GRANT OPTION"
			}
		case "Revoke":
			cmd = fmt.Sprintf("REVOKE %s ON %s FROM %s", privs, on, roleName(k.grantee))
		default:
			cmd = fmt.Sprintf("REVOKE GRANT OPTION FOR %s ON %s FROM %s", privs, on, roleName(k.grantee))
		}
		out = append(out, &migrate.Change{
			Comment: fmt.Sprintf("%s %s on %s to role %q", verb, privs, subject, k.grantee),
			Cmd:     cmd,
		})
	}
	return out
}

// privilegeList renders privileges in PostgreSQL's order, column privileges
// as PRIV (col, …).
func privilegeList(privs []privilege) string {
	columns := map[string][]string{}
	for _, p := range privs {
		columns[p.grantRaw] = append(columns[p.grantRaw], p.column)
	}
	var parts []string
	for _, name := range privilegeOrder {
		cols, ok := columns[name]
		if !ok {
			continue
		}
		sort.Strings(cols)
		if cols[0] == "" {
			parts = append(parts, name)
			continue
		}
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = pgident.Quote(c)
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", name, strings.Join(quoted, ", ")))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedMemberships(m map[membership]bool) []membership {
	keys := make([]membership, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].granted+"\x00"+keys[i].member < keys[j].granted+"\x00"+keys[j].member
	})
	return keys
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
