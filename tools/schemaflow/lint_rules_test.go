package main

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"schemaflow/internal/allowmark"
)

// lintRule is one case of testdata/lint_rules.json, the table that
// tests/tooling/test_sqlfile.py reads too: squawk's wrapper and `migrate
// lint` must find the same statements, transaction mode and markers.
type lintRule struct {
	Name     string
	SQL      string
	TxMode   string
	Reasons  []string // per statement, "" for none
	Problems [][2]any // 1-based line, "no reason" or "detached"
}

func TestLintRulesSharedWithTheSquawkWrapper(t *testing.T) {
	raw, err := os.ReadFile("testdata/lint_rules.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []lintRule
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	problems := map[string]string{allowmark.NoReason: "no reason", allowmark.Detached: "detached"}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			f := migrate.NewLocalFile("1_x.sql", []byte(c.SQL))
			mode, err := fileTxMode(f, "file")
			if err != nil || mode != c.TxMode {
				t.Errorf("tx mode = %q, %v; want %q", mode, err, c.TxMode)
			}
			stmts, err := f.StmtDecls()
			if err != nil {
				t.Fatal(err)
			}
			marks := allowmark.Read(f.Bytes())
			reasons := []string{}
			starts := []int{}
			for _, s := range stmts {
				reason, _ := marks.Reason(s.Pos)
				reasons = append(reasons, reason)
				starts = append(starts, s.Pos)
			}
			if !reflect.DeepEqual(reasons, c.Reasons) {
				t.Errorf("reasons by statement = %q, want %q", reasons, c.Reasons)
			}
			found := [][2]any{}
			for _, p := range marks.Problems(starts) {
				found = append(found, [2]any{float64(p.Line), problems[p.Text]})
			}
			if want := append([][2]any{}, c.Problems...); !reflect.DeepEqual(found, want) {
				t.Errorf("problems = %v, want %v", found, want)
			}
		})
	}
}
