package main

import (
	"errors"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
)

// A failed replay names the file as its reader knows it: the desired
// schema's files without the ordering prefix desiredState gives them, the
// migration files with their version.
func TestExplainReplayNamesTheFailedFile(t *testing.T) {
	data := []byte("SELECT 1;\nCREATE TABLE t (a nope);\n")
	failed := &migrate.StmtExecError{
		File: migrate.NewLocalFile("1_schema.sql", data),
		Stmt: &migrate.Stmt{Pos: strings.Index(string(data), "CREATE"), Text: "CREATE TABLE t (a nope);"},
		Err:  errors.New(`type "nope" does not exist`),
	}
	for what, want := range map[replayed]string{
		desiredSchema:      `the desired schema does not run on the dev database: schema.sql line 2: type "nope" does not exist`,
		migrationDirectory: `the migration directory does not run on the dev database: 1_schema.sql line 2: type "nope" does not exist`,
	} {
		if got := explainReplay(failed, what).Error(); !strings.HasPrefix(got, want+"\n") {
			t.Errorf("%s: got\n%s\nwant it to start with\n%s", what, got, want)
		}
	}
}
