package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// Drift is what the revisions table says that the migration directory no
// longer does. The engine checks neither kind: it takes the last recorded
// version as the database's position and applies the files after it, so
// without this check a database keeps changes no file describes.
//
//   - An orphan is a recorded version that no file in the directory has: the
//     files were removed after they were applied (an undo), or the database
//     was migrated from another branch or checkout.
//   - A changed file is an applied file whose hash now differs from the hash
//     recorded when it was applied (edited, then re-hashed).
//
// `migrate status` and `migrate apply` refuse a database with either.
type driftReport struct {
	Orphans []*migrate.Revision // in version order
	Changed []changedFile
	// AllOrphans: the directory holds none of the recorded versions, which
	// points at the wrong --dir or --url rather than at removed files.
	AllOrphans bool
}

// changedFile is an applied file whose hash differs from the recorded one.
type changedFile struct {
	File     migrate.File
	Revision *migrate.Revision
	Hash     string // the file's hash now
	// From is set when the change may lie in an earlier file too: atlas.sum's
	// hashes are cumulative (each covers every file before it), so a change
	// can only be placed between the last applied file whose hash still
	// matches and this one. Nil when this file is the only candidate.
	From migrate.File
}

func (d *driftReport) found() bool { return len(d.Orphans) > 0 || len(d.Changed) > 0 }

// findDrift compares the revisions with the directory's files. It reads
// nothing but its arguments.
//
// Which revisions have a hash to compare: one applied in full without error.
// A baseline records no hash (it stands for the files up to its version);
// a failed or partially applied revision's file is still pending and may
// be fixed before the next attempt; both still count as orphans when their
// file is gone.
//
// Only the first mismatch of a run is named: every later file's hash covers
// it, so they differ too. A run that starts right after an orphan is the
// orphan's doing (its file left the chain) and is not named again. A file
// added out of order (a version below an applied one, never applied) also
// shifts the later hashes; the hashes are therefore also compared with a
// chain of the applied files alone, and the engine reports such a file.
func findDrift(revs []*migrate.Revision, files []migrate.File) (*driftReport, error) {
	report := &driftReport{}
	revs = slices.SortedFunc(slices.Values(revs), func(a, b *migrate.Revision) int {
		return strings.Compare(a.Version, b.Version)
	})
	byVersion := make(map[string]migrate.File, len(files))
	for _, f := range files {
		byVersion[f.Version()] = f
	}
	for _, r := range revs {
		if _, ok := byVersion[r.Version]; !ok {
			report.Orphans = append(report.Orphans, r)
		}
	}
	report.AllOrphans = len(revs) > 0 && len(report.Orphans) == len(revs)
	full, err := migrate.NewHashFile(files)
	if err != nil {
		return nil, err
	}
	applied, err := migrate.NewHashFile(appliedFiles(revs, files))
	if err != nil {
		return nil, err
	}
	var (
		lastMatch string // version of the last compared revision that matched
		inRun     bool   // inside a run of mismatches already accounted for
	)
	for _, r := range revs {
		f, ok := byVersion[r.Version]
		if !ok || !hasFileHash(r) {
			continue
		}
		now, err := full.SumByName(f.Name())
		if err != nil {
			continue // an `atlas:sum ignore` file has no hash to compare
		}
		if alt, _ := applied.SumByName(f.Name()); r.Hash == now || r.Hash == alt {
			lastMatch, inRun = r.Version, false
			continue
		}
		if inRun {
			continue
		}
		inRun = true
		if orphanBetween(report.Orphans, lastMatch, r.Version) {
			continue
		}
		changed := changedFile{File: f, Revision: r, Hash: now}
		if i := slices.IndexFunc(files, func(g migrate.File) bool { return g.Version() > lastMatch }); files[i] != f {
			changed.From = files[i]
		}
		report.Changed = append(report.Changed, changed)
	}
	return report, nil
}

// hasFileHash reports whether the revision recorded the hash of a file it
// applied in full.
func hasFileHash(r *migrate.Revision) bool {
	return r.Hash != "" && r.Error == "" && r.Applied == r.Total && r.Type != migrate.RevisionTypeBaseline
}

// appliedFiles are the files as the applied history saw them: those with a
// revision, and, after a baseline, the files it stands for.
func appliedFiles(revs []*migrate.Revision, files []migrate.File) []migrate.File {
	recorded := make(map[string]bool, len(revs))
	for _, r := range revs {
		recorded[r.Version] = true
	}
	var baseline string
	if len(revs) > 0 && revs[0].Type == migrate.RevisionTypeBaseline {
		baseline = revs[0].Version
	}
	var out []migrate.File
	for _, f := range files {
		if recorded[f.Version()] || f.Version() <= baseline {
			out = append(out, f)
		}
	}
	return out
}

func orphanBetween(orphans []*migrate.Revision, after, before string) bool {
	return slices.ContainsFunc(orphans, func(r *migrate.Revision) bool {
		return r.Version > after && r.Version < before
	})
}

// driftError is the refusal, with the way out.
type driftError struct {
	report *driftReport
	dir    string // the migration directory's path, as given
	table  string // the revisions table, quoted and qualified
}

// shownOrphans caps the listing: a wrong --dir would list every revision.
const shownOrphans = 20

func (e *driftError) Error() string {
	var b strings.Builder
	orphans, changed := e.report.Orphans, e.report.Changed
	b.WriteString("drift: the database's revisions do not match " + e.dir + "/\n")
	if len(orphans) > 0 {
		fmt.Fprintf(&b, "  %d applied migration(s) not in the folder:\n", len(orphans))
		for _, r := range orphans[:min(len(orphans), shownOrphans)] {
			fmt.Fprintf(&b, "    %s %s, %s\n", r.Version, r.Description, describeRevision(r))
		}
		if len(orphans) > shownOrphans {
			fmt.Fprintf(&b, "    … and %d more, up to %s\n", len(orphans)-shownOrphans, orphans[len(orphans)-1].Version)
		}
	}
	for _, c := range changed {
		name := c.File.Name()
		if c.From != nil {
			name = fmt.Sprintf("%s, or a file before it from %s on,", name, c.From.Name())
		}
		when := describeRevision(c.Revision)
		if c.Revision.Description != c.File.Desc() {
			when += fmt.Sprintf(" as %q", c.Revision.Description)
		}
		fmt.Fprintf(&b, "  %s changed since it was %s: hash %s then, %s now\n", name, when, c.Revision.Hash, c.Hash)
	}
	if len(changed) > 0 {
		b.WriteString("  (a file's hash covers the files before it: later files are checked once it is back)\n")
	}
	if e.report.AllOrphans {
		fmt.Fprintf(&b, "None of the database's versions is in %s/: check --dir and --url first.\n", e.dir)
	}
	b.WriteString("status and apply refuse this database until they match again. The way out:\n")
	var ways []string
	if len(orphans) > 0 {
		ways = append(ways, fmt.Sprintf("restore the missing files to %s/ (e.g. with git, from the commit or branch that has them) with their atlas.sum lines, or re-hash (`nox -s migrate -- --hash`, which runs `migrate hash`)", e.dir))
	}
	for _, c := range changed {
		ways = append(ways, fmt.Sprintf("restore %s as it was applied (e.g. `git checkout -- %s`), re-hash (`nox -s migrate -- --hash`), and put the change in a new migration",
			c.File.Name(), filepath.Join(e.dir, c.File.Name())))
	}
	ways = append(ways, "the project's local (embedded) database: `nox -s db -- reset` empties it and applies the folder again")
	if len(orphans) > 0 && !e.report.AllOrphans {
		versions := make([]string, len(orphans))
		for i, r := range orphans {
			versions[i] = "'" + strings.ReplaceAll(r.Version, "'", "''") + "'"
		}
		ways = append(ways, fmt.Sprintf("a shared database: write a migration that reverts their changes (`migrate new NAME`), "+
			"then remove their revisions deliberately:\n      DELETE FROM %s WHERE \"version\" IN (%s);",
			e.table, strings.Join(versions, ", ")))
	}
	b.WriteString("  - " + strings.Join(ways, "\n  - "))
	return b.String()
}

// describeRevision says when a revision was applied, and how, when it was
// not a complete run of its file.
func describeRevision(r *migrate.Revision) string {
	when := "applied " + r.ExecutedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	switch {
	case r.Type == migrate.RevisionTypeBaseline:
		return when + " as the baseline"
	case r.Error != "" || r.Applied < r.Total:
		return fmt.Sprintf("%s, failed with %d of %d statements applied", when, r.Applied, r.Total)
	case r.Type.Has(migrate.RevisionTypeResolved) && !r.Type.Has(migrate.RevisionTypeExecute):
		return when + " (marked applied, not run)"
	}
	return when
}

// driftIn is nil when the revisions and the files agree, else the refusal.
func driftIn(revs []*migrate.Revision, files []migrate.File, dir, table string) error {
	report, err := findDrift(revs, files)
	if err != nil {
		return fmt.Errorf("comparing the revisions with %s: %w", dir, err)
	}
	if !report.found() {
		return nil
	}
	return &driftError{report: report, dir: dir, table: table}
}

// checkDrift reads the recorded revisions and the directory's files and
// refuses a database that has drifted (apply, before it writes anything).
func checkDrift(ctx context.Context, history migrate.RevisionReadWriter, dir migrate.Dir, dirURL, table string) error {
	path, err := dirPath(dirURL)
	if err != nil {
		return err
	}
	revs, err := history.ReadRevisions(ctx)
	if err != nil {
		return fmt.Errorf("read the revisions table: %w", err)
	}
	files, err := dir.Files()
	if err != nil {
		return err
	}
	return driftIn(revs, files, path, table)
}
