package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqlclient"

	// The engine's PostgreSQL driver registers itself with sqlclient; lib/pq
	// is the database/sql driver it opens connections with.
	_ "ariga.io/atlas/sql/postgres"
	_ "github.com/lib/pq"
)

const defaultDirURL = "file://migrations"

// dirPath turns a --dir or --to URL (file://relative/path or
// file:///absolute/path) into a file system path.
func dirPath(raw string) (string, error) {
	path, ok := strings.CutPrefix(raw, "file://")
	if !ok || path == "" {
		return "", usagef("%q is not a file:// URL (for example file://migrations)", raw)
	}
	if q := strings.IndexByte(path, '?'); q >= 0 {
		return "", usagef("%q: query parameters on file URLs are not supported", raw)
	}
	return path, nil
}

// openDir opens the migration directory; create makes it when missing
// (commands that write into it), otherwise a missing folder is an error.
func openDir(raw string, create bool) (*migrate.LocalDir, error) {
	path, err := dirPath(raw)
	if err != nil {
		return nil, err
	}
	switch info, err := os.Stat(path); {
	case errors.Is(err, os.ErrNotExist) && create:
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("create migration directory: %w", err)
		}
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("migration directory %s does not exist", path)
	case err != nil:
		return nil, err
	case !info.IsDir():
		return nil, fmt.Errorf("%s is not a directory", path)
	}
	return migrate.NewLocalDir(path)
}

// checkedDir opens --dir and checks it against atlas.sum; create makes a
// missing folder (commands that write into it).
func checkedDir(dirURL string, create bool) (*migrate.LocalDir, error) {
	dir, err := openDir(dirURL, create)
	if err != nil {
		return nil, err
	}
	if err := validateDir(dir); err != nil {
		return nil, err
	}
	return dir, nil
}

// databaseFlag checks a required URL flag (--url, --dev-url), refusing one
// this command cannot use before any work is done.
func databaseFlag(raw, flagName, role string) error {
	if err := required(raw, flagName); err != nil {
		return err
	}
	return checkDatabaseURL(raw, role)
}

// writeSum writes atlas.sum for the directory's files as they are.
func writeSum(dir migrate.Dir) error {
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return migrate.WriteSumFile(dir, sum)
}

// validateDir checks the files against atlas.sum and explains a mismatch.
func validateDir(dir migrate.Dir) error {
	err := migrate.Validate(dir)
	var sumErr *migrate.ChecksumError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &sumErr):
		return &editedFileError{sumErr}
	case errors.Is(err, migrate.ErrChecksumNotFound):
		return errors.New("atlas.sum not found: the migration directory has files but no checksum; run `nox -s migrate -- --hash` (runs `migrate hash`)")
	default:
		return err
	}
}

// editedFileError is a migration file that is not as atlas.sum recorded it
// (edited, added or removed), with the way out.
type editedFileError struct{ sum *migrate.ChecksumError }

func (e *editedFileError) Error() string {
	return fmt.Sprintf("checksum mismatch: %s was %s since atlas.sum was written (line %d of atlas.sum). "+
		"Committed migrations must not change; if this change is intended (a file not yet applied anywhere), re-hash: `nox -s migrate -- --hash` (runs `migrate hash`)",
		e.sum.File, e.sum.Reason, e.sum.Line)
}

func (e *editedFileError) Unwrap() error { return e.sum }

// migrationName is what `diff` and `new` accept as NAME: it becomes part of
// a file name, so it is kept to letters, digits, '_' and '-'.
var migrationName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func checkMigrationName(n string) error {
	if !migrationName.MatchString(n) {
		return usagef("migration name %q: use letters, digits, '_' and '-' (for example add_projects_archived)", n)
	}
	return nil
}

// redact hides a URL's password for messages; the rest reads exactly as
// the user wrote it.
func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return raw
	}
	return scheme + "://" + user + ":***" + rest[at:]
}

// checkDatabaseURL refuses a URL this command cannot use, before any work.
func checkDatabaseURL(raw, role string) error {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return usagef("%s URL %q: expected postgres://user@host:port/database", role, redact(raw))
	}
	return nil
}

// openDatabase connects through the engine's client; role says which
// database it is in messages ("target" or "dev database").
func openDatabase(ctx context.Context, raw, role string) (*sqlclient.Client, error) {
	if err := checkDatabaseURL(raw, role); err != nil {
		return nil, err
	}
	client, err := sqlclient.Open(ctx, raw)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), raw, redact(raw))
		return nil, fmt.Errorf("cannot connect to the %s at %s: %s", role, redact(raw), msg)
	}
	return client, nil
}
