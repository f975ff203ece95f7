package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"ariga.io/atlas/sql/migrate"
)

func TestDirPath(t *testing.T) {
	for raw, want := range map[string]string{
		"file://migrations":   "migrations",
		"file:///abs/path":    "/abs/path",
		"file://a/schema.sql": "a/schema.sql",
	} {
		if got, err := dirPath(raw); err != nil || got != want {
			t.Errorf("dirPath(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"migrations", "file://", "http://x", "file://m?format=golang-migrate"} {
		if _, err := dirPath(raw); err == nil {
			t.Errorf("dirPath(%q) accepted", raw)
		}
	}
}

func TestRedactHidesThePassword(t *testing.T) {
	got := redact("postgres://app:s3cret@db:5432/x?sslmode=disable")
	if got != "postgres://app:***@db:5432/x?sslmode=disable" {
		t.Errorf("redact = %q", got)
	}
	if got := redact("postgres://app:p@ss@db/x"); got != "postgres://app:***@db/x" {
		t.Errorf("redact with an @ in the password = %q", got)
	}
	if got := redact("postgres://app@db/x"); got != "postgres://app@db/x" {
		t.Errorf("redact without password changed the URL: %q", got)
	}
}

func TestMigrationNames(t *testing.T) {
	for _, ok := range []string{"init", "add_projects-archived", "2fa"} {
		if err := checkMigrationName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "../x", "_x", "x.sql"} {
		if err := checkMigrationName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFileTxMode(t *testing.T) {
	for content, want := range map[string]string{
		"CREATE TABLE t (a int);\n":                                       "file",
		"-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON t (a);\n": "none",
	} {
		got, err := fileTxMode(migrate.NewLocalFile("1_x.sql", []byte(content)), "file")
		if err != nil || got != want {
			t.Errorf("fileTxMode(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
	if _, err := fileTxMode(migrate.NewLocalFile("1_x.sql", []byte("-- atlas:txmode all\n\nSELECT 1;\n")), "file"); err == nil {
		t.Error("txmode all was accepted in a file")
	}
}

func TestNewAndHashKeepTheSumInStep(t *testing.T) {
	root := t.TempDir()
	url := "file://" + filepath.Join(root, "migrations")
	n := &newFlags{}
	if err := n.run(t.Context(), parse(t, n, "first", "--dir", url), io.Discard); err != nil {
		t.Fatal(err)
	}
	dir, err := openDir(url, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateDir(dir); err != nil {
		t.Fatalf("after new: %v", err)
	}
	files, _ := dir.Files()
	path := filepath.Join(root, "migrations", files[0].Name())
	if err := os.WriteFile(path, []byte("CREATE TABLE t (a int);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var edited *migrate.ChecksumError
	if err := validateDir(dir); !errors.As(err, &edited) || edited.Reason != migrate.ReasonEdited {
		t.Fatalf("an edited file passed validation: %v", err)
	}
	h := &hashFlags{}
	if err := h.run(t.Context(), parse(t, h, "--dir", url), io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := validateDir(dir); err != nil {
		t.Fatalf("after hash: %v", err)
	}
}
