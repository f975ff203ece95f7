package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
)

// files makes migration files named "<version>_<desc>.sql" from pairs of
// name and content, in order.
func files(t *testing.T, nameAndSQL ...string) []migrate.File {
	t.Helper()
	var out []migrate.File
	for i := 0; i < len(nameAndSQL); i += 2 {
		out = append(out, migrate.NewLocalFile(nameAndSQL[i], []byte(nameAndSQL[i+1])))
	}
	return out
}

// appliedAll records every file as applied in full, with its hash in the
// directory as it is now, as `migrate apply` does.
func appliedAll(t *testing.T, fs []migrate.File) []*migrate.Revision {
	t.Helper()
	sum, err := migrate.NewHashFile(fs)
	if err != nil {
		t.Fatal(err)
	}
	var out []*migrate.Revision
	for _, f := range fs {
		hash, err := sum.SumByName(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &migrate.Revision{
			Version: f.Version(), Description: f.Desc(), Type: migrate.RevisionTypeExecute,
			Applied: 1, Total: 1, Hash: hash, ExecutedAt: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
		})
	}
	return out
}

var fourFiles = []string{
	"1_init.sql", "CREATE TABLE a (id int);",
	"2_b.sql", "CREATE TABLE b (id int);",
	"3_c.sql", "CREATE TABLE c (id int);",
	"4_d.sql", "CREATE TABLE d (id int);",
}

func mustFind(t *testing.T, revs []*migrate.Revision, fs []migrate.File) *driftReport {
	t.Helper()
	report, err := findDrift(revs, fs)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func versions(revs []*migrate.Revision) string {
	var out []string
	for _, r := range revs {
		out = append(out, r.Version)
	}
	return strings.Join(out, ",")
}

func changedNames(cs []changedFile) string {
	var out []string
	for _, c := range cs {
		name := c.File.Name()
		if c.From != nil {
			name = c.From.Name() + ".." + name
		}
		out = append(out, name)
	}
	return strings.Join(out, ",")
}

func TestDriftOfADatabaseInStepOrBehindIsNone(t *testing.T) {
	fs := files(t, fourFiles...)
	revs := appliedAll(t, fs)
	if r := mustFind(t, revs, fs); r.found() {
		t.Errorf("in step: %+v", r)
	}
	if r := mustFind(t, revs[:2], fs); r.found() {
		t.Errorf("two files pending: %+v", r)
	}
	if r := mustFind(t, nil, fs); r.found() {
		t.Errorf("nothing applied: %+v", r)
	}
	if r := mustFind(t, nil, nil); r.found() {
		t.Errorf("no files, nothing applied: %+v", r)
	}
}

func TestRemovedFilesAreOrphansAndNothingElse(t *testing.T) {
	fs := files(t, fourFiles...)
	revs := appliedAll(t, fs)
	r := mustFind(t, revs, fs[:2])
	if versions(r.Orphans) != "3,4" || len(r.Changed) != 0 || r.AllOrphans {
		t.Errorf("the last two removed: orphans %s, changed %s, all %v", versions(r.Orphans), changedNames(r.Changed), r.AllOrphans)
	}
	// A file removed from the middle: the later files' hashes move with it
	// (cumulative), which is the removal's doing, not a second finding.
	middle := []migrate.File{fs[0], fs[1], fs[3]}
	r = mustFind(t, revs, middle)
	if versions(r.Orphans) != "3" || len(r.Changed) != 0 {
		t.Errorf("the third removed: orphans %s, changed %s", versions(r.Orphans), changedNames(r.Changed))
	}
	// No file at all, or the wrong folder: every revision is an orphan.
	r = mustFind(t, revs, nil)
	if versions(r.Orphans) != "1,2,3,4" || !r.AllOrphans {
		t.Errorf("no files: orphans %s, all %v", versions(r.Orphans), r.AllOrphans)
	}
}

func TestAnEditedAppliedFileIsNamedAloneAmongTheHashesItMoved(t *testing.T) {
	fs := files(t, fourFiles...)
	revs := appliedAll(t, fs)
	edited := files(t, "1_init.sql", "CREATE TABLE a (id int);",
		"2_b.sql", "CREATE TABLE b (id int, sneaked int);",
		"3_c.sql", "CREATE TABLE c (id int);",
		"4_d.sql", "CREATE TABLE d (id int);")
	r := mustFind(t, revs, edited)
	if changedNames(r.Changed) != "2_b.sql" || len(r.Orphans) != 0 {
		t.Fatalf("changed %s, orphans %s", changedNames(r.Changed), versions(r.Orphans))
	}
	if c := r.Changed[0]; c.Revision.Version != "2" || c.Hash == c.Revision.Hash {
		t.Errorf("changed file's revision %s, hashes %s and %s", c.Revision.Version, c.Hash, c.Revision.Hash)
	}
	// A pending file's edit is no drift.
	pendingEdit := append(append([]migrate.File{}, fs[:3]...), migrate.NewLocalFile("4_d.sql", []byte("SELECT 1;")))
	if r := mustFind(t, revs[:3], pendingEdit); r.found() {
		t.Errorf("a pending file edited: %+v", r)
	}
}

func TestTwoEditsAreTwoFindingsWhenAFileWasAppliedInBetween(t *testing.T) {
	fs := files(t, fourFiles...)
	// 1 and 2 were applied as first written; 2 was then edited and 3 and 4
	// applied after it (by a binary that did not check), then 4 edited.
	revs := appliedAll(t, fs)[:2]
	editedTwo := append([]migrate.File{fs[0], migrate.NewLocalFile("2_b.sql", []byte("-- edited"))}, fs[2:]...)
	revs = append(revs, appliedAll(t, editedTwo)[2:]...)
	now := append(append([]migrate.File{}, editedTwo[:3]...), migrate.NewLocalFile("4_d.sql", []byte("-- edited too")))
	if got := changedNames(mustFind(t, revs, now).Changed); got != "2_b.sql,4_d.sql" {
		t.Errorf("changed %s", got)
	}
}

func TestAFileAddedOutOfOrderIsLeftToTheEngine(t *testing.T) {
	fs := files(t, fourFiles...)
	revs := appliedAll(t, fs)
	// Version 25, between two applied ones and never applied: it moves the
	// hashes of 3 and 4, and the engine refuses it as out of order.
	withInsert := append(append([]migrate.File{}, fs[:2]...), append(
		[]migrate.File{migrate.NewLocalFile("25_late.sql", []byte("SELECT 1;"))}, fs[2:]...)...)
	if r := mustFind(t, revs, withInsert); r.found() {
		t.Errorf("out of order: orphans %s, changed %s", versions(r.Orphans), changedNames(r.Changed))
	}
}

func TestRevisionsWithoutAFileHashAreCheckedForTheirFileOnly(t *testing.T) {
	fs := files(t, fourFiles...)
	// A baseline at 2 (no hash), then 3 and 4 applied.
	revs := appliedAll(t, fs)[1:]
	revs[0].Type, revs[0].Hash, revs[0].Applied, revs[0].Total = migrate.RevisionTypeBaseline, "", 0, 0
	if r := mustFind(t, revs, fs); r.found() {
		t.Errorf("baseline in step: %+v", r)
	}
	// A file the baseline stands for edited: the first hashed revision
	// moves, and the change can be in any file up to it.
	edited := append([]migrate.File{migrate.NewLocalFile("1_init.sql", []byte("-- edited"))}, fs[1:]...)
	if got := changedNames(mustFind(t, revs, edited).Changed); got != "1_init.sql..3_c.sql" {
		t.Errorf("edit under the baseline: changed %s", got)
	}
	// A file added out of order after the baseline: left to the engine.
	withInsert := append(append([]migrate.File{}, fs[:3]...), migrate.NewLocalFile("35_late.sql", []byte("SELECT 1;")), fs[3])
	if r := mustFind(t, revs, withInsert); r.found() {
		t.Errorf("out of order after a baseline: orphans %s, changed %s", versions(r.Orphans), changedNames(r.Changed))
	}
	// The baseline's own file removed.
	if got := versions(mustFind(t, revs, []migrate.File{fs[0], fs[2], fs[3]}).Orphans); got != "2" {
		t.Errorf("baseline file removed: orphans %s", got)
	}

	// A failed attempt (its file may be fixed before the next): not compared;
	// removed, it is an orphan.
	failed := appliedAll(t, fs)
	failed[3].Applied, failed[3].Error = 0, "relation does not exist"
	fixed := append(append([]migrate.File{}, fs[:3]...), migrate.NewLocalFile("4_d.sql", []byte("-- fixed")))
	if r := mustFind(t, failed, fixed); r.found() {
		t.Errorf("a failed file fixed: %+v", r)
	}
	if got := versions(mustFind(t, failed, fs[:3]).Orphans); got != "4" {
		t.Errorf("a failed file removed: orphans %s", got)
	}
}

func TestTheRefusalNamesTheDriftAndTheWayOut(t *testing.T) {
	fs := files(t, fourFiles...)
	revs := appliedAll(t, fs)
	revs[3].Description = "d_as_applied"
	edited := []migrate.File{fs[0], fs[1], migrate.NewLocalFile("4_d.sql", []byte("-- other"))}
	err := driftIn(revs, edited, "migrations", `"atlas_schema_revisions"."atlas_schema_revisions"`)
	if err == nil {
		t.Fatal("no drift found")
	}
	msg := err.Error()
	for _, want := range []string{
		"3 c, applied 2026-12-07 10:00:00 UTC",
		"restore the missing files to migrations/",
		"nox -s db -- reset",
		`DELETE FROM "atlas_schema_revisions"."atlas_schema_revisions" WHERE "version" IN ('3');`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q not in:\n%s", want, msg)
		}
	}
	// 4's hash moved with 3's removal: not named.
	if strings.Contains(msg, "4_d.sql") {
		t.Errorf("4_d.sql named:\n%s", msg)
	}

	// Every revision orphaned: no DELETE to copy, a hint at the flags.
	var many []string
	for i := 1; i <= shownOrphans+5; i++ {
		many = append(many, fmt.Sprintf("%02d_f.sql", i), "SELECT 1;")
	}
	msg = driftIn(appliedAll(t, files(t, many...)), nil, "migrations", "t").Error()
	if strings.Contains(msg, "DELETE") || !strings.Contains(msg, "check --dir and --url") ||
		!strings.Contains(msg, "… and 5 more, up to 25") || strings.Contains(msg, "    21 f") {
		t.Errorf("all orphans:\n%s", msg)
	}

	// A changed file under another description names the file, both
	// descriptions and the way back.
	revs = appliedAll(t, fs)
	revs[1].Description = "b_as_applied"
	changed := []migrate.File{fs[0], migrate.NewLocalFile("2_b.sql", []byte("-- other")), fs[2], fs[3]}
	msg = driftIn(revs, changed, "migrations", "t").Error()
	for _, want := range []string{
		`2_b.sql changed since it was applied 2026-12-07 10:00:00 UTC as "b_as_applied"`,
		"git checkout -- migrations/2_b.sql",
		"put the change in a new migration",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q not in:\n%s", want, msg)
		}
	}
}
