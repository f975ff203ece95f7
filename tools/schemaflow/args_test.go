package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

var testFlags = map[string]flagKind{"dir": valueFlag, "url": valueFlag, "dry-run": boolFlag}

func TestParseArgsAcceptsFlagsAnywhere(t *testing.T) {
	a, err := parseArgs([]string{"--dir", "file://m", "init", "--url=postgres://x/db", "--dry-run"}, testFlags)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.positional, ","); got != "init" {
		t.Errorf("positional = %q, want init", got)
	}
	if a.value("dir", "") != "file://m" || a.value("url", "") != "postgres://x/db" || !a.bools["dry-run"] {
		t.Errorf("flags parsed wrong: %+v", a)
	}
}

func TestParseArgsRefusesBadInput(t *testing.T) {
	for _, argv := range [][]string{
		{"--nope", "x"},
		{"--dir"},
		{"--dir", "a", "--dir", "b"},
		{"--dry-run=maybe"},
	} {
		if _, err := parseArgs(argv, testFlags); err == nil {
			t.Errorf("parseArgs(%q) accepted bad input", argv)
		}
	}
}

func TestDurationFlag(t *testing.T) {
	a, err := parseArgs([]string{"--lock-timeout", "1500ms"}, map[string]flagKind{"lock-timeout": valueFlag})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := a.duration("lock-timeout", time.Second); err != nil || d != 1500*time.Millisecond {
		t.Errorf("duration = %v, %v", d, err)
	}
	a.values["lock-timeout"] = "soon"
	if _, err := a.duration("lock-timeout", time.Second); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func TestUsageErrorsExitTwoAndWriteNothing(t *testing.T) {
	for _, argv := range [][]string{
		{},
		{"migrate"},
		{"migrate", "explode"},
		{"migrate", "apply"}, // --url missing
		{"migrate", "apply", "--url", "postgres://x/db", "0"}, // N must be positive
		{"migrate", "diff", "bad name", "--to", "file://s.sql", "--dev-url", "postgres://x/db"},
		{"migrate", "status", "--url", "mysql://x/db"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), argv, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (stderr %q)", argv, code, errOut.String())
		}
		if out.Len() != 0 {
			t.Errorf("run(%q) wrote to stdout: %q", argv, out.String())
		}
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
