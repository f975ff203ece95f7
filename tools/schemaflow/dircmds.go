package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
)

var newCommand = command{
	usage: "migrate new NAME [--dir file://migrations]",
	flags: map[string]flagKind{"dir": valueFlag},
	run:   runNew,
}

var hashCommand = command{
	usage: "migrate hash [--dir file://migrations]",
	flags: map[string]flagKind{"dir": valueFlag},
	run:   runHash,
}

var validateCommand = command{
	usage: "migrate validate [--dir file://migrations] [--dev-url URL]",
	flags: map[string]flagKind{"dir": valueFlag, "dev-url": valueFlag},
	run:   runValidate,
}

// runNew writes an empty migration for hand-written statements (those the
// engine does not diff) and records it in atlas.sum.
func runNew(_ context.Context, a *args, out io.Writer) error {
	if err := a.maxPositional(1); err != nil {
		return err
	}
	if len(a.positional) == 0 {
		return usagef("migrate new needs a NAME")
	}
	if err := checkMigrationName(a.positional[0]); err != nil {
		return err
	}
	dir, err := checkedDir(a, true)
	if err != nil {
		return err
	}
	fileName := fmt.Sprintf("%s_%s.sql", migrate.NewVersion(), a.positional[0])
	if err := dir.WriteFile(fileName, nil); err != nil {
		return err
	}
	if err := writeSum(dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s: write its statements, then run `migrate hash`\n", filepath.Join(dir.Path(), fileName))
	return nil
}

func runHash(_ context.Context, a *args, out io.Writer) error {
	if err := a.maxPositional(0); err != nil {
		return err
	}
	dir, err := openDir(a.value("dir", defaultDirURL), false)
	if err != nil {
		return err
	}
	if err := writeSum(dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s\n", filepath.Join(dir.Path(), migrate.HashFileName))
	return nil
}

func writeSum(dir migrate.Dir) error {
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return migrate.WriteSumFile(dir, sum)
}

// runValidate checks atlas.sum and, with --dev-url, replays every file on
// the dev database, so a migration that does not run is caught before a
// deployment.
func runValidate(ctx context.Context, a *args, out io.Writer) error {
	if err := a.maxPositional(0); err != nil {
		return err
	}
	dir, err := checkedDir(a, false)
	if err != nil {
		return err
	}
	files, err := dir.Files()
	if err != nil {
		return err
	}
	devURL := a.value("dev-url", "")
	if devURL == "" {
		fmt.Fprintf(out, "%s: atlas.sum matches its %d files\n", dir.Path(), len(files))
		return nil
	}
	dev, err := openDatabase(ctx, devURL, "dev database")
	if err != nil {
		return err
	}
	defer dev.Close()
	ex, err := migrate.NewExecutor(dev.Driver, dir, migrate.NopRevisionReadWriter{})
	if err != nil {
		return err
	}
	if _, err := ex.Replay(ctx, migrate.RealmConn(dev.Driver, nil)); err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return explainReplay(err, "the migration directory")
	}
	fmt.Fprintf(out, "%s: atlas.sum matches its %d files, and they replay on the dev database\n", dir.Path(), len(files))
	return nil
}
