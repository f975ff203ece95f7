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
//	schemaflow migrate status --url URL [--format TEMPLATE]
//	schemaflow migrate lint --dev-url URL --latest N
//	schemaflow version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// name is what the command calls itself in messages.
const name = "schemaflow"

// version is stamped by the build (-ldflags "-X main.version=…"); a plain
// `go build` reports "devel".
var version = "devel"

// engineModule is the Go module whose version `version` reports.
const engineModule = "ariga.io/atlas"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a mistake in the command line: exit code 2 and a usage hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// command is one `migrate` subcommand: its flags and what it runs.
type command struct {
	usage string
	flags map[string]flagKind
	run   func(ctx context.Context, a *args, out io.Writer) error
}

var commands = map[string]command{
	"diff":     diffCommand,
	"new":      newCommand,
	"hash":     hashCommand,
	"validate": validateCommand,
	"apply":    applyCommand,
	"status":   statusCommand,
	"lint":     lintCommand,
}

const rootUsage = `usage: schemaflow <command>

commands:
  migrate diff NAME --to file://schema.sql --dev-url URL [--dir file://migrations]
  migrate new NAME [--dir file://migrations]
  migrate hash [--dir file://migrations]
  migrate validate [--dir file://migrations] [--dev-url URL]
  migrate apply --url URL [N] [--dry-run] [--baseline VERSION] [--dir file://migrations]
  migrate status --url URL [--format TEMPLATE] [--dir file://migrations]
  migrate lint --dev-url URL --latest N [--dir file://migrations]
  version
`

func run(ctx context.Context, argv []string, out, errOut io.Writer) int {
	err := dispatch(ctx, argv, out)
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(errOut, "%s: %v\n\n%s", name, err, rootUsage)
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
		fmt.Fprint(out, rootUsage)
		return nil
	case "migrate":
	default:
		return usagef("unknown command %q", argv[0])
	}
	if len(argv) < 2 {
		return usagef("migrate needs a subcommand")
	}
	cmd, ok := commands[argv[1]]
	if !ok {
		return usagef("unknown migrate subcommand %q", argv[1])
	}
	a, err := parseArgs(argv[2:], cmd.flags)
	if err != nil {
		return usagef("migrate %s: %v (usage: %s)", argv[1], err, cmd.usage)
	}
	if a.help {
		fmt.Fprintf(out, "usage: %s\n", cmd.usage)
		return nil
	}
	return cmd.run(ctx, a, out)
}

// versionLine says what this binary is and which engine it embeds, read
// from the build information so it cannot drift from go.mod.
func versionLine() string {
	engine := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == engineModule {
				engine = dep.Version
				if dep.Replace != nil {
					engine = dep.Replace.Version
				}
			}
		}
	}
	return fmt.Sprintf("%s %s (the project's migration command; Atlas engine %s %s, community, PostgreSQL)",
		name, version, engineModule, engine)
}
