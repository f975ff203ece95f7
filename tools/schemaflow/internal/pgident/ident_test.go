package pgident

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"users":   `"users"`,
		`we"ird`:  `"we""ird"`,
		"Mixed 1": `"Mixed 1"`,
		"":        `""`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestQualified(t *testing.T) {
	if got := Qualified("atlas_schema_revisions", `a"b`); got != `"atlas_schema_revisions"."a""b"` {
		t.Errorf("Qualified = %s", got)
	}
}
