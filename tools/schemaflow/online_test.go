package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// The online split, run on states built in Go and planned by the engine's
// own PostgreSQL planner (postgres.DefaultPlan needs no database).

func text(t *testing.T, null bool) *schema.ColumnType {
	t.Helper()
	return &schema.ColumnType{Type: &schema.StringType{T: "text"}, Raw: "text", Null: null}
}

// realmOf puts tables into a realm's public schema.
func realmOf(tables ...*schema.Table) *schema.Realm {
	s := schema.New("public")
	for _, t := range tables {
		s.AddTables(t)
	}
	return schema.NewRealm(s)
}

// notes is a table as it exists today: an id and a body.
func notes(t *testing.T) *schema.Table {
	t.Helper()
	tbl := schema.NewTable("notes").AddColumns(
		schema.NewColumn("id").SetType(&schema.IntegerType{T: "bigint"}),
		&schema.Column{Name: "body", Type: text(t, true)},
		&schema.Column{Name: "author", Type: text(t, true)},
	)
	tbl.SetPrimaryKey(schema.NewPrimaryKey(tbl.Columns[0]))
	return tbl
}

// written diffs the two realms normalized, splits and plans them, and
// returns each file's text by its kind.
func written(t *testing.T, from, to *schema.Realm) map[fileKind]string {
	t.Helper()
	changes, err := postgres.DefaultDiff.RealmDiff(from, to, schema.DiffNormalized())
	if err != nil {
		t.Fatal(err)
	}
	planned, err := planFiles(context.Background(), postgres.DefaultPlan, "change", splitOnline(changes), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[fileKind]string{}
	for _, p := range planned {
		p.plan.Version = "1"
		files, err := migrate.DefaultFormatter.Format(p.plan)
		if err != nil {
			t.Fatal(err)
		}
		out[p.kind] = string(files[0].Bytes())
	}
	return out
}

func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func lacks(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("%s holds %q:\n%s", what, w, text)
		}
	}
}

// inOrder checks that the statements appear in this order.
func inOrder(t *testing.T, text string, statements ...string) {
	t.Helper()
	at := -1
	for _, s := range statements {
		i := strings.Index(text, s)
		if i < 0 || i < at {
			t.Fatalf("%q is missing or out of order in:\n%s", s, text)
		}
		at = i
	}
}

func TestANewTableStaysPlainInOneFile(t *testing.T) {
	tbl := notes(t)
	tbl.AddIndexes(schema.NewIndex("notes_body_idx").AddColumns(tbl.Columns[1]))
	tbl.AddChecks(schema.NewCheck().SetName("notes_body_short").SetExpr("char_length(body) < 100"))
	files := written(t, realmOf(), realmOf(tbl))
	if len(files) != 1 || files[mainFile] == "" {
		t.Fatalf("want the first file only, got %v", files)
	}
	main := files[mainFile]
	inOrder(t, main, "SET LOCAL lock_timeout = '5s';", "SET LOCAL statement_timeout = 0;", `CREATE TABLE "public"."notes"`)
	contains(t, "the file", main, `CREATE INDEX "notes_body_idx" ON "public"."notes" ("body");`,
		`CONSTRAINT "notes_body_short" CHECK (char_length(body) < 100)`)
	lacks(t, "the file", main, "CONCURRENTLY", "NOT VALID", "VALIDATE", "atlas:txmode")
}

func TestConstraintsOnAnExistingTableAreAddedNotValidThenValidated(t *testing.T) {
	users := schema.NewTable("users").AddColumns(schema.NewColumn("id").SetType(&schema.IntegerType{T: "bigint"}))
	users.SetPrimaryKey(schema.NewPrimaryKey(users.Columns[0]))
	from, to := notes(t), notes(t)
	to.AddColumns(schema.NewColumn("user_id").SetType(&schema.IntegerType{T: "bigint"}))
	toUsers := schema.NewTable("users").AddColumns(schema.NewColumn("id").SetType(&schema.IntegerType{T: "bigint"}))
	toUsers.SetPrimaryKey(schema.NewPrimaryKey(toUsers.Columns[0]))
	to.AddChecks(schema.NewCheck().SetName("notes_body_short").SetExpr("char_length(body) < 100"))
	to.AddForeignKeys(schema.NewForeignKey("notes_user_fkey").AddColumns(to.Columns[3]).
		SetRefTable(toUsers).AddRefColumns(toUsers.Columns[0]))
	files := written(t, realmOf(from, users), realmOf(to, toUsers))
	if len(files) != 2 || files[concurrentlyFile] != "" {
		t.Fatalf("want the first and the validate file, got %v", files)
	}
	contains(t, "the first file", files[mainFile],
		`ADD CONSTRAINT "notes_body_short" CHECK (char_length(body) < 100) NOT VALID`,
		`ADD CONSTRAINT "notes_user_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") NOT VALID`)
	inOrder(t, files[validateFile], "SET LOCAL lock_timeout = '5s';", "SET LOCAL statement_timeout = 0;")
	contains(t, "the validate file", files[validateFile],
		`ALTER TABLE "public"."notes" VALIDATE CONSTRAINT "notes_body_short";`,
		`ALTER TABLE "public"."notes" VALIDATE CONSTRAINT "notes_user_fkey";`)
}

func TestAChangedCheckIsReplacedInOneStatementNotValid(t *testing.T) {
	from, to := notes(t), notes(t)
	from.AddChecks(schema.NewCheck().SetName("c1").SetExpr("(char_length(body) > 0)"))
	to.AddChecks(schema.NewCheck().SetName("c1").SetExpr("(char_length(body) > 1)"))
	files := written(t, realmOf(from), realmOf(to))
	contains(t, "the first file", files[mainFile],
		"-- squawk-ignore ban-drop-constraint\n"+
			`ALTER TABLE "public"."notes" DROP CONSTRAINT "c1", ADD CONSTRAINT "c1" CHECK (char_length(body) > 1) NOT VALID;`)
	contains(t, "the validate file", files[validateFile], `ALTER TABLE "public"."notes" VALIDATE CONSTRAINT "c1";`)
}

func TestIndexesOfAnExistingTableAreBuiltAndDroppedConcurrently(t *testing.T) {
	from, to := notes(t), notes(t)
	from.AddIndexes(schema.NewIndex("notes_author_idx").AddColumns(from.Columns[2]))
	to.AddIndexes(schema.NewIndex("notes_body_idx").AddColumns(to.Columns[1]))
	files := written(t, realmOf(from), realmOf(to))
	if len(files) != 1 {
		t.Fatalf("want the concurrently file only, got %v", files)
	}
	c := files[concurrentlyFile]
	if !strings.HasPrefix(c, "-- atlas:txmode none\n\n") {
		t.Fatalf("the concurrently file does not open with the txmode directive:\n%s", c)
	}
	inOrder(t, c, "SET lock_timeout = 0;", "SET statement_timeout = 0;",
		`DROP INDEX CONCURRENTLY "public"."notes_author_idx";`,
		`CREATE INDEX CONCURRENTLY "notes_body_idx" ON "public"."notes" ("body");`)
	if n := strings.Count(c, "-- squawk-ignore prefer-robust-stmts\n"); n != 2 {
		t.Errorf("want squawk's prefer-robust-stmts ignored for both statements, got %d:\n%s", n, c)
	}
	lacks(t, "the concurrently file", c, "SET LOCAL")
}

func TestAnIndexOnADroppedColumnIsDroppedWithIt(t *testing.T) {
	from, to := notes(t), notes(t)
	from.AddIndexes(schema.NewIndex("notes_author_idx").AddColumns(from.Columns[2]))
	to.Columns = to.Columns[:2]
	files := written(t, realmOf(from), realmOf(to))
	// The engine leaves the drop of the index to the column's, when both
	// are in the first file; a concurrent drop after it would fail.
	if len(files) != 1 {
		t.Fatalf("want the first file only, got %v", files)
	}
	contains(t, "the first file", files[mainFile], `ALTER TABLE "public"."notes" DROP COLUMN "author";`)
}

func TestAnIndexRebuiltWithoutADroppedIncludedColumnIsDroppedWithIt(t *testing.T) {
	from, to := notes(t), notes(t)
	from.AddIndexes(schema.NewIndex("notes_body_idx").AddColumns(from.Columns[1]).
		AddAttrs(&postgres.IndexInclude{Columns: []*schema.Column{from.Columns[2]}}))
	to.Columns = to.Columns[:2]
	to.AddIndexes(schema.NewIndex("notes_body_idx").AddColumns(to.Columns[1]))
	files := written(t, realmOf(from), realmOf(to))
	// DROP COLUMN takes the index with it: a concurrent drop of it after
	// the first file would fail; the index is then built again concurrently.
	contains(t, "the first file", files[mainFile], `DROP COLUMN "author"`)
	lacks(t, "the concurrently file", files[concurrentlyFile], "DROP INDEX")
	contains(t, "the concurrently file", files[concurrentlyFile], `CREATE INDEX CONCURRENTLY "notes_body_idx"`)
}

func TestAPartialIndexOnADroppedColumnIsDroppedWithIt(t *testing.T) {
	from, to := notes(t), notes(t)
	from.AddIndexes(schema.NewIndex("notes_body_idx").AddColumns(from.Columns[1]).
		AddAttrs(&postgres.IndexPredicate{P: "(author IS NOT NULL)"}))
	to.Columns = to.Columns[:2]
	files := written(t, realmOf(from), realmOf(to))
	if len(files) != 1 {
		t.Fatalf("want the first file only, got %v", files)
	}
}

func TestAUniqueConstraintGoesThroughAConcurrentlyBuiltIndex(t *testing.T) {
	from, to := notes(t), notes(t)
	to.AddIndexes(schema.NewUniqueIndex("notes_body_key").AddColumns(to.Columns[1]).
		AddAttrs(&postgres.Constraint{N: "notes_body_key", T: "u"}))
	files := written(t, realmOf(from), realmOf(to))
	if files[mainFile] != "" {
		t.Fatalf("want no first file, got:\n%s", files[mainFile])
	}
	contains(t, "the concurrently file", files[concurrentlyFile],
		`CREATE UNIQUE INDEX CONCURRENTLY "notes_body_key" ON "public"."notes" ("body");`)
	contains(t, "the validate file", files[validateFile],
		`ALTER TABLE "public"."notes" ADD CONSTRAINT "notes_body_key" UNIQUE USING INDEX "notes_body_key";`)
}

func TestAUniqueKeyANewForeignKeyNeedsStaysInTheFirstFile(t *testing.T) {
	from, to := notes(t), notes(t)
	to.AddIndexes(schema.NewUniqueIndex("notes_body_key").AddColumns(to.Columns[1]).
		AddAttrs(&postgres.Constraint{N: "notes_body_key", T: "u"}))
	child := schema.NewTable("replies").AddColumns(&schema.Column{Name: "note_body", Type: text(t, false)})
	child.AddForeignKeys(schema.NewForeignKey("replies_note_fkey").AddColumns(child.Columns[0]).
		SetRefTable(to).AddRefColumns(to.Columns[1]))
	files := written(t, realmOf(from), realmOf(to, child))
	if len(files) != 1 {
		t.Fatalf("want the first file only, got %v", files)
	}
	inOrder(t, files[mainFile], `ADD CONSTRAINT "notes_body_key" UNIQUE ("body")`, `CREATE TABLE "public"."replies"`)
}

func TestSetNotNullGoesThroughAValidatedCheck(t *testing.T) {
	from, to := notes(t), notes(t)
	to.Columns[1].Type = text(t, false)
	other := schema.NewTable("tags").AddColumns(&schema.Column{Name: "name", Type: text(t, true)})
	otherTo := schema.NewTable("tags").AddColumns(&schema.Column{Name: "name", Type: text(t, true)})
	otherTo.AddChecks(schema.NewCheck().SetName("tags_name_short").SetExpr("char_length(name) < 10"))
	files := written(t, realmOf(from, other), realmOf(to, otherTo))
	contains(t, "the first file", files[mainFile],
		`ALTER TABLE "public"."notes" ADD CONSTRAINT "notes_body_not_null_check" CHECK ("body" IS NOT NULL) NOT VALID;`)
	lacks(t, "the first file", files[mainFile], "SET NOT NULL")
	// Every scan first: the ACCESS EXCLUSIVE steps come last, just before
	// the commit, whichever table they are on.
	inOrder(t, files[validateFile],
		`ALTER TABLE "public"."notes" VALIDATE CONSTRAINT "notes_body_not_null_check";`,
		`ALTER TABLE "public"."tags" VALIDATE CONSTRAINT "tags_name_short";`,
		`ALTER TABLE "public"."notes" ALTER COLUMN "body" SET NOT NULL;`,
		"-- squawk-ignore ban-drop-constraint\n"+
			`ALTER TABLE "public"."notes" DROP CONSTRAINT "notes_body_not_null_check";`)
}

func TestAPartitionedTableIsLeftAsTheEngineWritesIt(t *testing.T) {
	from, to := notes(t), notes(t)
	for _, tbl := range []*schema.Table{from, to} {
		tbl.AddAttrs(&postgres.Partition{T: "RANGE", Parts: []*postgres.PartitionPart{{C: tbl.Columns[0]}}})
	}
	to.AddIndexes(schema.NewIndex("notes_body_idx").AddColumns(to.Columns[1]))
	to.AddChecks(schema.NewCheck().SetName("notes_body_short").SetExpr("char_length(body) < 100"))
	files := written(t, realmOf(from), realmOf(to))
	if len(files) != 1 {
		t.Fatalf("want the first file only, got %v", files)
	}
	contains(t, "the first file", files[mainFile], `CREATE INDEX "notes_body_idx" ON "public"."notes" ("body");`,
		`ADD CONSTRAINT "notes_body_short" CHECK (char_length(body) < 100);`)
}

func TestNotNullHelperNamesFitPostgresAndAvoidTakenOnes(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	tbl := schema.NewTable(long)
	name := notNullHelperName(tbl, "c")
	if len(name) > maxIdentifier || !strings.HasSuffix(name, notNullHelperSuffix) {
		t.Fatalf("%q is %d bytes", name, len(name))
	}
	if !strings.HasPrefix(name, strings.Repeat("é", 24)) {
		t.Fatalf("%q was not cut on a character boundary", name)
	}
	taken := schema.NewTable("t").AddChecks(schema.NewCheck().SetName("t_c_not_null_check"))
	if got := notNullHelperName(taken, "c"); got != "t_c_not_null_check1" {
		t.Fatalf("got %q, want the name numbered past the taken one", got)
	}
}

func TestFileVersionsFollowTheHistoryOneSecondApart(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 59, 500, time.UTC)
	got := fileVersions(now, "20261204180411", 3)
	want := []string{"20261206100059", "20261206100100", "20261206100101"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v, want %v", got, want)
	}
	// A history whose last version is not in the past: the files follow it.
	got = fileVersions(now, "20261206100100", 2)
	if want := []string{"20261206100101", "20261206100102"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestARemovedEnumValueIsNamed(t *testing.T) {
	s := schema.New("public")
	from := &schema.EnumType{T: "kind", Schema: s, Values: []string{"a", "b", "c"}}
	to := &schema.EnumType{T: "kind", Schema: s, Values: []string{"a", "c"}}
	got := describeChanges([]schema.Change{&schema.ModifyObject{From: from, To: to}})
	if len(got) != 1 || !strings.HasPrefix(got[0], `enum "public"."kind": remove value "b"`) {
		t.Fatalf("got %q", got)
	}
}
