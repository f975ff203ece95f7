package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlclient"
	"github.com/spf13/pflag"

	"schemaflow/internal/pgident"
	"schemaflow/internal/security"
	"schemaflow/internal/unseen"
)

// diffFlags are `migrate diff`'s flags.
type diffFlags struct {
	to          string // the desired state: a .sql file, or a folder of them
	devURL      string
	dir         string
	lockTimeout time.Duration
}

func (f *diffFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("migrate diff")
	fs.StringVar(&f.to, "to", "", "the file:// `URL` of the desired schema: a .sql file, or a folder of them")
	devURLFlag(fs, &f.devURL, "the postgres:// `URL` of an empty database the states are built next to")
	dirFlag(fs, &f.dir)
	lockTimeoutFlag(fs, &f.lockTimeout, "how long to wait for another diff's lock on the dev database, a `DURATION` such as 30s")
	return fs
}

func diffCmd() *command {
	f := &diffFlags{}
	return &command{
		usage: "migrate diff [NAME] --to file://schema.sql --dev-url URL [--dir file://migrations]",
		flags: f.flagSet(),
		run:   f.run,
	}
}

// run writes the migration that brings the directory's state to the
// desired one: both are built next to the dev database (the directory
// executed, the desired SQL replayed), inspected, and diffed by the engine
// in normalized mode, as the official `migrate diff --to file://…` does;
// internal/security adds what the engine does not see. The changes are
// split into online-safe files (online.go), which are run on the
// directory's state and refused unless they reach the desired one
// (complete.go).
func (f *diffFlags) run(ctx context.Context, args []string, out io.Writer) error {
	if err := maxArgs(args, 1); err != nil {
		return err
	}
	var migration string
	if len(args) == 1 {
		migration = args[0]
		if err := checkMigrationName(migration); err != nil {
			return err
		}
	}
	to, devURL := f.to, f.devURL
	if err := required(to, "to"); err != nil {
		return err
	}
	if err := databaseFlag(devURL, "dev-url", "dev database"); err != nil {
		return err
	}
	desiredFiles, err := sqlSources(to)
	if err != nil {
		return err
	}
	dir, err := checkedDir(f.dir, true)
	if err != nil {
		return err
	}
	dev, err := openDatabase(ctx, devURL, "dev database")
	if err != nil {
		return err
	}
	defer dev.Close()
	unlock, err := dev.Lock(ctx, diffLock, f.lockTimeout)
	if err != nil {
		return fmt.Errorf("acquiring the diff lock on the dev database: %w", err)
	}
	defer func() { _ = unlock() }()
	// Both states are built in fresh scratch databases next to the dev
	// database: the engine's restore recreates the public schema (dropping
	// its grants and functions), so a database it has used once no longer
	// shows a fresh database's privileges.
	desiredDB, dropDesired, err := siblingDatabase(ctx, dev, devURL, "desired")
	if err != nil {
		return err
	}
	defer dropDesired()
	st := &diffStates{}
	if st.desired, st.desiredBeside, err = desiredState(ctx, desiredDB, desiredFiles); err != nil {
		return err
	}
	var dropCurrent func()
	if st.currentDB, dropCurrent, err = siblingDatabase(ctx, dev, devURL, "current"); err != nil {
		return err
	}
	defer dropCurrent()
	// The history stays on this database: the planned files run on it next.
	if st.current, st.currentBeside, err = executeAndRead(ctx, st.currentDB, dir); err != nil {
		return explainReplay(err, migrationDirectory)
	}
	return writeMigration(ctx, dir, migration, st, out, to)
}

// diffStates are the two sides of the diff, each read from its scratch
// database.
type diffStates struct {
	current, desired             *schema.Realm
	currentBeside, desiredBeside *besideEngine
	// currentDB holds the directory's state; the planned files run on it.
	currentDB *sqlclient.Client
}

// writeMigration diffs, plans, checks and writes the files.
func writeMigration(ctx context.Context, dir *migrate.LocalDir, migration string, st *diffStates, out io.Writer, to string) error {
	drv := st.currentDB.Driver
	// Both states are inspected from the server, so the engine may compare
	// them normalized (as the official CLI does): a CHECK whose expression
	// changed is then a change.
	changes, err := drv.RealmDiff(st.current, st.desired, schema.DiffNormalized())
	if err != nil {
		return engineCannotPlan(err, nil)
	}
	added := security.Changes(st.currentBeside.security, st.desiredBeside.security)
	if len(changes)+len(added) == 0 {
		// Nothing to write; what neither the engine nor this command
		// writes may still differ.
		if err := incomplete(unseen.Missing(st.currentBeside.unseen, st.desiredBeside.unseen)); err != nil {
			return err
		}
		return noChanges(out, to)
	}
	planned, err := planFiles(ctx, drv, migration, splitOnline(changes), added)
	if err != nil {
		return engineCannotPlan(err, changes)
	}
	files, err := formatFiles(dir, planned)
	if err != nil {
		return err
	}
	if err := checkComplete(ctx, st.currentDB, files, st.desired, st.desiredBeside); err != nil {
		return err
	}
	if len(files) == 0 {
		return noChanges(out, to)
	}
	for _, f := range files {
		if err := dir.WriteFile(f.Name(), f.Bytes()); err != nil {
			return err
		}
	}
	if err := writeSum(dir); err != nil {
		return err
	}
	for i, f := range files {
		fmt.Fprintf(out, "Wrote %s: %s\n", filepath.Join(dir.Path(), f.Name()), planned[i].purpose())
	}
	fmt.Fprintf(out, "Updated %s\n", filepath.Join(dir.Path(), migrate.HashFileName))
	return nil
}

func noChanges(out io.Writer, to string) error {
	fmt.Fprintf(out, "No changes: the migration directory is in sync with %s\n", to)
	return nil
}

// formatFiles gives the planned files their versions, after the
// directory's last, and their text.
func formatFiles(dir migrate.Dir, planned []*plannedFile) ([]migrate.File, error) {
	existing, err := dir.Files()
	if err != nil {
		return nil, err
	}
	latest := ""
	if len(existing) > 0 {
		latest = existing[len(existing)-1].Version()
	}
	versions := fileVersions(time.Now(), latest, len(planned))
	files := make([]migrate.File, len(planned))
	for i, p := range planned {
		p.plan.Version = versions[i]
		formatted, err := migrate.DefaultFormatter.Format(p.plan)
		if err != nil {
			return nil, err
		}
		if len(formatted) != 1 {
			return nil, fmt.Errorf("formatting %s: %d files, expected one", planFileName(p.plan), len(formatted))
		}
		files[i] = migrate.NewLocalFile(formatted[0].Name(), formatted[0].Bytes())
	}
	return files, nil
}

func planFileName(p *migrate.Plan) string {
	if p.Name == "" {
		return p.Version + ".sql"
	}
	return p.Version + "_" + p.Name + ".sql"
}

// sqlSource is one file of the desired state.
type sqlSource struct {
	name string
	data []byte
}

// sqlSources reads --to: one .sql file, or a folder whose .sql files are
// read in name order.
func sqlSources(to string) ([]sqlSource, error) {
	path, err := dirPath(to)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--to %s: %w", to, err)
	}
	paths := []string{path}
	if info.IsDir() {
		if paths, err = filepath.Glob(filepath.Join(path, "*.sql")); err != nil {
			return nil, err
		}
		sort.Strings(paths)
	}
	var sources []sqlSource
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		sources = append(sources, sqlSource{name: filepath.Base(p), data: data})
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("--to %s holds no .sql file", to)
	}
	return sources, nil
}

// desiredState runs the desired SQL on a scratch database and reads the
// result: the engine's realm and what migrate diff reads beside it.
func desiredState(ctx context.Context, db *sqlclient.Client, sources []sqlSource) (*schema.Realm, *besideEngine, error) {
	mem := migrate.OpenMemDir("desired-state")
	defer mem.Close()
	for i, s := range sources {
		// A version prefix keeps the files in the order given.
		if err := mem.WriteFile(fmt.Sprintf("%d_%s", i+1, s.name), s.data); err != nil {
			return nil, nil, err
		}
	}
	sum, err := mem.Checksum()
	if err != nil {
		return nil, nil, err
	}
	if err := migrate.WriteSumFile(mem, sum); err != nil {
		return nil, nil, err
	}
	realm, state, err := replayAndRead(ctx, db, mem)
	if err != nil {
		return nil, nil, explainReplay(err, desiredSchema)
	}
	return realm, state, nil
}

// besideEngine is what `migrate diff` reads from a catalog besides the
// engine's realm: the security state it writes statements for, and the
// partitions and sequence types it checks but cannot write.
type besideEngine struct {
	security *security.State
	unseen   *unseen.State
}

func readBesideEngine(ctx context.Context, db *sqlclient.Client) (*besideEngine, error) {
	sec, err := security.Read(ctx, db, revisionsSchema)
	if err != nil {
		return nil, err
	}
	rest, err := unseen.Read(ctx, db, revisionsSchema)
	if err != nil {
		return nil, err
	}
	return &besideEngine{security: sec, unseen: rest}, nil
}

// executeAndRead executes the directory's files on an empty database and
// reads both catalogs; unlike replayAndRead it leaves them applied.
func executeAndRead(ctx context.Context, db *sqlclient.Client, dir migrate.Dir) (*schema.Realm, *besideEngine, error) {
	ex, err := migrate.NewExecutor(db.Driver, dir, migrate.NopRevisionReadWriter{})
	if err != nil {
		return nil, nil, err
	}
	if err := ex.ExecuteN(ctx, 0); err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, nil, err
	}
	beside, err := readBesideEngine(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	realm, err := migrate.RealmConn(db.Driver, nil).ReadState(ctx)
	if err != nil {
		return nil, nil, err
	}
	return realm, beside, nil
}

// replayAndRead executes a directory on an empty database, reads both
// catalogs, and restores the database to empty.
func replayAndRead(ctx context.Context, db *sqlclient.Client, dir migrate.Dir) (*schema.Realm, *besideEngine, error) {
	ex, err := migrate.NewExecutor(db.Driver, dir, migrate.NopRevisionReadWriter{})
	if err != nil {
		return nil, nil, err
	}
	var beside *besideEngine
	read := migrate.StateReaderFunc(func(ctx context.Context) (*schema.Realm, error) {
		var err error
		if beside, err = readBesideEngine(ctx, db); err != nil {
			return nil, err
		}
		return migrate.RealmConn(db.Driver, nil).ReadState(ctx)
	})
	realm, err := ex.Replay(ctx, read)
	if err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, nil, err
	}
	return realm, beside, nil
}

// siblingDatabase creates an empty database on the dev database's server,
// named after it and its role; the returned function drops it.
func siblingDatabase(ctx context.Context, dev *sqlclient.Client, devURL, role string) (*sqlclient.Client, func(), error) {
	var devName string
	rows, err := dev.QueryContext(ctx, "SELECT current_database()")
	if err != nil {
		return nil, nil, err
	}
	if rows.Next() {
		err = rows.Scan(&devName)
	}
	rows.Close()
	if err != nil {
		return nil, nil, err
	}
	name := fmt.Sprintf("%s_%s_%d", devName, role, os.Getpid())
	if _, err := dev.ExecContext(ctx, "CREATE DATABASE "+pgident.Quote(name)); err != nil {
		return nil, nil, fmt.Errorf("creating a scratch database next to the dev database (the dev URL's role needs CREATEDB): %w", err)
	}
	drop := func() {
		_, _ = dev.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+pgident.Quote(name)+" WITH (FORCE)")
	}
	u, err := url.Parse(devURL)
	if err != nil {
		drop()
		return nil, nil, err
	}
	u.Path = "/" + name
	scratch, err := openDatabase(ctx, u.String(), "scratch database")
	if err != nil {
		drop()
		return nil, nil, err
	}
	return scratch, func() { scratch.Close(); drop() }, nil
}

// replayed is what a replay ran, for explainReplay's message.
type replayed int

const (
	migrationDirectory replayed = iota // the migration files, as applied
	desiredSchema                      // the --to files, each behind an ordering prefix (desiredState)
)

func (r replayed) String() string {
	if r == desiredSchema {
		return "the desired schema"
	}
	return "the migration directory"
}

// explainReplay turns a failed replay into one message naming the file,
// line and statement; what says which replay failed.
func explainReplay(err error, what replayed) error {
	var stmtErr *migrate.StmtExecError
	if errors.As(err, &stmtErr) {
		data := stmtErr.File.Bytes()
		line := 1 + strings.Count(string(data[:min(stmtErr.Stmt.Pos, len(data))]), "\n")
		fileName := stmtErr.File.Name()
		if _, rest, ok := strings.Cut(fileName, "_"); ok && what == desiredSchema {
			fileName = rest // drop the ordering prefix added in desiredState
		}
		return fmt.Errorf("%s does not run on the dev database: %s line %d: %v\n  statement: %s",
			what, fileName, line, stmtErr.Err, firstLine(stmtErr.Stmt.Text))
	}
	var notClean *migrate.NotCleanError
	if errors.As(err, &notClean) {
		return fmt.Errorf("the dev database is not empty (%s): give a fresh, empty database as --dev-url, never the target", notClean.Reason)
	}
	return fmt.Errorf("replaying %s on the dev database: %w", what, err)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
