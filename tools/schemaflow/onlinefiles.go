package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// The project's timeouts, at the head of every file `migrate diff` writes:
// a statement that cannot get its lock in 5s gives up (apply again later)
// instead of queueing every later query on the table behind it; once its
// locks are held it runs as long as the data needs.
const (
	lockTimeout      = "'5s'"
	statementTimeout = "0"
)

// Directive of a file that runs outside a transaction, as CONCURRENTLY
// requires. squawk does not read it: it is told by its command line.
const noTransaction = "-- atlas:txmode none"

// squawk reads `-- squawk-ignore RULE` on the line before a statement.
const (
	ignoreDropConstraint = "squawk-ignore ban-drop-constraint"
	ignoreRobust         = "squawk-ignore prefer-robust-stmts"
)

// fileKind is the role of a file in the online split.
type fileKind int

const (
	mainFile fileKind = iota
	concurrentlyFile
	validateFile
)

// plannedFile is one file of the migration, before it has a version.
type plannedFile struct {
	kind fileKind
	plan *migrate.Plan
	// engine and added count the statements besides the header: the
	// engine's, and the security statements (first file only).
	engine, added int
}

// suffix is appended to the migration's name in the file's name.
func (k fileKind) suffix() string {
	switch k {
	case concurrentlyFile:
		return "concurrently"
	case validateFile:
		return "validate"
	default:
		return ""
	}
}

// planFiles turns the split into the files to write, in order; a file
// without statements is left out. planner plans the engine's changes
// (the dev database's driver, or postgres.DefaultPlan in tests).
func planFiles(ctx context.Context, planner migrate.PlanApplier, name string, split *onlinePlan, added []*migrate.Change) ([]*plannedFile, error) {
	mainChanges, err := planMain(ctx, planner, name, split)
	if err != nil {
		return nil, err
	}
	concurrent, err := planConcurrently(ctx, planner, name, split)
	if err != nil {
		return nil, err
	}
	finish, err := planFinish(ctx, planner, name, split)
	if err != nil {
		return nil, err
	}
	var files []*plannedFile
	if len(mainChanges)+len(added) > 0 {
		files = append(files, &plannedFile{
			kind:   mainFile,
			plan:   withHeader(name, true, append(mainChanges, added...)),
			engine: len(mainChanges), added: len(added),
		})
	}
	if len(concurrent) > 0 {
		plan := withHeader(name+separator(name)+concurrentlyFile.suffix(), false, concurrent)
		plan.Directives = []string{noTransaction}
		files = append(files, &plannedFile{kind: concurrentlyFile, plan: plan, engine: len(concurrent)})
	}
	if len(finish) > 0 {
		files = append(files, &plannedFile{
			kind:   validateFile,
			plan:   withHeader(name+separator(name)+validateFile.suffix(), true, finish),
			engine: len(finish),
		})
	}
	return files, nil
}

func separator(name string) string {
	if name == "" {
		return ""
	}
	return "_"
}

// planMain plans the first file's engine changes, then each replaced
// constraint in a statement of its own, which may then carry squawk's
// ignore: the constraint comes back in the same statement.
func planMain(ctx context.Context, planner migrate.PlanApplier, name string, split *onlinePlan) ([]*migrate.Change, error) {
	var out []*migrate.Change
	if len(split.main) > 0 {
		p, err := planner.PlanChanges(ctx, name, split.main)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Changes...)
	}
	for _, m := range split.replaced {
		p, err := planner.PlanChanges(ctx, name, []schema.Change{m})
		if err != nil {
			return nil, err
		}
		for _, c := range p.Changes {
			c.Comment = fmt.Sprintf("Replace %s of table %q: dropped and added again NOT VALID in one statement, validated by the _validate file\n-- %s",
				replacedName(m), m.T.Name, ignoreDropConstraint)
		}
		out = append(out, p.Changes...)
	}
	return out, nil
}

func replacedName(m *schema.ModifyTable) string {
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *schema.AddCheck:
			return fmt.Sprintf("check %q", c.C.Name)
		case *schema.AddForeignKey:
			return fmt.Sprintf("foreign key %q", c.F.Symbol)
		}
	}
	return "a constraint"
}

// planConcurrently plans the concurrently file. A failed CONCURRENTLY
// build leaves an INVALID index behind: the statements carry no IF [NOT]
// EXISTS (squawk's prefer-robust-stmts), so that a rerun stops at it
// instead of keeping the invalid index as if it were built.
func planConcurrently(ctx context.Context, planner migrate.PlanApplier, name string, split *onlinePlan) ([]*migrate.Change, error) {
	if len(split.concurrently) == 0 {
		return nil, nil
	}
	p, err := planner.PlanChanges(ctx, name, split.concurrently)
	if err != nil {
		return nil, err
	}
	for _, c := range p.Changes {
		if strings.Contains(c.Cmd, " CONCURRENTLY ") {
			c.Comment += "; if it fails, drop the INVALID index it leaves before applying again\n-- " + ignoreRobust
		}
	}
	return p.Changes, nil
}

// planFinish plans the validate file, step by step in the split's order.
func planFinish(ctx context.Context, planner migrate.PlanApplier, name string, split *onlinePlan) ([]*migrate.Change, error) {
	var out []*migrate.Change
	for _, step := range split.finish {
		if step.validate != "" {
			out = append(out, &migrate.Change{
				Cmd:     validateStatement(step.table, step.validate),
				Comment: fmt.Sprintf("Validate %q on table %q: a scan that lets reads and writes go on", step.validate, step.table.Name),
			})
			continue
		}
		p, err := planner.PlanChanges(ctx, name, []schema.Change{
			&schema.ModifyTable{T: step.table, Changes: []schema.Change{step.change}},
		})
		if err != nil {
			return nil, err
		}
		for _, c := range p.Changes {
			c.Comment = finishComment(step)
		}
		out = append(out, p.Changes...)
	}
	return out, nil
}

func finishComment(step finishStep) string {
	switch c := step.change.(type) {
	case *schema.ModifyColumn:
		return fmt.Sprintf("Set %q NOT NULL on table %q: the check validated above proves it, so PostgreSQL skips the scan", c.To.Name, step.table.Name)
	case *schema.DropCheck:
		return fmt.Sprintf("Drop the helper check %q: the NOT NULL above replaces it\n-- %s", c.C.Name, ignoreDropConstraint)
	case *postgres.AddUniqueConstraint:
		return fmt.Sprintf("Make the unique index %q, built concurrently, the constraint %q of table %q", c.Using.Name, c.Name, step.table.Name)
	default:
		return fmt.Sprintf("Modify table %q", step.table.Name)
	}
}

// withHeader is a plan of the changes after the timeout header; inTx says
// whether the file runs in a transaction (SET LOCAL) or not (SET, for the
// session).
func withHeader(name string, inTx bool, changes []*migrate.Change) *migrate.Plan {
	set, timeout := "SET LOCAL", lockTimeout
	comment := "Give up after 5s waiting for a lock rather than queue the table's other queries behind it (apply again later)"
	if !inTx {
		// A concurrent build or drop takes SHARE UPDATE EXCLUSIVE, which no
		// read or write conflicts with, then waits for every older
		// transaction to end: a lock timeout would protect no query and only
		// make it give up, leaving an INVALID index behind.
		set, timeout = "SET", "0"
		comment = "No lock timeout: reads and writes never wait behind a concurrent index build, which must itself wait for older transactions to end"
	}
	header := []*migrate.Change{
		{
			Cmd:     fmt.Sprintf("%s lock_timeout = %s", set, timeout),
			Comment: comment,
		},
		{
			Cmd:     fmt.Sprintf("%s statement_timeout = %s", set, statementTimeout),
			Comment: "No time limit once the locks are held: scans and index builds take what the data needs",
		},
	}
	return &migrate.Plan{Name: name, Transactional: inTx, Changes: append(header, changes...)}
}

// validateStatement validates a constraint, quoted and qualified as the
// engine writes its own statements.
func validateStatement(t *schema.Table, constraint string) string {
	return (*postgres.Driver)(nil).StmtBuilder(migrate.PlanOptions{}).
		P("ALTER TABLE").Table(t).P("VALIDATE CONSTRAINT").Ident(constraint).String()
}

// fileVersions are n versions after latest (the directory's last, or ""):
// from now, one second apart, and always after latest, so the files sort
// after the history and in their order.
func fileVersions(now time.Time, latest string, n int) []string {
	start := now.UTC().Truncate(time.Second)
	if last, err := time.Parse(versionLayout, latest); err == nil && !start.After(last) {
		start = last.Add(time.Second)
	}
	versions := make([]string, n)
	for i := range versions {
		versions[i] = start.Add(time.Duration(i) * time.Second).Format(versionLayout)
	}
	return versions
}

// versionLayout is the engine's version format (migrate.NewVersion).
const versionLayout = "20060102150405"

// purpose is the line `migrate diff` prints for the file.
func (p *plannedFile) purpose() string {
	switch p.kind {
	case concurrentlyFile:
		return fmt.Sprintf("%d index statement(s) run CONCURRENTLY, outside a transaction (atlas:txmode none), after the file before it", p.engine)
	case validateFile:
		return fmt.Sprintf("%d statement(s) in one transaction that validate the constraints added NOT VALID and finish what waited for them (SET NOT NULL, unique constraints)", p.engine)
	default:
		return fmt.Sprintf("%d statement(s) in one transaction (%d from the engine, %d for row-level security, policies, privileges, roles and functions)", p.engine+p.added, p.engine, p.added)
	}
}
