package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// helpFlag is the flag every command has for its help (-h too). It is a
// flag of the set, not pflag's own shortcut, so that the rest of the line is
// still checked: `--help --nope` is a mistake, as in the official CLI.
const helpFlag = "help"

// newFlagSet starts a command's flags. They are read by spf13/pflag, the
// package the official Atlas CLI reads its flags with, so the two accept
// the same command lines: flags before, between or after the positional
// arguments (`migrate diff NAME --to …`, `migrate apply --url URL 2`), as
// --name value or --name=value, booleans as --name or --name=true|false,
// and `--` ends the flags. parseFlags reports the errors, so the set itself
// prints nothing.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolP(helpFlag, "h", false, "print this help")
	_ = fs.MarkHidden(helpFlag) // defined just above: it cannot fail
	return fs
}

// repeatedFlagError is a flag that takes a value given more than once: which
// of two URLs was meant is not guessed.
type repeatedFlagError struct{ name string }

func (e *repeatedFlagError) Error() string {
	return fmt.Sprintf("--%s given twice", e.name)
}

// parseFlags reads a command line into fs's flags and returns the
// positional arguments, and whether help was asked for. Its errors are
// pflag's own (*pflag.NotExistError, *pflag.ValueRequiredError,
// *pflag.InvalidValueError, …) or a *repeatedFlagError.
func parseFlags(fs *pflag.FlagSet, argv []string) (args []string, help bool, err error) {
	given := map[string]bool{}
	err = fs.ParseAll(argv, func(f *pflag.Flag, value string) error {
		if given[f.Name] && f.NoOptDefVal == "" {
			return &repeatedFlagError{f.Name}
		}
		given[f.Name] = true
		return fs.Set(f.Name, value)
	})
	if err != nil {
		return nil, false, err
	}
	help, err = fs.GetBool(helpFlag)
	return fs.Args(), help, err
}

// printHelp writes a command's usage line and its flags.
func (c *command) printHelp(out io.Writer) {
	fmt.Fprintf(out, "usage: %s\n\nflags:\n", c.usage)
	c.flags.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		valueName, usage := pflag.UnquoteUsage(f)
		left := "--" + f.Name
		if valueName != "" {
			left += " " + valueName
		}
		if f.DefValue != "" && f.DefValue != "false" && !strings.Contains(f.DefValue, "\n") {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(out, "  %-26s %s\n", left, usage)
	})
}

// maxArgs fails when more positional arguments were given than the command
// takes.
func maxArgs(args []string, n int) error {
	if len(args) > n {
		return usagef("unexpected argument %q", args[n])
	}
	return nil
}

// required fails when a flag the command needs was not given (or empty).
func required(value, flagName string) error {
	if value == "" {
		return usagef("required flag --%s not set", flagName)
	}
	return nil
}

// The flags several commands share, with their defaults.

func dirFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "dir", defaultDirURL, "the migration directory's file:// `URL`")
}

func devURLFlag(fs *pflag.FlagSet, devURL *string, usage string) {
	fs.StringVar(devURL, "dev-url", "", usage)
}

func revisionsSchemaFlag(fs *pflag.FlagSet, schema *string) {
	fs.StringVar(schema, "revisions-schema", revisionsSchema, "the `SCHEMA` of the revisions table")
}

func lockTimeoutFlag(fs *pflag.FlagSet, timeout *time.Duration, usage string) {
	fs.DurationVar(timeout, "lock-timeout", 10*time.Second, usage)
}

// notPositiveError is a count that must be 1 or more.
type notPositiveError struct{ value string }

func (e *notPositiveError) Error() string {
	return fmt.Sprintf("must be a positive number of files, got %q", e.value)
}

// positiveIntFlag is a flag whose value is a count of 1 or more; 0, its
// default, means not given.
func positiveIntFlag(fs *pflag.FlagSet, n *int, name, usage string) {
	fs.Func(name, usage, func(s string) error {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return &notPositiveError{s}
		}
		*n = v
		return nil
	})
}
