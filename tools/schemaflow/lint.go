package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ariga.io/atlas/schemahcl"
	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlcheck"
	"ariga.io/atlas/sql/sqlclient"
	"github.com/spf13/pflag"

	// Registers the engine's PostgreSQL analyzers: destructive changes,
	// data-dependent changes, constraint drops, backward-incompatible changes.
	_ "ariga.io/atlas/sql/postgres/postgrescheck"

	"schemaflow/internal/allowmark"
	"schemaflow/internal/nolint"
	"schemaflow/internal/rlslint"
	"schemaflow/internal/security"
)

// lintFlags are `migrate lint`'s flags.
type lintFlags struct {
	devURL string
	latest int // how many of the last files to analyse
	dir    string
}

func (f *lintFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("migrate lint")
	devURLFlag(fs, &f.devURL, "the postgres:// `URL` of an empty database to run the files on")
	positiveIntFlag(fs, &f.latest, "latest", "analyse the last `N` files")
	dirFlag(fs, &f.dir)
	return fs
}

func lintCmd() *command {
	f := &lintFlags{}
	return &command{usage: "migrate lint --dev-url URL --latest N [--dir file://migrations]", flags: f.flagSet(), run: f.run}
}

// run analyses the latest N files: the files before them are replayed on
// the dev database, then each linted statement runs alone and the realm is
// inspected after it, so every statement carries the schema changes it
// made; the engine's analyzers read those changes.
func (f *lintFlags) run(ctx context.Context, args []string, out io.Writer) error {
	if err := maxArgs(args, 0); err != nil {
		return err
	}
	devURL := f.devURL
	if err := databaseFlag(devURL, "dev-url", "dev database"); err != nil {
		return err
	}
	if f.latest == 0 {
		return usagef("required flag --latest not set")
	}
	latest := f.latest
	dir, err := checkedDir(f.dir, false)
	if err != nil {
		return err
	}
	files, err := dir.Files()
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintln(out, "No migration files to lint")
		return nil
	}
	latest = min(latest, len(files))
	base, linted := files[:len(files)-latest], files[len(files)-latest:]
	dev, err := openDatabase(ctx, devURL, "dev database")
	if err != nil {
		return err
	}
	defer dev.Close()
	unlock, err := dev.Lock(ctx, lintLock, 0)
	if err != nil {
		return fmt.Errorf("acquiring the lint lock on the dev database: %w", err)
	}
	defer func() { _ = unlock() }()
	restore, err := dev.Snapshot(ctx)
	if err != nil {
		return explainReplay(err, migrationDirectory)
	}
	defer func() { _ = restore(ctx) }()
	analyzers, err := sqlcheck.AnalyzerFor(postgres.DriverName, analyzerOptions)
	if err != nil {
		return err
	}
	for _, file := range base {
		if err := execFile(ctx, dev, file); err != nil {
			return err
		}
	}
	current, err := dev.InspectRealm(ctx, nil)
	if err != nil {
		return err
	}
	var failures []string
	for _, file := range linted {
		checked := &sqlcheck.File{File: file, From: current}
		var removals []string
		if current, removals, err = loadChanges(ctx, dev, checked); err != nil {
			return err
		}
		failures = append(failures, analyze(ctx, dev, checked, analyzers, out)...)
		refused, allowed := rlslint.Check(file.Name(), file.Bytes(), removals)
		for _, line := range allowed {
			fmt.Fprintln(out, line)
		}
		failures = append(failures, refused...)
	}
	if len(failures) > 0 {
		return fmt.Errorf("lint refused %d finding(s):\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	fmt.Fprintf(out, "Lint passed: %d file(s) analysed (%s)\n", len(linted), fileNames(linted))
	return nil
}

// execFile runs a file's statements one by one, naming the failing one.
func execFile(ctx context.Context, dev *sqlclient.Client, f migrate.File) error {
	statements, err := f.StmtDecls()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	for _, s := range statements {
		if _, err := dev.ExecContext(ctx, s.Text); err != nil {
			return explainReplay(&migrate.StmtExecError{File: f, Stmt: s, Version: f.Version(), Err: err}, migrationDirectory)
		}
	}
	return nil
}

// loadChanges executes the file's statements on the dev database, recording
// the schema changes each made, and what each took away from row-level
// security (which the engine's analyzers cannot see); it returns the realm
// after the file.
func loadChanges(ctx context.Context, dev *sqlclient.Client, f *sqlcheck.File) (*schema.Realm, []string, error) {
	statements, err := f.StmtDecls()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	before := f.From
	state, err := security.Read(ctx, dev, revisionsSchema)
	if err != nil {
		return nil, nil, err
	}
	rls := rlslint.Start(state.RowSecurity())
	for _, s := range statements {
		if _, err := dev.ExecContext(ctx, s.Text); err != nil {
			return nil, nil, explainReplay(&migrate.StmtExecError{File: f.File, Stmt: s, Version: f.Version(), Err: err}, migrationDirectory)
		}
		after, err := dev.InspectRealm(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		changes, err := dev.RealmDiff(before, after)
		if err != nil {
			return nil, nil, err
		}
		f.Changes = append(f.Changes, &sqlcheck.Change{Stmt: s, Changes: changes})
		before = after
		next, err := security.Read(ctx, dev, revisionsSchema)
		if err != nil {
			return nil, nil, err
		}
		rls.After(firstLine(s.Text), next.RowSecurity())
	}
	f.To = before
	if f.Sum, err = dev.RealmDiff(f.From, f.To); err != nil {
		return nil, nil, err
	}
	return f.To, rls.Removals(), nil
}

// analyzerOptions configure the engine's analyzers: destructive changes
// (DS1xx) fail lint, as the engine has it, and so do backward-incompatible
// ones (BC1xx, renames), which break the code running against the old
// schema as surely. (The engine reports BC1xx only where a SQL parser, which
// the official CLI has and the community module lacks, pairs a drop with an
// add; here a renamed column reaches the analyzers as dropped, DS103, and
// added.) Data-dependent changes (MF1xx) and constraint drops (CD101) stay
// warnings: they may fail on existing data or loosen a guarantee, but take
// nothing away from a client.
var analyzerOptions = &schemahcl.Resource{Children: []*schemahcl.Resource{
	{Type: "incompatible", Attrs: []*schemahcl.Attr{schemahcl.BoolAttr("error", true)}},
}}

// analyze runs every analyzer on one file, prints its warnings, allowed
// and skipped findings, and returns the refused ones. A finding of an
// analyzer configured to fail is refused, unless the official CLI's
// `atlas:nolint` skips it (internal/nolint) or, for a destructive or
// backward-incompatible change, the statement carries the project's marker
// with a reason (internal/allowmark): then it is printed as allowed, with
// the reason. A marker without a reason, or above no statement, is refused
// itself.
func analyze(ctx context.Context, dev *sqlclient.Client, f *sqlcheck.File, analyzers []sqlcheck.Analyzer, out io.Writer) []string {
	marks := allowmark.Read(f.Bytes())
	starts := make([]int, len(f.Changes))
	for i, c := range f.Changes {
		starts[i] = c.Stmt.Pos
	}
	var failures []string
	for _, p := range marks.Problems(starts) {
		failures = append(failures, fmt.Sprintf("%s:%d: %s", f.Name(), p.Line, p.Text))
	}
	skip := nolint.Read(f)
	if skip.File {
		fmt.Fprintf(out, "%s: skipped: its header says atlas:nolint\n", f.Name())
		return failures
	}
	for _, az := range analyzers {
		var reports []sqlcheck.Report
		pass := &sqlcheck.Pass{
			File: f, Dev: dev,
			Reporter: sqlcheck.ReportWriterFunc(func(r sqlcheck.Report) { reports = append(reports, r) }),
		}
		err := az.Analyze(ctx, pass)
		name := analyzerName(az)
		for _, r := range reports {
			for _, d := range r.Diagnostics {
				line := fmt.Sprintf("%s:%d: %s: %s [%s] in statement: %s", f.Name(), lineOf(f, d.Pos), r.Text, d.Text, d.Code, statementAt(f, d.Pos))
				switch reason, marked := marks.Reason(d.Pos); {
				case skip.Skips(d.Pos, d.Code, name):
					fmt.Fprintln(out, "skipped (atlas:nolint): "+line)
				case err == nil:
					fmt.Fprintln(out, "warning: "+line)
				case !deliberate[name]:
					failures = append(failures, line)
				case marked:
					fmt.Fprintf(out, "allowed (%s): %s\n", reason, line)
				default:
					failures = append(failures, line+" ("+allowmark.Hint+")")
				}
			}
		}
		if err != nil && len(reports) == 0 {
			failures = append(failures, fmt.Sprintf("%s: %v", f.Name(), err))
		}
	}
	return failures
}

// deliberate are the analyzers whose findings the project's marker lets
// through: a change that takes data or a name away can be intended.
var deliberate = map[string]bool{"destructive": true, "incompatible": true}

func analyzerName(az sqlcheck.Analyzer) string {
	if named, ok := az.(sqlcheck.NamedAnalyzer); ok {
		return named.Name()
	}
	return ""
}

// lineOf is the 1-based line of a byte position in the file.
func lineOf(f *sqlcheck.File, pos int) int {
	return strings.Count(string(f.Bytes()[:min(pos, len(f.Bytes()))]), "\n") + 1
}

// statementAt returns the first line of the statement at a byte position.
func statementAt(f *sqlcheck.File, pos int) string {
	for _, c := range f.Changes {
		if c.Stmt.Pos == pos {
			return firstLine(c.Stmt.Text)
		}
	}
	return "position " + strconv.Itoa(pos)
}

func fileNames(files []migrate.File) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name()
	}
	return strings.Join(names, ", ")
}
