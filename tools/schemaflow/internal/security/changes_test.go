package security

import (
	"database/sql"
	"strings"
	"testing"
)

func emptySecurity() *State {
	return &State{
		tables: map[string]tableFlags{}, relations: map[string]bool{}, columns: map[string]bool{},
		policies: map[string]policy{}, privileges: map[privilege]bool{}, functions: map[string]function{},
		roles: map[string]role{}, members: map[membership]bool{},
	}
}

func withTable(s *State, name string, rls, force bool) *State {
	key := qualified("public", name)
	s.tables[key] = tableFlags{schema: "public", name: name, rls: rls, force: force}
	s.relations[key] = true
	return s
}

func render(current, desired *State) string {
	var b strings.Builder
	for _, c := range Changes(current, desired) {
		b.WriteString("-- " + c.Comment + "\n" + c.Cmd + ";\n")
	}
	return b.String()
}

func textPolicy(using, check string) policy {
	p := policy{schema: "public", table: "t", name: "p", command: "ALL", permissive: true, roles: []string{"app_user"}}
	if using != "" {
		p.using = sql.NullString{String: using, Valid: true}
	}
	if check != "" {
		p.check = sql.NullString{String: check, Valid: true}
	}
	return p
}

func TestIdenticalStatesNeedNothing(t *testing.T) {
	a, b := withTable(emptySecurity(), "t", true, true), withTable(emptySecurity(), "t", true, true)
	if got := render(a, b); got != "" {
		t.Errorf("changes for identical states:\n%s", got)
	}
}

func TestPolicyChangesAlterWhenPostgresCanElseRecreate(t *testing.T) {
	key := qualified("public", "t") + "\x00p"
	for _, tc := range []struct {
		name     string
		from, to policy
		want     []string
		dontWant []string
	}{
		{"using", textPolicy("a", "a"), textPolicy("b", "a"),
			[]string{`ALTER POLICY "p" ON "public"."t" USING (b);`}, []string{"DROP POLICY"}},
		{"removed with check", textPolicy("a", "a"), textPolicy("a", ""),
			[]string{`DROP POLICY "p"`, `CREATE POLICY "p" ON "public"."t" AS PERMISSIVE FOR ALL TO "app_user" USING (a);`}, nil},
		{"command", textPolicy("a", ""), func() policy { p := textPolicy("a", ""); p.command = "SELECT"; return p }(),
			[]string{`DROP POLICY "p"`, "FOR SELECT"}, []string{"ALTER POLICY"}},
	} {
		current, desired := withTable(emptySecurity(), "t", true, true), withTable(emptySecurity(), "t", true, true)
		current.policies[key], desired.policies[key] = tc.from, tc.to
		got := render(current, desired)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: missing %q in:\n%s", tc.name, w, got)
			}
		}
		for _, w := range tc.dontWant {
			if strings.Contains(got, w) {
				t.Errorf("%s: unexpected %q in:\n%s", tc.name, w, got)
			}
		}
		if strings.Contains(got, "DROP POLICY") && strings.Index(got, "DROP POLICY") > strings.Index(got, "CREATE POLICY") {
			t.Errorf("%s: the drop must come before the create:\n%s", tc.name, got)
		}
	}
}

func TestPrivilegesAreGroupedOrderedAndRevokedFirst(t *testing.T) {
	current, desired := withTable(emptySecurity(), "t", false, false), withTable(emptySecurity(), "t", false, false)
	p := func(priv, column string) privilege {
		kind := "TABLE"
		if column != "" {
			kind = "COLUMN"
			desired.columns[qualified("public", "t")+"\x00"+column] = true
		}
		return privilege{kind: kind, schema: "public", object: "t", column: column, grantee: "app_user", grantRaw: priv}
	}
	current.privileges[p("DELETE", "")] = false
	current.privileges[p("SELECT", "")] = true
	desired.privileges[p("SELECT", "")] = false
	desired.privileges[p("UPDATE", "")] = false
	desired.privileges[p("INSERT", "")] = false
	desired.privileges[p("UPDATE", "b")] = false
	desired.privileges[p("UPDATE", "a")] = false
	got := render(current, desired)
	want := []string{
		`REVOKE DELETE ON TABLE "public"."t" FROM "app_user";`,
		`REVOKE GRANT OPTION FOR SELECT ON TABLE "public"."t" FROM "app_user";`,
		`GRANT UPDATE ("a", "b") ON TABLE "public"."t" TO "app_user";`,
		`GRANT INSERT, UPDATE ON TABLE "public"."t" TO "app_user";`,
	}
	last := -1
	for _, w := range want {
		i := strings.Index(got, w)
		if i < 0 {
			t.Fatalf("missing %q in:\n%s", w, got)
		}
		if i < last {
			t.Errorf("%q is out of order in:\n%s", w, got)
		}
		last = i
	}
}

func TestPrivilegesOfDroppedObjectsAreLeftToTheEngine(t *testing.T) {
	current, desired := withTable(emptySecurity(), "gone", true, true), emptySecurity()
	current.privileges[privilege{kind: "TABLE", schema: "public", object: "gone", grantee: "app_user", grantRaw: "SELECT"}] = false
	current.policies[qualified("public", "gone")+"\x00p"] = policy{schema: "public", table: "gone", name: "p", command: "ALL"}
	if got := render(current, desired); got != "" {
		t.Errorf("statements for a dropped table:\n%s", got)
	}
}

func TestNewRoleIsGuardedAndHasNoPassword(t *testing.T) {
	desired := emptySecurity()
	desired.roles["o'brien"] = role{name: "o'brien", inherit: true}
	got := render(emptySecurity(), desired)
	for _, w := range []string{`rolname = 'o''brien'`, `CREATE ROLE "o'brien" NOLOGIN INHERIT`} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if strings.Contains(strings.ToUpper(got), "PASSWORD") {
		t.Errorf("a password in:\n%s", got)
	}
}
