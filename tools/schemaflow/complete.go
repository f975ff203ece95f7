package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlclient"

	"schemaflow/internal/security"
	"schemaflow/internal/unseen"
)

// wayOut ends every refusal of `migrate diff`: what the engine cannot
// write, the user writes.
const wayOut = "Nothing was written. Write that part by hand: `schemaflow migrate new NAME`, " +
	"edit the file, `schemaflow migrate hash`; then run `migrate diff` again for the rest"

// refusal is `migrate diff` declining to write an incomplete migration.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason + "\n" + wayOut }

func refuse(format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...)}
}

// engineCannotPlan wraps an error of the engine's differ or planner. The
// engine's words for an enum are not always the cause (a removed value is
// reported as a reordered one), so the enum changes of the diff are named
// too.
func engineCannotPlan(err error, changes []schema.Change) error {
	var enums []string
	for _, c := range changes {
		if m, ok := c.(*schema.ModifyObject); ok {
			enums = append(enums, describeObjectChange(m))
		}
	}
	if len(enums) == 0 {
		return refuse("the engine cannot plan this change: %v", err)
	}
	return refuse("the engine cannot plan this change: %v; the diff holds:\n  - %s", err, strings.Join(enums, "\n  - "))
}

// checkComplete runs the planned files, in order and each in its own
// transaction unless it says otherwise, on db (the replayed history), and
// refuses them unless the result is the desired state: the engine's realm
// diffed in normalized mode, the security catalog, and the partitions and
// sequence types the engine does not see.
func checkComplete(ctx context.Context, db *sqlclient.Client, files []migrate.File, desired *schema.Realm, desiredBeside *besideEngine) error {
	for _, f := range files {
		if err := runFile(ctx, db, f); err != nil {
			var stmtErr *migrate.StmtExecError
			if errors.As(err, &stmtErr) {
				return refuse("the planned migration does not run on the replayed directory: %s: %v\n  statement: %s",
					f.Name(), stmtErr.Err, firstLine(stmtErr.Stmt.Text))
			}
			return err
		}
	}
	reached, err := migrate.RealmConn(db.Driver, nil).ReadState(ctx)
	if err != nil {
		return err
	}
	reachedBeside, err := readBesideEngine(ctx, db)
	if err != nil {
		return err
	}
	left, err := db.Driver.RealmDiff(reached, desired, schema.DiffNormalized())
	if err != nil {
		return engineCannotPlan(err, nil)
	}
	missing := describeChanges(left)
	for _, c := range security.Changes(reachedBeside.security, desiredBeside.security) {
		missing = append(missing, c.Comment)
	}
	missing = append(missing, unseen.Missing(reachedBeside.unseen, desiredBeside.unseen)...)
	return incomplete(missing)
}

// incomplete refuses a migration that would leave the missing parts undone.
func incomplete(missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	return refuse("the engine cannot express all of this change; after the planned migration, still to do:\n  - %s",
		strings.Join(missing, "\n  - "))
}

// runFile executes a migration file as `migrate apply` does: in one
// transaction, or with `-- atlas:txmode none` statement by statement on
// one connection (so its SETs hold for the statements after them).
func runFile(ctx context.Context, db *sqlclient.Client, f migrate.File) error {
	mode, err := fileTxMode(f, "file")
	if err != nil {
		return err
	}
	statements, err := f.StmtDecls()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if mode == "none" {
		for _, s := range statements {
			if _, err := conn.ExecContext(ctx, s.Text); err != nil {
				return &migrate.StmtExecError{File: f, Stmt: s, Version: f.Version(), Err: err}
			}
		}
		return nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, s := range statements {
		if _, err := tx.ExecContext(ctx, s.Text); err != nil {
			return errors.Join(&migrate.StmtExecError{File: f, Stmt: s, Version: f.Version(), Err: err}, tx.Rollback())
		}
	}
	return tx.Commit()
}

// describeChanges names, one line each, what a diff still holds.
func describeChanges(changes []schema.Change) []string {
	var lines []string
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.ModifyTable:
			for _, inner := range c.Changes {
				lines = append(lines, fmt.Sprintf("table %s: %s", tableName(c.T), describeTableChange(inner)))
			}
		case *schema.AddTable:
			lines = append(lines, fmt.Sprintf("table %s: create", tableName(c.T)))
		case *schema.DropTable:
			lines = append(lines, fmt.Sprintf("table %s: drop", tableName(c.T)))
		case *schema.ModifyObject:
			lines = append(lines, describeObjectChange(c))
		case *schema.AddObject:
			lines = append(lines, fmt.Sprintf("%s: create", objectName(c.O)))
		case *schema.DropObject:
			lines = append(lines, fmt.Sprintf("%s: drop", objectName(c.O)))
		case *schema.AddSchema:
			lines = append(lines, fmt.Sprintf("schema %q: create", c.S.Name))
		case *schema.DropSchema:
			lines = append(lines, fmt.Sprintf("schema %q: drop", c.S.Name))
		default:
			lines = append(lines, changeKind(c))
		}
	}
	return lines
}

func describeTableChange(c schema.Change) string {
	switch c := c.(type) {
	case *schema.AddColumn:
		return fmt.Sprintf("add column %q", c.C.Name)
	case *schema.DropColumn:
		return fmt.Sprintf("drop column %q", c.C.Name)
	case *schema.ModifyColumn:
		return fmt.Sprintf("column %q: %s", c.To.Name, describeColumnChange(c))
	case *schema.AddIndex:
		return fmt.Sprintf("add index %q", c.I.Name)
	case *schema.DropIndex:
		return fmt.Sprintf("drop index %q", c.I.Name)
	case *schema.ModifyIndex:
		return fmt.Sprintf("change index %q", c.To.Name)
	case *schema.AddCheck:
		return fmt.Sprintf("add check %q", c.C.Name)
	case *schema.DropCheck:
		return fmt.Sprintf("drop check %q", c.C.Name)
	case *schema.ModifyCheck:
		return fmt.Sprintf("change check %q", c.To.Name)
	case *schema.AddForeignKey:
		return fmt.Sprintf("add foreign key %q", c.F.Symbol)
	case *schema.DropForeignKey:
		return fmt.Sprintf("drop foreign key %q", c.F.Symbol)
	case *schema.ModifyForeignKey:
		return fmt.Sprintf("change foreign key %q", c.To.Symbol)
	default:
		return changeKind(c)
	}
}

// describeColumnChange names what differs in a column, with the types when
// the type does (a serial's sequence type shows here).
func describeColumnChange(c *schema.ModifyColumn) string {
	var parts []string
	if c.Change.Is(schema.ChangeType) {
		parts = append(parts, fmt.Sprintf("type %s, wanted %s", typeName(c.From), typeName(c.To)))
	}
	if c.Change.Is(schema.ChangeNull) {
		parts = append(parts, "nullability")
	}
	if c.Change.Is(schema.ChangeDefault) {
		parts = append(parts, "default")
	}
	if c.Change.Is(schema.ChangeAttr) || c.Change.Is(schema.ChangeGenerated) {
		parts = append(parts, "identity or generation")
	}
	if c.Change.Is(schema.ChangeComment) {
		parts = append(parts, "comment")
	}
	if len(parts) == 0 {
		return "changed"
	}
	return strings.Join(parts, ", ")
}

func typeName(c *schema.Column) string {
	if c.Type == nil || c.Type.Type == nil {
		return "?"
	}
	if s, ok := c.Type.Type.(*postgres.SerialType); ok {
		return s.T
	}
	if f, err := postgres.FormatType(c.Type.Type); err == nil {
		return f
	}
	return c.Type.Raw
}

// describeObjectChange names an enum whose values the planned files did
// not reach: PostgreSQL cannot drop an enum value, and the engine plans
// nothing, or refuses, for a removed or reordered one.
func describeObjectChange(c *schema.ModifyObject) string {
	from, ok1 := c.From.(*schema.EnumType)
	to, ok2 := c.To.(*schema.EnumType)
	if !ok1 || !ok2 {
		return fmt.Sprintf("%s: change", objectName(c.To))
	}
	var removed []string
	for _, v := range from.Values {
		if !slices.Contains(to.Values, v) {
			removed = append(removed, fmt.Sprintf("%q", v))
		}
	}
	if len(removed) > 0 {
		return fmt.Sprintf("%s: remove value %s (PostgreSQL cannot drop an enum value: create a new type and move the columns to it)",
			objectName(to), strings.Join(removed, ", "))
	}
	return fmt.Sprintf("%s: values %s, wanted %s", objectName(to), strings.Join(from.Values, ", "), strings.Join(to.Values, ", "))
}

func objectName(o schema.Object) string {
	if e, ok := o.(*schema.EnumType); ok {
		if e.Schema != nil {
			return fmt.Sprintf("enum %q.%q", e.Schema.Name, e.T)
		}
		return fmt.Sprintf("enum %q", e.T)
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", o), "*")
}

func tableName(t *schema.Table) string {
	if t.Schema != nil {
		return fmt.Sprintf("%q.%q", t.Schema.Name, t.Name)
	}
	return fmt.Sprintf("%q", t.Name)
}

// changeKind is the engine's name of a change, for the ones without a
// description of their own.
func changeKind(c schema.Change) string {
	name := fmt.Sprintf("%T", c)
	return strings.TrimPrefix(strings.TrimPrefix(name, "*schema."), "*postgres.")
}
