package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
	"github.com/spf13/pflag"
)

// newFlags are `migrate new`'s flags.
type newFlags struct {
	dir string
}

func (f *newFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("migrate new")
	dirFlag(fs, &f.dir)
	return fs
}

func newCmd() *command {
	f := &newFlags{}
	return &command{usage: "migrate new NAME [--dir file://migrations]", flags: f.flagSet(), run: f.run}
}

// run writes an empty migration for hand-written statements (those the
// engine does not diff) and records it in atlas.sum.
func (f *newFlags) run(_ context.Context, args []string, out io.Writer) error {
	if err := maxArgs(args, 1); err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("migrate new needs a NAME")
	}
	if err := checkMigrationName(args[0]); err != nil {
		return err
	}
	dir, err := checkedDir(f.dir, true)
	if err != nil {
		return err
	}
	fileName := fmt.Sprintf("%s_%s.sql", migrate.NewVersion(), args[0])
	if err := dir.WriteFile(fileName, nil); err != nil {
		return err
	}
	if err := writeSum(dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s: write its statements, then run `nox -s migrate -- --hash` (runs `migrate hash`)\n", filepath.Join(dir.Path(), fileName))
	return nil
}
