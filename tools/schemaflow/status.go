package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/template"

	"ariga.io/atlas/sql/migrate"
	"github.com/spf13/pflag"
)

// statusFlags are `migrate status`'s flags.
type statusFlags struct {
	url             string
	dir             string
	format          string // a text/template over statusReport
	revisionsSchema string
	devURL          string // optional: also compare the schema with the replayed files
}

func (f *statusFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("migrate status")
	fs.StringVar(&f.url, "url", "", "the postgres:// `URL` of the database to report on")
	dirFlag(fs, &f.dir)
	fs.StringVar(&f.format, "format", defaultStatusTemplate, "the output's Go `TEMPLATE`, over the official CLI's fields (.Status, .Current, .Next, …)")
	revisionsSchemaFlag(fs, &f.revisionsSchema)
	devURLFlag(fs, &f.devURL, "also compare the database's schema with the applied files replayed on this empty database (a postgres:// `URL`; this build only)")
	return fs
}

func statusCmd() *command {
	f := &statusFlags{}
	return &command{usage: "migrate status --url URL [--format TEMPLATE] [--dir file://migrations] [--dev-url URL]", flags: f.flagSet(), run: f.run}
}

// statusReport has the official CLI's field names, so the same --format
// templates work with either binary (e.g. '{{ .Status }} {{ .Current }}').
type statusReport struct {
	Status    string              // OK, PENDING, or DRIFT (then the command fails naming it)
	Current   string              // the last applied version, or "No migration applied yet"
	Next      string              // the next version, or "Already at latest version"
	Count     int                 // statements of the last revision applied, when it is partial
	Total     int                 // statements of the last revision, when it is partial
	Applied   []*migrate.Revision // applied revisions
	Pending   []migrate.File      // files still to apply
	Available []migrate.File      // every file of the directory
}

const defaultStatusTemplate = `Migration Status: {{ .Status }}
  -- Current Version: {{ .Current }}{{ if gt .Total 0 }} ({{ .Count }} of {{ .Total }} statements applied){{ end }}
  -- Next Version:    {{ .Next }}
  -- Executed Files:  {{ len .Applied }}
  -- Pending Files:   {{ len .Pending }}
`

// run reports the applied and pending files, writing nothing to the
// database, and fails when the database has drifted from the directory
// (drift.go); with --dev-url, also when its schema differs from the applied
// files replayed (schemadrift.go).
func (f *statusFlags) run(ctx context.Context, args []string, out io.Writer) error {
	if err := maxArgs(args, 0); err != nil {
		return err
	}
	target := f.url
	if err := databaseFlag(target, "url", "target"); err != nil {
		return err
	}
	if f.devURL != "" {
		if err := databaseFlag(f.devURL, "dev-url", "dev database"); err != nil {
			return err
		}
	}
	format, err := template.New("status").Parse(f.format)
	if err != nil {
		return usagef("--format: %v", err)
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
	// Status writes nothing, not even the revisions table.
	rrw := &revisions{conn: client.DB, schema: f.revisionsSchema}
	history, err := rrw.orNone(ctx)
	if err != nil {
		return err
	}
	report := &statusReport{}
	if report.Available, err = dir.Files(); err != nil {
		return err
	}
	if report.Applied, err = history.ReadRevisions(ctx); err != nil {
		return err
	}
	path, err := dirPath(f.dir)
	if err != nil {
		return err
	}
	drift := driftIn(report.Applied, report.Available, path, rrw.table())
	if _, named := drift.(*driftError); drift != nil && !named {
		return drift
	}
	ex, err := migrate.NewExecutor(client.Driver, dir, history)
	if err != nil {
		return err
	}
	report.Pending, err = ex.Pending(ctx)
	if err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		if drift != nil {
			// The engine's complaint (e.g. a failed revision whose file
			// is gone) follows from the drift, which says more.
			return drift
		}
		return fmt.Errorf("reading the pending migrations of %s: %w", redact(target), err)
	}
	report.Status, report.Next = "OK", "Already at latest version"
	if len(report.Pending) > 0 {
		report.Status, report.Next = "PENDING", report.Pending[0].Version()
	}
	if drift != nil {
		report.Status = "DRIFT"
	}
	report.Current = "No migration applied yet"
	if n := len(report.Applied); n > 0 {
		last := report.Applied[n-1]
		report.Current = last.Version
		if last.Applied < last.Total {
			report.Count, report.Total = last.Applied, last.Total
		}
	}
	if drift == nil && f.devURL != "" {
		found, err := compareSchema(ctx, client, f.devURL, dir, path, report.Applied, f.revisionsSchema)
		if err != nil {
			return err
		}
		if found != nil {
			drift, report.Status = found, "DRIFT"
		}
	}
	// On drift the report still prints (it says DRIFT, for the eye and for
	// --format templates), and the command fails naming it.
	return errors.Join(format.Execute(out, report), drift)
}
