package main

import (
	"strings"
	"testing"

	"schemaflow/internal/security"
)

func TestRLSRemovalsOnlyOnTenantTables(t *testing.T) {
	before := map[string]security.TableRLS{
		`"public"."tenant"`: {Name: "tenant", Enabled: true, Forced: true, Policies: []string{"own"}},
		`"public"."plain"`:  {Name: "plain"},
	}
	after := map[string]security.TableRLS{
		`"public"."tenant"`: {Name: "tenant"},
		`"public"."plain"`:  {Name: "plain"},
	}
	got := strings.Join(rlsRemovals(before, after), "\n")
	for _, code := range []string{"RLS101", "RLS102", "RLS103"} {
		if !strings.Contains(got, code) {
			t.Errorf("missing %s in:\n%s", code, got)
		}
	}
	if strings.Contains(got, `"plain"`) {
		t.Errorf("a table without RLS was reported:\n%s", got)
	}
}
