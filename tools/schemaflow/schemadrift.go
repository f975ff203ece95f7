package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlclient"
)

// Schema drift: the database's schema differs from what its applied files
// build, e.g. an ALTER TABLE made by hand. `migrate status --dev-url`
// replays the applied files on the dev database, inspects the target, and
// lets the engine diff the two and plan the difference; the statements name
// what the database has that the files do not build. The engine sees
// tables, columns, indexes, constraints, enums and comments, not views,
// functions, triggers, policies or privileges, so changes to those are not
// found here.

// schemaDriftError is the refusal, with the way out.
type schemaDriftError struct {
	dir        string // the migration directory's path, as given
	version    string // the database's version, the files replayed up to it
	statements []string
}

func (e *schemaDriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "drift: the database's schema differs from %s/ replayed up to its version %s; "+
		"the engine would turn the files' schema into the database's with:\n", e.dir, e.version)
	for _, s := range e.statements {
		b.WriteString("    " + strings.ReplaceAll(s, "\n", "\n    ") + ";\n")
	}
	b.WriteString("status refuses this database until they match again. The way out:\n" +
		"  - undo the change on the database;\n" +
		"  - the project's local (embedded) database: `nox -s db -- reset` empties it and applies the folder again;\n" +
		"  - to keep the change: put it in schema.sql and generate a migration (`nox -s generate -- NAME`), then undo it on the database so that the migration applies")
	return b.String()
}

// compareSchema is nil when the target's schema is what its applied files
// build, else the refusal. Not compared: a database with nothing applied
// (nothing to replay) or whose last file is partially applied (the files
// build no state to compare with).
func compareSchema(ctx context.Context, target *sqlclient.Client, devURL string, dir migrate.Dir, dirName string,
	revs []*migrate.Revision, revSchema string) (*schemaDriftError, error) {
	if len(revs) == 0 {
		return nil, nil
	}
	last := revs[len(revs)-1]
	if last.Applied < last.Total || last.Error != "" {
		return nil, nil
	}
	statements, err := schemaDiff(ctx, target, devURL, dir, last.Version, revSchema)
	if err != nil || len(statements) == 0 {
		return nil, err
	}
	return &schemaDriftError{dir: dirName, version: last.Version, statements: statements}, nil
}

// schemaDiff replays the directory up to version on the dev database and
// returns the statements, planned by the engine, that turn that state into
// the target's schema (the revisions schema left out); none when they agree.
func schemaDiff(ctx context.Context, target *sqlclient.Client, devURL string, dir migrate.Dir, version, revSchema string) ([]string, error) {
	dev, err := openDatabase(ctx, devURL, "dev database")
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	ex, err := migrate.NewExecutor(dev.Driver, dir, migrate.NopRevisionReadWriter{})
	if err != nil {
		return nil, err
	}
	replayed, err := ex.Replay(ctx, migrate.RealmConn(dev.Driver, nil), migrate.ReplayToVersion(version))
	if err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, explainReplay(err, migrationDirectory)
	}
	actual, err := target.Driver.InspectRealm(ctx, &schema.InspectRealmOption{Exclude: []string{revSchema}})
	if err != nil {
		return nil, fmt.Errorf("inspecting the target's schema: %w", err)
	}
	changes, err := target.Driver.RealmDiff(replayed, actual)
	if err != nil || len(changes) == 0 {
		return nil, err
	}
	plan, err := target.Driver.PlanChanges(ctx, "drift", changes)
	if err != nil {
		return nil, err
	}
	statements := make([]string, len(plan.Changes))
	for i, c := range plan.Changes {
		statements[i] = strings.TrimSpace(c.Cmd)
	}
	return statements, nil
}
