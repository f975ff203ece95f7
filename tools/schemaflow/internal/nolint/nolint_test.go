package nolint

import (
	"testing"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqlcheck"
)

// file loads content as `migrate lint` does: one change per statement.
func file(t *testing.T, content string) *sqlcheck.File {
	t.Helper()
	local := migrate.NewLocalFile("1_x.sql", []byte(content))
	stmts, err := local.StmtDecls()
	if err != nil {
		t.Fatal(err)
	}
	f := &sqlcheck.File{File: local}
	for _, s := range stmts {
		f.Changes = append(f.Changes, &sqlcheck.Change{Stmt: s})
	}
	return f
}

type finding struct {
	stmt           int // index of the statement
	code, analyzer string
	skipped        bool
}

func check(t *testing.T, content string, findings []finding) {
	t.Helper()
	f := file(t, content)
	rules := Read(f)
	for _, want := range findings {
		pos := f.Changes[want.stmt].Stmt.Pos
		if got := rules.Skips(pos, want.code, want.analyzer); got != want.skipped {
			t.Errorf("%q: statement %d, %s (%s): skipped = %v, want %v", content, want.stmt, want.code, want.analyzer, got, want.skipped)
		}
	}
}

func TestStatementDirectives(t *testing.T) {
	check(t, "-- atlas:nolint DS103\nALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP COLUMN b;\n", []finding{
		{0, "DS103", "destructive", true},
		{0, "BC102", "incompatible", false},
		{1, "DS103", "destructive", false},
	})
	check(t, "-- a comment\n-- atlas:nolint incompatible  DS102\nALTER TABLE t RENAME COLUMN a TO b;\n", []finding{
		{0, "BC102", "incompatible", true},
		{0, "DS102", "destructive", true},
		{0, "DS103", "destructive", false},
	})
	check(t, "-- atlas:nolint\nDROP TABLE t;\n", []finding{
		{0, "DS102", "destructive", true},
		{0, "MF103", "data_depend", true},
	})
}

func TestADetachedDirectiveSkipsNothing(t *testing.T) {
	check(t, "SELECT 1;\n-- atlas:nolint DS102\n\nDROP TABLE t;\n", []finding{
		{1, "DS102", "destructive", false},
	})
}

func TestFileDirectives(t *testing.T) {
	content := "-- atlas:nolint DS103\n\nALTER TABLE t DROP COLUMN a;\nDROP TABLE t;\n"
	check(t, content, []finding{
		{0, "DS103", "destructive", true},
		{1, "DS103", "destructive", true},
		{1, "DS102", "destructive", false},
	})
	if Read(file(t, content)).File {
		t.Error("a file directive with codes skipped the whole file")
	}
	if !Read(file(t, "-- atlas:txmode none\n-- atlas:nolint\n\nDROP TABLE t;\n")).File {
		t.Error("a bare file directive did not skip the file")
	}
}
