package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/sqlclient"
	"github.com/spf13/pflag"
)

// applyFlags are `migrate apply`'s flags.
type applyFlags struct {
	url             string
	dir             string
	dryRun          bool
	baseline        string // the version an existing database is taken to be at
	revisionsSchema string
	lockTimeout     time.Duration
	allowDirty      bool
	txMode          string // file or none; a file's atlas:txmode directive wins
}

func (f *applyFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("migrate apply")
	fs.StringVar(&f.url, "url", "", "the postgres:// `URL` of the database to migrate")
	dirFlag(fs, &f.dir)
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the pending files' statements, change nothing")
	fs.StringVar(&f.baseline, "baseline", "", "take a database without revisions to be at `VERSION`")
	revisionsSchemaFlag(fs, &f.revisionsSchema)
	lockTimeoutFlag(fs, &f.lockTimeout, "how long to wait for another apply's lock, a `DURATION` such as 30s")
	fs.BoolVar(&f.allowDirty, "allow-dirty", false, "apply to a database that has tables but no revisions")
	fs.StringVar(&f.txMode, "tx-mode", "file", "the transaction `MODE`: file (one per migration file) or none; a file's atlas:txmode directive wins")
	return fs
}

func applyCmd() *command {
	f := &applyFlags{}
	return &command{
		usage: "migrate apply --url URL [N] [--dry-run] [--baseline VERSION] [--dir file://migrations]",
		flags: f.flagSet(),
		run:   f.run,
	}
}

type applyOptions struct {
	count       int // files to apply; 0 means all pending
	dryRun      bool
	txMode      string
	lockTimeout time.Duration
	executor    []migrate.ExecutorOption
}

// options checks the flags and the optional N.
func (f *applyFlags) options(args []string) (*applyOptions, error) {
	if err := maxArgs(args, 1); err != nil {
		return nil, err
	}
	o := &applyOptions{dryRun: f.dryRun, txMode: f.txMode, lockTimeout: f.lockTimeout}
	if len(args) == 1 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 {
			return nil, usagef("N must be a positive number of files to apply, got %q", args[0])
		}
		o.count = n
	}
	if o.txMode != "file" && o.txMode != "none" {
		return nil, usagef("--tx-mode %q: this command supports file (default) and none", o.txMode)
	}
	o.executor = []migrate.ExecutorOption{migrate.WithOperatorVersion(operatorVersion())}
	if f.baseline != "" {
		o.executor = append(o.executor, migrate.WithBaselineVersion(f.baseline))
	}
	if f.allowDirty {
		o.executor = append(o.executor, migrate.WithAllowDirty(true))
	}
	return o, nil
}

// operatorVersion fills the revisions' operator_version column.
func operatorVersion() string {
	return fmt.Sprintf("%s %s", name, version)
}

// run applies the pending files (the first N of them, given N), each in
// its own transaction unless it says otherwise, under the apply lock. A
// database that has drifted from the directory is refused before anything
// is written (drift.go).
func (f *applyFlags) run(ctx context.Context, args []string, out io.Writer) error {
	target := f.url
	if err := databaseFlag(target, "url", "target"); err != nil {
		return err
	}
	opts, err := f.options(args)
	if err != nil {
		return err
	}
	dir, err := checkedDir(f.dir, false)
	if err != nil {
		return err
	}
	client, err := openDatabase(ctx, target, "target")
	if err != nil {
		return err
	}
	defer client.Close()
	unlock, err := client.Lock(ctx, applyLock, opts.lockTimeout)
	if err != nil {
		return fmt.Errorf("acquiring the migration lock on %s (another apply running?): %w", redact(target), err)
	}
	defer func() { _ = unlock() }()
	rrw := &revisions{conn: client.DB, schema: f.revisionsSchema}
	// What is recorded so far; a dry run writes nothing, not even the
	// revisions table, and neither does a refusal.
	history, err := rrw.orNone(ctx)
	if err != nil {
		return err
	}
	if err := checkDrift(ctx, history, dir, f.dir, rrw.table()); err != nil {
		return err
	}
	if !opts.dryRun {
		if err := rrw.ensureTable(ctx); err != nil {
			return err
		}
		history = rrw
	}
	ex, err := migrate.NewExecutor(client.Driver, dir, history, opts.executor...)
	if err != nil {
		return err
	}
	pending, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		current, err := currentVersion(ctx, history)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "No pending migrations: %s is at version %s\n", redact(target), current)
		return nil
	}
	if err != nil {
		return err
	}
	if opts.count > 0 && opts.count < len(pending) {
		pending = pending[:opts.count]
	}
	from, err := currentVersion(ctx, history)
	if err != nil {
		return err
	}
	verb := "Applying"
	if opts.dryRun {
		verb = "Dry run: would apply"
	}
	fmt.Fprintf(out, "%s %d migration file(s) to %s, from version %s to %s\n",
		verb, len(pending), redact(target), from, pending[len(pending)-1].Version())
	started := time.Now()
	for _, file := range pending {
		if err := applyFile(ctx, client, dir, rrw, file, opts, out); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "Done: %d file(s) in %s; %s is at version %s\n",
		len(pending), round(time.Since(started)), redact(target), pending[len(pending)-1].Version())
	return nil
}

func currentVersion(ctx context.Context, rrw migrate.RevisionReadWriter) (string, error) {
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil {
		return "", fmt.Errorf("read the revisions table: %w", err)
	}
	if len(revs) == 0 {
		return "none (empty database)", nil
	}
	last := revs[len(revs)-1]
	if last.Applied < last.Total {
		return fmt.Sprintf("%s (partially applied: %d of %d statements)", last.Version, last.Applied, last.Total), nil
	}
	return last.Version, nil
}

// applyFile runs one migration file, in its own transaction unless the file
// says `-- atlas:txmode none` (or --tx-mode none), and prints one line.
func applyFile(ctx context.Context, client *sqlclient.Client, dir migrate.Dir, rrw *revisions,
	f migrate.File, opts *applyOptions, out io.Writer) error {
	mode, err := fileTxMode(f, opts.txMode)
	if err != nil {
		return err
	}
	started := time.Now()
	statements, err := f.StmtDecls()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	if opts.dryRun {
		fmt.Fprintf(out, "-- %s (%d statements)\n", f.Name(), len(statements))
		for _, s := range statements {
			fmt.Fprintf(out, "%s\n", s.Text)
		}
		return nil
	}
	var runErr error
	switch mode {
	case "none":
		runErr = applyOnOneConnection(ctx, client, dir, rrw, f, opts)
	default:
		runErr = applyInTransaction(ctx, client, dir, rrw.schema, f, opts)
		if runErr != nil {
			// The transaction took the file's revision with it: record the
			// failure outside it, so the table says what went wrong.
			runErr = errors.Join(runErr, recordFailure(ctx, rrw, dir, f, started, runErr))
		}
	}
	if runErr != nil {
		return describeFailure(f, mode, runErr)
	}
	fmt.Fprintf(out, "  applied %s: %d statements in %s\n", f.Name(), len(statements), round(time.Since(started)))
	return nil
}

// applyOnOneConnection runs a file without a transaction on a connection
// of its own: a file's session SETs (the lock_timeout a generated
// `CONCURRENTLY` file starts with) must reach the statements after them,
// which the pool's connections would not promise. RESET ALL gives the
// connection back to the pool without them.
func applyOnOneConnection(ctx context.Context, client *sqlclient.Client, dir migrate.Dir, rrw *revisions,
	f migrate.File, opts *applyOptions) (err error) {
	conn, err := client.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() {
		_, resetErr := conn.ExecContext(context.Background(), "RESET ALL")
		err = errors.Join(err, resetErr, conn.Close())
	}()
	drv, err := postgres.Open(conn)
	if err != nil {
		return err
	}
	ex, err := migrate.NewExecutor(drv, dir, withFileHash(rrw, dir, f), opts.executor...)
	if err != nil {
		return err
	}
	return ex.Execute(ctx, f)
}

func applyInTransaction(ctx context.Context, client *sqlclient.Client, dir migrate.Dir, revSchema string,
	f migrate.File, opts *applyOptions) error {
	tx, err := client.Tx(ctx, nil)
	if err != nil {
		return err
	}
	ex, err := migrate.NewExecutor(tx.Driver, dir, withFileHash(&revisions{conn: tx.Tx, schema: revSchema}, dir, f), opts.executor...)
	if err == nil {
		err = ex.Execute(ctx, f)
	}
	if err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

// fileHash records the file's hash as it is now in the revision of the
// file being applied. The engine keeps the hash of an earlier, failed
// attempt when it runs the file again, so a file fixed after a failure (and
// re-hashed) would otherwise look changed to the drift check.
type fileHash struct {
	migrate.RevisionReadWriter
	version, hash string
}

func (h fileHash) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	if rev.Version == h.version {
		rev.Hash = h.hash
	}
	return h.RevisionReadWriter.WriteRevision(ctx, rev)
}

// withFileHash wraps rrw for applying f; a file without a hash in the
// directory's sum is left to the engine, which refuses it.
func withFileHash(rrw migrate.RevisionReadWriter, dir migrate.Dir, f migrate.File) migrate.RevisionReadWriter {
	sum, err := dir.Checksum()
	if err != nil {
		return rrw
	}
	hash, err := sum.SumByName(f.Name())
	if err != nil {
		return rrw
	}
	return fileHash{RevisionReadWriter: rrw, version: f.Version(), hash: hash}
}

// ignoreDone drops the error of rolling back a transaction that the server
// already ended (a killed backend): the work is rolled back either way.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) || errors.Is(err, sql.ErrConnDone) {
		return nil
	}
	return err
}

// recordFailure writes the failed file's revision: nothing of it applied,
// the error and the statement that raised it.
func recordFailure(ctx context.Context, rrw *revisions, dir migrate.Dir, f migrate.File, started time.Time, cause error) error {
	rev, err := rrw.ReadRevision(ctx, f.Version())
	if errors.Is(err, migrate.ErrRevisionNotExist) {
		statements, err := f.StmtDecls()
		if err != nil {
			return err
		}
		sum, err := dir.Checksum()
		if err != nil {
			return err
		}
		hash, err := sum.SumByName(f.Name())
		if err != nil {
			return err
		}
		rev = &migrate.Revision{
			Version: f.Version(), Description: f.Desc(), Type: migrate.RevisionTypeExecute,
			Total: len(statements), Hash: hash, ExecutedAt: started,
		}
	} else if err != nil {
		return fmt.Errorf("recording the failure: %w", err)
	}
	rev.Error, rev.ErrorStmt = cause.Error(), ""
	var stmtErr *migrate.StmtExecError
	if errors.As(cause, &stmtErr) {
		rev.Error, rev.ErrorStmt = stmtErr.Err.Error(), stmtErr.Stmt.Text
	}
	rev.ExecutionTime = time.Since(started)
	rev.OperatorVersion = operatorVersion()
	if err := rrw.WriteRevision(ctx, rev); err != nil {
		return fmt.Errorf("recording the failure in the revisions table: %w", err)
	}
	return nil
}

// describeFailure names the file, the statement and its line, and says
// what is left: a file in a transaction left nothing, a file without one
// left the statements before the failing one applied (and a failed
// concurrent index build its INVALID index).
func describeFailure(f migrate.File, mode string, err error) error {
	var stmtErr *migrate.StmtExecError
	if !errors.As(err, &stmtErr) {
		return fmt.Errorf("migration %s failed: %w (files before it stay applied)", f.Name(), err)
	}
	line := 1 + strings.Count(string(f.Bytes()[:min(stmtErr.Stmt.Pos, len(f.Bytes()))]), "\n")
	left := "This file was rolled back; files before it stay applied. Fix the cause and run apply again"
	if mode == "none" {
		left = "This file runs without a transaction: its statements before this one stay applied, and apply " +
			"resumes at this one. A failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it " +
			"(DROP INDEX CONCURRENTLY name) before you run apply again"
	}
	return fmt.Errorf("migration %s failed at line %d, statement:\n  %s\n%v\n%s",
		f.Name(), line, strings.TrimSpace(stmtErr.Stmt.Text), stmtErr.Err, left)
}

// fileTxMode reads the file's `-- atlas:txmode` directive.
func fileTxMode(f migrate.File, fallback string) (string, error) {
	local, ok := f.(*migrate.LocalFile)
	if !ok {
		return fallback, nil
	}
	switch modes := local.Directive("txmode"); {
	case len(modes) == 0:
		return fallback, nil
	case len(modes) > 1:
		return "", fmt.Errorf("%s: more than one atlas:txmode directive", f.Name())
	case modes[0] == "none" || modes[0] == "file":
		return modes[0], nil
	default:
		return "", fmt.Errorf("%s: unknown atlas:txmode %q (use file or none)", f.Name(), modes[0])
	}
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}
