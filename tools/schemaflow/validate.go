package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"ariga.io/atlas/sql/migrate"
	"github.com/spf13/pflag"
)

// validateFlags are `migrate validate`'s flags.
type validateFlags struct {
	dir    string
	devURL string // optional: without it, only atlas.sum is checked
}

func (f *validateFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("migrate validate")
	dirFlag(fs, &f.dir)
	devURLFlag(fs, &f.devURL, "the postgres:// `URL` of an empty database to replay the files on")
	return fs
}

func validateCmd() *command {
	f := &validateFlags{}
	return &command{usage: "migrate validate [--dir file://migrations] [--dev-url URL]", flags: f.flagSet(), run: f.run}
}

// run checks atlas.sum and, with --dev-url, replays every file on the dev
// database, so a migration that does not run is caught before a deployment.
func (f *validateFlags) run(ctx context.Context, args []string, out io.Writer) error {
	if err := maxArgs(args, 0); err != nil {
		return err
	}
	dir, err := checkedDir(f.dir, false)
	if err != nil {
		return err
	}
	files, err := dir.Files()
	if err != nil {
		return err
	}
	if f.devURL == "" {
		fmt.Fprintf(out, "%s: atlas.sum matches its %d files\n", dir.Path(), len(files))
		return nil
	}
	dev, err := openDatabase(ctx, f.devURL, "dev database")
	if err != nil {
		return err
	}
	defer dev.Close()
	ex, err := migrate.NewExecutor(dev.Driver, dir, migrate.NopRevisionReadWriter{})
	if err != nil {
		return err
	}
	if _, err := ex.Replay(ctx, migrate.RealmConn(dev.Driver, nil)); err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return explainReplay(err, migrationDirectory)
	}
	fmt.Fprintf(out, "%s: atlas.sum matches its %d files, and they replay on the dev database\n", dir.Path(), len(files))
	return nil
}
