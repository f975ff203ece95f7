package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// parse reads argv into a command's flags struct, failing the test on error.
func parse(t *testing.T, flags interface{ flagSet() *pflag.FlagSet }, argv ...string) []string {
	t.Helper()
	args, help, err := parseFlags(flags.flagSet(), argv)
	if err != nil || help {
		t.Fatalf("parseFlags(%q) = %v, help %v", argv, err, help)
	}
	return args
}

// The argument lists tools/devtools/migrate.py, atlas_parity.py and the
// migration tests pass, in their order (NAME before the flags in diff).
func TestTheProjectsArgumentListsFillTheFlagsStructs(t *testing.T) {
	const dir, url, dev = "file:///p/migrations", "postgres://app@db/x", "postgres://app@db/dev"
	apply := &applyFlags{}
	if args := parse(t, apply, "--dir", dir, "--url", url, "--lock-timeout", "1s", "--dry-run", "2"); !slices.Equal(args, []string{"2"}) {
		t.Errorf("apply: args %q", args)
	}
	want := applyFlags{url: url, dir: dir, dryRun: true, revisionsSchema: revisionsSchema, lockTimeout: time.Second, txMode: "file"}
	if *apply != want {
		t.Errorf("apply: %+v, want %+v", *apply, want)
	}
	apply = &applyFlags{}
	parse(t, apply, "--url", url, "--dir", "file://migrations", "--baseline", "3", "--allow-dirty=true", "--tx-mode=none")
	if apply.baseline != "3" || !apply.allowDirty || apply.txMode != "none" || apply.dir != "file://migrations" {
		t.Errorf("apply: %+v", *apply)
	}
	status := &statusFlags{}
	parse(t, status, "--dir", dir, "--url", url, "--format", "{{ .Status }} {{ .Current }}", "--dev-url", dev)
	if *status != (statusFlags{url: url, dir: dir, format: "{{ .Status }} {{ .Current }}", revisionsSchema: revisionsSchema, devURL: dev}) {
		t.Errorf("status: %+v", *status)
	}
	for _, argv := range [][]string{
		{"check", "--dir", dir, "--to", "file:///p/schema.sql", "--dev-url", dev},
		{"--to=file:///p/schema.sql", "check", "--dev-url=" + dev, "--dir", dir},
	} {
		diff := &diffFlags{}
		if args := parse(t, diff, argv...); !slices.Equal(args, []string{"check"}) ||
			*diff != (diffFlags{to: "file:///p/schema.sql", devURL: dev, dir: dir, lockTimeout: 10 * time.Second}) {
			t.Errorf("diff %q: %q %+v", argv, args, *diff)
		}
	}
	validate := &validateFlags{}
	parse(t, validate, "--dir", "file://migrations", "--dev-url", dev)
	if *validate != (validateFlags{dir: "file://migrations", devURL: dev}) {
		t.Errorf("validate: %+v", *validate)
	}
	lint := &lintFlags{}
	parse(t, lint, "--dir", dir, "--dev-url", dev, "--latest", "13")
	if *lint != (lintFlags{devURL: dev, latest: 13, dir: dir}) {
		t.Errorf("lint: %+v", *lint)
	}
	hash := &hashFlags{}
	if parse(t, hash, "--dir", dir); hash.dir != dir {
		t.Errorf("hash: %+v", *hash)
	}
	news := &newFlags{}
	if args := parse(t, news, "first", "--dir", dir); !slices.Equal(args, []string{"first"}) || news.dir != dir {
		t.Errorf("new: %q %+v", args, *news)
	}
}

func TestDefaults(t *testing.T) {
	apply := &applyFlags{}
	parse(t, apply)
	if *apply != (applyFlags{dir: defaultDirURL, revisionsSchema: revisionsSchema, lockTimeout: 10 * time.Second, txMode: "file"}) {
		t.Errorf("apply defaults: %+v", *apply)
	}
	status := &statusFlags{}
	parse(t, status)
	if status.format != defaultStatusTemplate || status.dir != defaultDirURL {
		t.Errorf("status defaults: %+v", *status)
	}
}

func TestDoubleDashEndsTheFlags(t *testing.T) {
	f := &newFlags{}
	if args := parse(t, f, "--dir", "file://m", "--", "--dir", "x"); !slices.Equal(args, []string{"--dir", "x"}) || f.dir != "file://m" {
		t.Errorf("args %q, dir %q", args, f.dir)
	}
	// A flag's value may look like a flag or like `--`.
	s := &statusFlags{}
	if args := parse(t, s, "--format", "--", "x", "--url", "--dir"); !slices.Equal(args, []string{"x"}) || s.format != "--" || s.url != "--dir" {
		t.Errorf("args %q, flags %+v", args, *s)
	}
}

// Each mistake is told by the type of its error, not by its message.
func TestParseFlagsRefusesBadInput(t *testing.T) {
	var (
		notExist *pflag.NotExistError
		noValue  *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		repeated *repeatedFlagError
		positive *notPositiveError
	)
	for _, tc := range []struct {
		argv []string
		as   any
	}{
		{[]string{"--nope", "x"}, &notExist},
		{[]string{"2", "-1"}, &notExist}, // a single dash is a shorthand, and there is none
		{[]string{"--url"}, &noValue},
		{[]string{"--dir", "a", "--dir", "b"}, &repeated},
		{[]string{"--dir=a", "--dir", "a"}, &repeated},
		{[]string{"--dry-run=maybe"}, &invalid},
		{[]string{"--help=yes"}, &invalid},
		{[]string{"--lock-timeout", "soon"}, &invalid},
	} {
		_, _, err := parseFlags((&applyFlags{}).flagSet(), tc.argv)
		if !errors.As(err, tc.as) {
			t.Errorf("parseFlags(%q) = %v (%T), want a %T", tc.argv, err, err, tc.as)
		}
	}
	// Booleans may be given again: the last wins.
	f := &applyFlags{}
	if parse(t, f, "--dry-run", "--dry-run=false"); f.dryRun {
		t.Errorf("--dry-run --dry-run=false: %+v", *f)
	}
	for _, latest := range []string{"0", "-2", "x"} {
		_, _, err := parseFlags((&lintFlags{}).flagSet(), []string{"--latest", latest})
		if !errors.As(err, &positive) || positive.value != latest {
			t.Errorf("--latest %s: %v", latest, err)
		}
	}
}

func TestUsageErrorsExitTwoAndWriteNothing(t *testing.T) {
	for _, argv := range [][]string{
		{},
		{"nope"},
		{"migrate"},
		{"migrate", "explode"},
		{"migrate", "apply"}, // --url missing
		{"migrate", "apply", "--url", "postgres://x/db", "0"}, // N must be positive
		{"migrate", "apply", "--url", "postgres://x/db", "-1"},
		{"migrate", "apply", "--url", "postgres://x/db", "1", "2"},
		{"migrate", "apply", "--url", "postgres://x/db", "--tx-mode", "all"},
		{"migrate", "apply", "--url", "postgres://x/db", "--lock-timeout", "soon"},
		{"migrate", "apply", "--url", "postgres://x/db", "--url", "postgres://x/db"},
		{"migrate", "apply", "--help", "--nope"},
		{"migrate", "diff", "bad name", "--to", "file://s.sql", "--dev-url", "postgres://x/db"},
		{"migrate", "diff", "--dev-url", "postgres://x/db"}, // --to missing
		{"migrate", "diff", "--to", "s.sql", "--dev-url", "postgres://x/db"},
		{"migrate", "new"},
		{"migrate", "new", "a", "b"},
		{"migrate", "hash", "extra"},
		{"migrate", "validate", "--dir", "migrations"},
		{"migrate", "status", "--url", "mysql://x/db"},
		{"migrate", "status", "--url", "postgres://x/db", "--format", "{{ .Nope"},
		{"migrate", "lint", "--dev-url", "postgres://x/db"}, // --latest missing
		{"migrate", "lint", "--dev-url", "postgres://x/db", "--latest", "0"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), argv, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (stderr %q)", argv, code, errOut.String())
		}
		if out.Len() != 0 {
			t.Errorf("run(%q) wrote to stdout: %q", argv, out.String())
		}
		if !strings.HasPrefix(errOut.String(), "schemaflow: ") || !strings.HasSuffix(errOut.String(), rootUsage()) {
			t.Errorf("run(%q) stderr = %q", argv, errOut.String())
		}
	}
}

// A flag mistake names the command and its usage; the parser's error is
// kept, by type, under the usage error.
func TestAFlagMistakeNamesTheCommand(t *testing.T) {
	err := dispatch(context.Background(), []string{"migrate", "apply", "--nope"}, io.Discard)
	var usage usageError
	var notExist *pflag.NotExistError
	if !errors.As(err, &usage) || !errors.As(err, &notExist) {
		t.Fatalf("err = %v (%T)", err, err)
	}
	want := "migrate apply: unknown flag: --nope (usage: migrate apply --url URL [N] [--dry-run] [--baseline VERSION] [--dir file://migrations])"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestHelpPrintsTheUsageAndTheFlags(t *testing.T) {
	for _, argv := range [][]string{{"migrate", "apply", "--help"}, {"migrate", "apply", "--url", "x", "-h", "2"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), argv, &out, &errOut); code != 0 || errOut.Len() != 0 {
			t.Fatalf("run(%q) = %d, stderr %q", argv, code, errOut.String())
		}
		for _, w := range []string{
			"usage: migrate apply --url URL [N]",
			"\n  --url URL ",
			"\n  --dry-run ",
			"\n  --lock-timeout DURATION ",
			"(default 10s)",
			"(default file://migrations)",
		} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("help lacks %q:\n%s", w, out.String())
			}
		}
		if strings.Contains(out.String(), "--help") {
			t.Errorf("help lists --help:\n%s", out.String())
		}
	}
}

// Every flag a usage line names is one the command has.
func TestUsageLinesNameOnlyRealFlags(t *testing.T) {
	named := regexp.MustCompile(`--([a-z-]+)`)
	var root strings.Builder
	for _, c := range migrateCommands {
		cmd := c.new()
		if !strings.HasPrefix(cmd.usage, "migrate "+c.name+" ") {
			t.Errorf("%s: usage %q", c.name, cmd.usage)
		}
		for _, m := range named.FindAllStringSubmatch(cmd.usage, -1) {
			if cmd.flags.Lookup(m[1]) == nil {
				t.Errorf("%s: usage names --%s, which it does not have", c.name, m[1])
			}
		}
		root.WriteString("  " + cmd.usage + "\n")
	}
	if !strings.Contains(rootUsage(), root.String()+"  version\n") {
		t.Errorf("root usage:\n%s", rootUsage())
	}
}

func TestVersionNamesTheEngine(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &out); code != 0 {
		t.Fatalf("version exited %d", code)
	}
	if !strings.HasPrefix(out.String(), "schemaflow ") || !strings.Contains(out.String(), engineModule) {
		t.Errorf("version = %q", out.String())
	}
}
