// Command schemaflow is this project's migration command: a thin front end
// over Atlas's engine (the ariga.io/atlas Go module, which the official Atlas
// CLI drives too) for PostgreSQL. It speaks the official CLI's arguments for
// the subset the project uses, so scripts call one argument list whichever
// binary runs:
//
//	schemaflow migrate diff NAME --dir file://migrations --to file://schema.sql --dev-url URL
//	schemaflow migrate new NAME [--dir URL]
//	schemaflow migrate hash [--dir URL]
//	schemaflow migrate validate [--dir URL] [--dev-url URL]
//	schemaflow migrate apply --url URL [N] [--dry-run] [--baseline VERSION]
//	schemaflow migrate status --url URL [--format TEMPLATE] [--dev-url URL]
//	schemaflow migrate lint --dev-url URL --latest N
//	schemaflow version
//
// main.go wires the commands; each `migrate` subcommand is in its own file
// (diff.go, new.go, hash.go, validate.go, apply.go, status.go, lint.go) with
// its flags struct, whose flags flags.go reads with spf13/pflag (the
// official CLI's flag package). `migrate diff` splits the engine's
// changes into online-safe files in online.go and
// onlinefiles.go, and complete.go refuses files that do not reach the
// desired state; drift.go is the check status and apply share, of the
// database's revisions against the directory, and schemadrift.go status's
// comparison of the schema with the replayed files. What the engine does
// not see lives in internal packages: internal/security reads row-level
// security, policies, privileges, roles and functions and writes the
// statements `migrate diff` adds; internal/unseen reads partitions and
// serial sequence types, which `migrate diff` checks but cannot write;
// internal/rlslint is `migrate lint`'s row-level security check,
// internal/allowmark its way through for a deliberate destructive
// statement, internal/nolint the official CLI's atlas:nolint directives.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// name is what the command calls itself in messages.
const name = "schemaflow"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one `migrate` subcommand, made afresh for each run: its usage
// line, its flags (bound to the fields of its own flags struct) and the
// function that runs it on the positional arguments.
type command struct {
	usage string
	flags *pflag.FlagSet
	run   func(ctx context.Context, args []string, out io.Writer) error
}

// migrateCommands are the `migrate` subcommands by name, each with the
// constructor in its own file, in the order the usage lists them.
var migrateCommands = []struct {
	name string
	new  func() *command
}{
	{"diff", diffCmd},
	{"new", newCmd},
	{"hash", hashCmd},
	{"validate", validateCmd},
	{"apply", applyCmd},
	{"status", statusCmd},
	{"lint", lintCmd},
}

// usageError is a mistake in the command line: exit code 2 and a usage hint.
// err is the flag parser's error it reports, if any.
type usageError struct {
	msg string
	err error
}

func (e usageError) Error() string { return e.msg }

func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}

func rootUsage() string {
	var b strings.Builder
	b.WriteString("usage: " + name + " <command>\n\ncommands:\n")
	for _, c := range migrateCommands {
		b.WriteString("  " + c.new().usage + "\n")
	}
	b.WriteString("  version\n")
	return b.String()
}

func run(ctx context.Context, argv []string, out, errOut io.Writer) int {
	err := dispatch(ctx, argv, out)
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(errOut, "%s: %v\n\n%s", name, err, rootUsage())
		return 2
	default:
		fmt.Fprintf(errOut, "Error: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, argv []string, out io.Writer) error {
	if len(argv) == 0 {
		return usagef("no command given")
	}
	switch argv[0] {
	case "version", "--version":
		fmt.Fprintln(out, versionLine())
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(out, rootUsage())
		return nil
	case "migrate":
	default:
		return usagef("unknown command %q", argv[0])
	}
	if len(argv) < 2 {
		return usagef("migrate needs a subcommand")
	}
	for _, c := range migrateCommands {
		if c.name != argv[1] {
			continue
		}
		cmd := c.new()
		args, help, err := parseFlags(cmd.flags, argv[2:])
		if err != nil {
			msg := fmt.Sprintf("migrate %s: %v (usage: %s)", c.name, err, cmd.usage)
			return usageError{msg: msg, err: err}
		}
		if help {
			cmd.printHelp(out)
			return nil
		}
		return cmd.run(ctx, args, out)
	}
	return usagef("unknown migrate subcommand %q", argv[1])
}
