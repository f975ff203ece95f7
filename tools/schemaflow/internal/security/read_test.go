package security

import (
	"reflect"
	"testing"
)

func TestRowSecurityGroupsPoliciesByTableInNameOrder(t *testing.T) {
	s := withTable(withTable(emptySecurity(), "tenant", true, true), "plain", false, false)
	s.tables[qualified("app", "tenant")] = tableFlags{schema: "app", name: "tenant", rls: true}
	for _, p := range []policy{
		{schema: "public", table: "tenant", name: "write"},
		{schema: "public", table: "tenant", name: "read"},
		{schema: "app", table: "tenant", name: "other_schema"},
	} {
		s.policies[qualified(p.schema, p.table)+"\x00"+p.name] = p
	}
	want := map[string]TableRLS{
		`"public"."tenant"`: {Name: "tenant", Enabled: true, Forced: true, Policies: []string{"read", "write"}},
		`"public"."plain"`:  {Name: "plain"},
		`"app"."tenant"`:    {Name: "tenant", Enabled: true, Policies: []string{"other_schema"}},
	}
	if got := s.RowSecurity(); !reflect.DeepEqual(got, want) {
		t.Errorf("RowSecurity() =\n%v\nwant\n%v", got, want)
	}
}
