package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/template"

	"ariga.io/atlas/sql/migrate"
)

var statusCommand = command{
	usage: "migrate status --url URL [--format TEMPLATE] [--dir file://migrations]",
	flags: map[string]flagKind{
		"url": valueFlag, "dir": valueFlag, "format": valueFlag, "revisions-schema": valueFlag,
	},
	run: runStatus,
}

// statusReport has the official CLI's field names, so the same --format
// templates work with either binary (e.g. '{{ .Status }} {{ .Current }}').
type statusReport struct {
	Status    string              // OK or PENDING
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

func runStatus(ctx context.Context, a *args, out io.Writer) error {
	if err := a.maxPositional(0); err != nil {
		return err
	}
	target, err := databaseFlag(a, "url", "target")
	if err != nil {
		return err
	}
	format, err := template.New("status").Parse(a.value("format", defaultStatusTemplate))
	if err != nil {
		return usagef("--format: %v", err)
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
	// Status writes nothing, not even the revisions table.
	rrw := &revisions{conn: client.DB, schema: a.value("revisions-schema", revisionsSchema)}
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
	ex, err := migrate.NewExecutor(client.Driver, dir, history)
	if err != nil {
		return err
	}
	report.Pending, err = ex.Pending(ctx)
	if err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return fmt.Errorf("reading the pending migrations of %s: %w", redact(target), err)
	}
	report.Status, report.Next = "OK", "Already at latest version"
	if len(report.Pending) > 0 {
		report.Status, report.Next = "PENDING", report.Pending[0].Version()
	}
	report.Current = "No migration applied yet"
	if n := len(report.Applied); n > 0 {
		last := report.Applied[n-1]
		report.Current = last.Version
		if last.Applied < last.Total {
			report.Count, report.Total = last.Applied, last.Total
		}
	}
	return format.Execute(out, report)
}
