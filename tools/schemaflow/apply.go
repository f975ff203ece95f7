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
	"ariga.io/atlas/sql/sqlclient"
)

// applyLock is the advisory lock name the official CLI takes around apply,
// so the two binaries exclude each other as well as themselves.
const applyLock = "atlas_migrate_execute"

var applyCommand = command{
	usage: "migrate apply --url URL [N] [--dry-run] [--baseline VERSION] [--dir file://migrations]",
	flags: map[string]flagKind{
		"url": valueFlag, "dir": valueFlag, "dry-run": boolFlag, "baseline": valueFlag,
		"revisions-schema": valueFlag, "lock-timeout": valueFlag, "allow-dirty": boolFlag,
		"tx-mode": valueFlag,
	},
	run: runApply,
}

type applyOptions struct {
	count       int // files to apply; 0 means all pending
	dryRun      bool
	txMode      string
	lockTimeout time.Duration
	executor    []migrate.ExecutorOption
}

func parseApply(a *args) (*applyOptions, error) {
	if err := a.maxPositional(1); err != nil {
		return nil, err
	}
	o := &applyOptions{dryRun: a.bools["dry-run"], txMode: a.value("tx-mode", "file")}
	if len(a.positional) == 1 {
		n, err := strconv.Atoi(a.positional[0])
		if err != nil || n < 1 {
			return nil, usagef("N must be a positive number of files to apply, got %q", a.positional[0])
		}
		o.count = n
	}
	if o.txMode != "file" && o.txMode != "none" {
		return nil, usagef("--tx-mode %q: this command supports file (default) and none", o.txMode)
	}
	var err error
	if o.lockTimeout, err = a.duration("lock-timeout", 10*time.Second); err != nil {
		return nil, err
	}
	o.executor = []migrate.ExecutorOption{migrate.WithOperatorVersion(operatorVersion())}
	if v := a.value("baseline", ""); v != "" {
		o.executor = append(o.executor, migrate.WithBaselineVersion(v))
	}
	if a.bools["allow-dirty"] {
		o.executor = append(o.executor, migrate.WithAllowDirty(true))
	}
	return o, nil
}

// operatorVersion fills the revisions' operator_version column.
func operatorVersion() string {
	return fmt.Sprintf("%s %s", name, version)
}

func runApply(ctx context.Context, a *args, out io.Writer) error {
	target, err := databaseFlag(a, "url", "target")
	if err != nil {
		return err
	}
	opts, err := parseApply(a)
	if err != nil {
		return err
	}
	dir, err := checkedDir(a, false)
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
	revSchema := a.value("revisions-schema", revisionsSchema)
	rrw := &revisions{conn: client.DB, schema: revSchema}
	var history migrate.RevisionReadWriter = rrw
	if opts.dryRun {
		// A dry run writes nothing, not even the revisions table.
		if history, err = rrw.orNone(ctx); err != nil {
			return err
		}
	} else if err := rrw.ensureTable(ctx); err != nil {
		return err
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
	for _, f := range pending {
		if err := applyFile(ctx, client, dir, rrw, f, opts, out); err != nil {
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
		var ex *migrate.Executor
		if ex, err = migrate.NewExecutor(client.Driver, dir, rrw, opts.executor...); err != nil {
			return err
		}
		runErr = ex.Execute(ctx, f)
	default:
		runErr = applyInTransaction(ctx, client, dir, rrw.schema, f, opts)
		if runErr != nil {
			// The transaction took the file's revision with it: record the
			// failure outside it, so the table says what went wrong.
			runErr = errors.Join(runErr, recordFailure(ctx, rrw, dir, f, started, runErr))
		}
	}
	if runErr != nil {
		return describeFailure(f, runErr)
	}
	fmt.Fprintf(out, "  applied %s: %d statements in %s\n", f.Name(), len(statements), round(time.Since(started)))
	return nil
}

func applyInTransaction(ctx context.Context, client *sqlclient.Client, dir migrate.Dir, revSchema string,
	f migrate.File, opts *applyOptions) error {
	tx, err := client.Tx(ctx, nil)
	if err != nil {
		return err
	}
	ex, err := migrate.NewExecutor(tx.Driver, dir, &revisions{conn: tx.Tx, schema: revSchema}, opts.executor...)
	if err == nil {
		err = ex.Execute(ctx, f)
	}
	if err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
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

// describeFailure names the file, the statement and its line.
func describeFailure(f migrate.File, err error) error {
	var stmtErr *migrate.StmtExecError
	if !errors.As(err, &stmtErr) {
		return fmt.Errorf("migration %s failed: %w (files before it stay applied)", f.Name(), err)
	}
	line := 1 + strings.Count(string(f.Bytes()[:min(stmtErr.Stmt.Pos, len(f.Bytes()))]), "\n")
	return fmt.Errorf("migration %s failed at line %d, statement:\n  %s\n%v\n"+
		"This file was rolled back; files before it stay applied. Fix the cause and run apply again",
		f.Name(), line, strings.TrimSpace(stmtErr.Stmt.Text), stmtErr.Err)
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
