package rlslint

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"schemaflow/internal/security"
)

const (
	tenant = `"public"."tenant"`
	plain  = `"public"."plain"`
)

// database is a tenant table (RLS enabled and forced, two policies) and a
// table without row-level security.
func database() Tables {
	return Tables{
		tenant: {Name: "tenant", Enabled: true, Forced: true, Policies: []string{"own", "read"}},
		plain:  {Name: "plain", Policies: []string{"unused"}},
	}
}

// edit returns a copy of tables with one table changed.
func edit(tables Tables, key string, change func(*security.TableRLS)) Tables {
	out := maps.Clone(tables)
	t := out[key]
	t.Policies = slices.Clone(t.Policies)
	change(&t)
	out[key] = t
	return out
}

func TestRemovalsOnlyOnTenantTables(t *testing.T) {
	after := edit(database(), tenant, func(t *security.TableRLS) { *t = security.TableRLS{Name: "tenant"} })
	after = edit(after, plain, func(t *security.TableRLS) { t.Policies = nil })
	want := []string{
		`RLS101: disables row-level security on tenant table "tenant"`,
		`RLS102: stops forcing row-level security on tenant table "tenant"`,
		`RLS103: drops policy "own" of tenant table "tenant"`,
		`RLS103: drops policy "read" of tenant table "tenant"`,
	}
	if got := removals(database(), after); !slices.Equal(got, want) {
		t.Errorf("removals =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNothingTakenIsNoRemoval(t *testing.T) {
	stronger := edit(database(), plain, func(t *security.TableRLS) { t.Enabled, t.Forced = true, true })
	stronger = edit(stronger, tenant, func(t *security.TableRLS) { t.Policies = append(t.Policies, "more") })
	if got := removals(database(), stronger); len(got) != 0 {
		t.Errorf("removals of a change that takes nothing: %q", got)
	}
	// A dropped table is the destructive-change analyzer's finding.
	dropped := maps.Clone(database())
	delete(dropped, tenant)
	if got := removals(database(), dropped); len(got) != 0 {
		t.Errorf("removals of a dropped table: %q", got)
	}
}

func TestEnabledButNotForcedStillCounts(t *testing.T) {
	before := edit(database(), tenant, func(t *security.TableRLS) { t.Forced = false })
	after := edit(before, tenant, func(t *security.TableRLS) { t.Enabled = false })
	want := []string{`RLS101: disables row-level security on tenant table "tenant"`}
	if got := removals(before, after); !slices.Equal(got, want) {
		t.Errorf("removals = %q, want %q", got, want)
	}
}

func TestAFileCountsItsNetEffectNamingTheFirstStatement(t *testing.T) {
	file := Start(database())
	noPolicy := edit(database(), tenant, func(t *security.TableRLS) { t.Policies = []string{"read"} })
	file.After("DROP POLICY own ON tenant;", noPolicy)
	file.After("CREATE POLICY own ON tenant …", database())
	disabled := edit(database(), tenant, func(t *security.TableRLS) { t.Enabled = false })
	file.After("ALTER TABLE tenant DISABLE ROW LEVEL SECURITY;", disabled)
	file.After("COMMENT ON TABLE tenant IS 'x';", disabled)
	want := []string{
		`RLS101: disables row-level security on tenant table "tenant" in statement: ALTER TABLE tenant DISABLE ROW LEVEL SECURITY;`,
	}
	if got := file.Removals(); !slices.Equal(got, want) {
		t.Errorf("Removals =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAFileWithoutStatementsRemovesNothing(t *testing.T) {
	if got := Start(database()).Removals(); len(got) != 0 {
		t.Errorf("Removals = %q", got)
	}
}

var found = []string{`RLS101: disables row-level security on tenant table "tenant" in statement: ALTER TABLE …`}

func TestCheckRefusesWithoutTheOptOut(t *testing.T) {
	for name, content := range map[string]string{
		"no header":       "ALTER TABLE tenant DISABLE ROW LEVEL SECURITY;\n",
		"no reason":       "-- schemaflow:allow-rls-removal\n\nALTER TABLE tenant DISABLE ROW LEVEL SECURITY;\n",
		"blank reason":    "-- schemaflow:allow-rls-removal   \n\nALTER TABLE tenant DISABLE ROW LEVEL SECURITY;\n",
		"no reason, CRLF": "-- schemaflow:allow-rls-removal\r\nALTER TABLE tenant DISABLE ROW LEVEL SECURITY;\r\n",
		"marker split":    "--\nschemaflow:allow-rls-removal because\n",
		"another marker":  "-- schemaflow:allow-rls-removals because\n\nALTER TABLE tenant DISABLE ROW LEVEL SECURITY;\n",
		"not a comment":   "SELECT 1; -- schemaflow:allow-rls-removal because\n",
	} {
		refused, allowed := Check("2_weaken.sql", []byte(content), found)
		if len(allowed) != 0 || len(refused) != 1 {
			t.Errorf("%s: refused %q, allowed %q", name, refused, allowed)
			continue
		}
		for _, w := range []string{"2_weaken.sql: ", "RLS101", "in statement: ALTER TABLE", "-- schemaflow:allow-rls-removal <reason>"} {
			if !strings.Contains(refused[0], w) {
				t.Errorf("%s: %q does not say %q", name, refused[0], w)
			}
		}
	}
}

func TestCheckAllowsWithAReasonAndNamesIt(t *testing.T) {
	content := "-- schemaflow:allow-rls-removal  agent states move to a reporting role  \n\n" +
		"ALTER TABLE tenant DISABLE ROW LEVEL SECURITY;\n"
	refused, allowed := Check("2_weaken.sql", []byte(content), append(found, "RLS103: …"))
	want := []string{
		"2_weaken.sql: allowed (agent states move to a reporting role): " + found[0],
		"2_weaken.sql: allowed (agent states move to a reporting role): RLS103: …",
	}
	if len(refused) != 0 || !slices.Equal(allowed, want) {
		t.Errorf("refused %q, allowed %q; want allowed %q", refused, allowed, want)
	}
}

func TestCheckWithNothingRemovedSaysNothing(t *testing.T) {
	for _, content := range []string{"SELECT 1;\n", "-- schemaflow:allow-rls-removal why\n\nSELECT 1;\n"} {
		if refused, allowed := Check("1_x.sql", []byte(content), nil); refused != nil || allowed != nil {
			t.Errorf("Check(%q) = %q, %q", content, refused, allowed)
		}
	}
}
