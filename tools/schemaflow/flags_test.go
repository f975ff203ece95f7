package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// parse reads argv into a command's flags struct, failing the test on error.
func parse(t *testing.T, flags interface{ flagSet() *flag.FlagSet }, argv ...string) []string {
	t.Helper()
	args, help, err := parseFlags(flags.flagSet(), argv)
	if err != nil || help {
		t.Fatalf("parseFlags(%q) = %v, help %v", argv, err, help)
	}
	return args
}

func TestFlagsComeBeforeBetweenOrAfterPositionalArguments(t *testing.T) {
	for _, argv := range [][]string{
		{"init", "--to", "file://s.sql", "--dev-url=postgres://x/dev"},
		{"--to", "file://s.sql", "init", "--dev-url=postgres://x/dev"},
		{"--to=file://s.sql", "--dev-url", "postgres://x/dev", "init"},
	} {
		f := &diffFlags{}
		args := parse(t, f, argv...)
		if !reflect.DeepEqual(args, []string{"init"}) {
			t.Errorf("%q: args = %q, want [init]", argv, args)
		}
		if f.To != "file://s.sql" || f.DevURL != "postgres://x/dev" || f.Dir != defaultDirURL {
			t.Errorf("%q: flags = %+v", argv, f)
		}
	}
	f := &applyFlags{}
	if args := parse(t, f, "--url", "postgres://x/db", "2", "--dry-run"); !reflect.DeepEqual(args, []string{"2"}) || !f.DryRun {
		t.Errorf("apply --url X 2 --dry-run: args %q, flags %+v", args, f)
	}
}

func TestDoubleDashEndsTheFlagsAndSingleDashIsAnArgument(t *testing.T) {
	f := &newFlags{}
	if args := parse(t, f, "--dir", "file://m", "--", "--dir", "x"); !reflect.DeepEqual(args, []string{"--dir", "x"}) || f.Dir != "file://m" {
		t.Errorf("args %q, dir %q", args, f.Dir)
	}
	// A flag's value may look like a flag or like `--`.
	s := &statusFlags{}
	if args := parse(t, s, "--format", "--", "-1"); !reflect.DeepEqual(args, []string{"-1"}) || s.Format != "--" {
		t.Errorf("args %q, format %q", args, s.Format)
	}
}

func TestTheProjectsArgumentListsFillTheFlagsStructs(t *testing.T) {
	// As tools/devtools/migrate.py and the migration tests call the engine.
	const dir, url, dev = "file:///p/migrations", "postgres://app@db/x", "postgres://app@db/dev"
	apply := &applyFlags{}
	parse(t, apply, "--dir", dir, "--url", url, "--lock-timeout", "1s")
	want := applyFlags{URL: url, Dir: dir, RevisionsSchema: revisionsSchema, LockTimeout: time.Second, TxMode: "file"}
	if *apply != want {
		t.Errorf("apply: %+v, want %+v", *apply, want)
	}
	status := &statusFlags{}
	parse(t, status, "--dir", dir, "--url", url, "--format", "{{ .Status }} {{ .Current }}")
	if *status != (statusFlags{URL: url, Dir: dir, Format: "{{ .Status }} {{ .Current }}", RevisionsSchema: revisionsSchema}) {
		t.Errorf("status: %+v", *status)
	}
	diff := &diffFlags{}
	if args := parse(t, diff, "check", "--dir", dir, "--to", "file:///p/schema.sql", "--dev-url", dev); args[0] != "check" ||
		*diff != (diffFlags{To: "file:///p/schema.sql", DevURL: dev, Dir: dir, LockTimeout: 10 * time.Second}) {
		t.Errorf("diff: %q %+v", args, *diff)
	}
	validate := &validateFlags{}
	parse(t, validate, "--dir", "file://migrations", "--dev-url", dev)
	if *validate != (validateFlags{Dir: "file://migrations", DevURL: dev}) {
		t.Errorf("validate: %+v", *validate)
	}
	lint := &lintFlags{}
	parse(t, lint, "--dir", dir, "--dev-url", dev, "--latest", "1")
	if *lint != (lintFlags{DevURL: dev, Latest: 1, Dir: dir}) {
		t.Errorf("lint: %+v", *lint)
	}
	hash := &hashFlags{}
	parse(t, hash, "--dir", dir)
	if hash.Dir != dir {
		t.Errorf("hash: %+v", *hash)
	}
}

func TestDefaults(t *testing.T) {
	apply := &applyFlags{}
	parse(t, apply)
	if *apply != (applyFlags{Dir: defaultDirURL, RevisionsSchema: revisionsSchema, LockTimeout: 10 * time.Second, TxMode: "file"}) {
		t.Errorf("apply defaults: %+v", *apply)
	}
	status := &statusFlags{}
	parse(t, status)
	if status.Format != defaultStatusTemplate || status.Dir != defaultDirURL {
		t.Errorf("status defaults: %+v", *status)
	}
}

func TestBooleansAndDurations(t *testing.T) {
	f := &applyFlags{}
	parse(t, f, "--dry-run", "--allow-dirty=true", "--dry-run=false", "--lock-timeout=1500ms")
	if f.DryRun || !f.AllowDirty || f.LockTimeout != 1500*time.Millisecond {
		t.Errorf("flags = %+v", *f)
	}
}

func TestParseFlagsRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"--nope", "x"}, "unknown flag --nope"},
		{[]string{"-url", "x", "--nope"}, "unknown flag --nope"},
		{[]string{"--help=yes"}, "unknown flag --help"},
		{[]string{"--url"}, "--url needs a value"},
		{[]string{"--dir", "a", "--dir", "b"}, "--dir given twice"},
		{[]string{"--dir=a", "--dir", "a"}, "--dir given twice"},
		{[]string{"--dry-run=maybe"}, `--dry-run takes true or false, got "maybe"`},
		{[]string{"--lock-timeout", "soon"}, `--lock-timeout: time: invalid duration "soon"`},
	} {
		_, _, err := parseFlags((&applyFlags{}).flagSet(), tc.argv)
		if err == nil || err.Error() != tc.want {
			t.Errorf("parseFlags(%q) = %v, want %q", tc.argv, err, tc.want)
		}
	}
	for _, latest := range []string{"0", "-2", "x"} {
		_, _, err := parseFlags((&lintFlags{}).flagSet(), []string{"--latest", latest})
		if err == nil || !strings.Contains(err.Error(), "--latest: must be a positive number of files") {
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
		{"migrate", "apply", "--url", "postgres://x/db", "0"},  // N must be positive
		{"migrate", "apply", "--url", "postgres://x/db", "-1"}, // a single dash is an argument
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

func TestUsageErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"migrate", "apply"}, "required flag --url not set"},
		{[]string{"migrate", "lint", "--dev-url", "postgres://x/db"}, "required flag --latest not set"},
		{[]string{"migrate", "apply", "--url", "postgres://x/db", "-1"}, `N must be a positive number of files to apply, got "-1"`},
		{[]string{"migrate", "apply", "--nope"}, "migrate apply: unknown flag --nope (usage: migrate apply --url URL [N] [--dry-run] [--baseline VERSION] [--dir file://migrations])"},
	} {
		var errOut bytes.Buffer
		run(context.Background(), tc.argv, io.Discard, &errOut)
		if first := strings.SplitN(errOut.String(), "\n", 2)[0]; first != "schemaflow: "+tc.want {
			t.Errorf("run(%q): %q, want %q", tc.argv, first, "schemaflow: "+tc.want)
		}
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
