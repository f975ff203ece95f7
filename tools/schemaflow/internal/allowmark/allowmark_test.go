package allowmark

import (
	"reflect"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
)

// statements are the byte offsets at which the engine's parser starts each
// statement of content, as `migrate lint` passes them.
func statements(t *testing.T, content string) []int {
	t.Helper()
	stmts, err := migrate.NewLocalFile("1_x.sql", []byte(content)).StmtDecls()
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	for _, s := range stmts {
		starts = append(starts, s.Pos)
	}
	return starts
}

// verdicts are the reasons given for each statement ("" for none).
func verdicts(t *testing.T, content string) []string {
	t.Helper()
	f := Read([]byte(content))
	var out []string
	for _, pos := range statements(t, content) {
		reason, _ := f.Reason(pos)
		out = append(out, reason)
	}
	return out
}

func TestTheMarkerCoversTheStatementDirectlyBelowIt(t *testing.T) {
	content := strings.Join([]string{
		"SET LOCAL lock_timeout = '5s';",
		"-- schemaflow:allow-destructive the image moved to object storage",
		"ALTER TABLE users DROP COLUMN image;",
		"ALTER TABLE users DROP COLUMN name;",
		"",
	}, "\n")
	want := []string{"", "the image moved to object storage", ""}
	if got := verdicts(t, content); !reflect.DeepEqual(got, want) {
		t.Errorf("reasons = %q, want %q", got, want)
	}
	if p := Read([]byte(content)).Problems(statements(t, content)); p != nil {
		t.Errorf("problems = %v, want none", p)
	}
}

func TestOtherCommentsMayStandBetweenMarkerAndStatement(t *testing.T) {
	content := "-- schemaflow:allow-destructive renamed in the API first\r\n-- Modify \"users\" table\r\n-- atlas:nolint MF103\r\nALTER TABLE users\r\n  DROP COLUMN a,\r\n  DROP COLUMN b;\r\n"
	if got := verdicts(t, content); !reflect.DeepEqual(got, []string{"renamed in the API first"}) {
		t.Errorf("reasons = %q", got)
	}
}

func TestABlankLineDetachesTheMarker(t *testing.T) {
	content := "-- schemaflow:allow-destructive why\n\nDROP TABLE t;\n"
	if got := verdicts(t, content); !reflect.DeepEqual(got, []string{""}) {
		t.Errorf("reasons = %q", got)
	}
	want := []Problem{{1, Detached}}
	if got := Read([]byte(content)).Problems(statements(t, content)); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %v, want %v", got, want)
	}
}

func TestAMarkerWithoutAReasonLetsNothingThrough(t *testing.T) {
	for _, line := range []string{"-- schemaflow:allow-destructive", "--schemaflow:allow-destructive   \t"} {
		content := "SELECT 1;\n" + line + "\nDROP TABLE t;\n"
		if got := verdicts(t, content); !reflect.DeepEqual(got, []string{"", ""}) {
			t.Errorf("%q: reasons = %q", line, got)
		}
		want := []Problem{{2, NoReason}}
		if got := Read([]byte(content)).Problems(statements(t, content)); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: problems = %v, want %v", line, got, want)
		}
	}
}

func TestOnlyTheFirstStatementOfALineIsCovered(t *testing.T) {
	content := "-- schemaflow:allow-destructive only the first\nDROP TABLE a; DROP TABLE b;\n"
	if got := verdicts(t, content); !reflect.DeepEqual(got, []string{"only the first", ""}) {
		t.Errorf("reasons = %q", got)
	}
}

func TestAMarkerInsideAStatementIsDetached(t *testing.T) {
	content := "ALTER TABLE t\n-- schemaflow:allow-destructive inside\n  DROP COLUMN a;\n"
	if got := verdicts(t, content); !reflect.DeepEqual(got, []string{""}) {
		t.Errorf("reasons = %q", got)
	}
	want := []Problem{{2, Detached}}
	if got := Read([]byte(content)).Problems(statements(t, content)); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %v, want %v", got, want)
	}
}

func TestLookalikesAreNoMarkers(t *testing.T) {
	content := "SELECT 1; -- schemaflow:allow-destructive trailing\n-- schemaflow:allow-destructives typo\n/* schemaflow:allow-destructive block */\nDROP TABLE t;\n"
	f := Read([]byte(content))
	if len(f.markers) != 0 {
		t.Errorf("markers = %v, want none", f.markers)
	}
}
