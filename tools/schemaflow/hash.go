package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
)

// hashFlags are `migrate hash`'s flags.
type hashFlags struct {
	Dir string
}

func (f *hashFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet("migrate hash")
	dirFlag(fs, &f.Dir)
	return fs
}

func hashCmd() *command {
	f := &hashFlags{}
	return &command{usage: "migrate hash [--dir file://migrations]", flags: f.flagSet(), run: f.run}
}

// run writes atlas.sum for the directory's files as they are.
func (f *hashFlags) run(_ context.Context, args []string, out io.Writer) error {
	if err := maxArgs(args, 0); err != nil {
		return err
	}
	dir, err := openDir(f.Dir, false)
	if err != nil {
		return err
	}
	if err := writeSum(dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s\n", filepath.Join(dir.Path(), migrate.HashFileName))
	return nil
}
