package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
	"github.com/spf13/pflag"
)

// hashFlags are `migrate hash`'s flags.
type hashFlags struct {
	dir string
}

func (f *hashFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("migrate hash")
	dirFlag(fs, &f.dir)
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
	dir, err := openDir(f.dir, false)
	if err != nil {
		return err
	}
	if err := writeSum(dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s\n", filepath.Join(dir.Path(), migrate.HashFileName))
	return nil
}
