package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// newFlagSet starts a command's flags; parseFlags reports its errors, so the
// set itself prints nothing.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags reads a command line into fs's flags and returns the positional
// arguments. As the official CLI accepts them, flags may come before, between
// or after the positional arguments (`migrate diff NAME --to …`,
// `migrate apply --url URL 2`), in the forms --name value and --name=value,
// and booleans as --name or --name=true|false; `--` ends the flags. A token
// with a single dash is a positional argument (as in `apply -1`, which the
// command then refuses), except -h, which asks for help like --help. A flag
// that takes a value may be given once.
func parseFlags(fs *flag.FlagSet, argv []string) (args []string, help bool, err error) {
	given := map[string]bool{}
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		switch {
		case arg == "--":
			return append(args, argv[i+1:]...), help, nil
		case arg == "-h" || arg == "--help":
			help = true
			continue
		case !strings.HasPrefix(arg, "--"):
			args = append(args, arg)
			continue
		}
		name, value, hasValue := strings.Cut(arg[2:], "=")
		f := fs.Lookup(name)
		if f == nil {
			return nil, false, fmt.Errorf("unknown flag --%s", name)
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
			if err := fs.Set(name, value); err != nil {
				return nil, false, fmt.Errorf("--%s takes true or false, got %q", name, value)
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(argv) {
				return nil, false, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = argv[i]
		}
		if given[name] {
			return nil, false, fmt.Errorf("--%s given twice", name)
		}
		given[name] = true
		if err := fs.Set(name, value); err != nil {
			return nil, false, fmt.Errorf("--%s: %v", name, err)
		}
	}
	return args, help, nil
}

// printHelp writes a command's usage line and its flags.
func (c *command) printHelp(out io.Writer) {
	fmt.Fprintf(out, "usage: %s\n\nflags:\n", c.usage)
	c.flags.VisitAll(func(f *flag.Flag) {
		valueName, usage := flag.UnquoteUsage(f)
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

func dirFlag(fs *flag.FlagSet, dir *string) {
	fs.StringVar(dir, "dir", defaultDirURL, "the migration directory's file:// `URL`")
}

func devURLFlag(fs *flag.FlagSet, devURL *string, usage string) {
	fs.StringVar(devURL, "dev-url", "", usage)
}

func revisionsSchemaFlag(fs *flag.FlagSet, schema *string) {
	fs.StringVar(schema, "revisions-schema", revisionsSchema, "the `SCHEMA` of the revisions table")
}

func lockTimeoutFlag(fs *flag.FlagSet, timeout *time.Duration, usage string) {
	*timeout = 10 * time.Second
	fs.Var(durationValue{timeout}, "lock-timeout", usage)
}

// durationValue is a time.Duration flag whose error says what is wrong with
// the value (the flag package's own says only "parse error").
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}
