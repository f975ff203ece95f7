package main

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"

	"schemaflow/internal/pgident"
)

// The online policy of `migrate diff`: the engine's changes, split so that
// no statement on a table that already exists holds a lock that stops
// reads or writes for longer than a catalog update.
//
//   - the first file, one transaction: everything else, with CHECK and
//     FOREIGN KEY constraints added to existing tables NOT VALID (checked
//     for new rows at once, old rows not scanned), and SET NOT NULL on an
//     existing column replaced by a NOT VALID `CHECK (col IS NOT NULL)`;
//   - the concurrently file, no transaction (`atlas:txmode none`): indexes
//     created on or dropped from existing tables CONCURRENTLY, and the
//     unique index behind a unique constraint added to an existing table;
//   - the validate file, one transaction: first VALIDATE CONSTRAINT (a scan
//     under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on),
//     then SET NOT NULL once its check is validated (PostgreSQL 12+ then
//     skips the scan) and the helper check dropped, and the unique
//     constraint attached to its index.
//
// New tables are created plain in the first file: nobody uses them yet;
// a partitioned table's changes too (see splitOnline).

// onlinePlan is the engine's changes split into the three files.
type onlinePlan struct {
	// main is the first file's engine changes.
	main []schema.Change
	// replaced are constraints whose definition changed: each is dropped
	// and added again NOT VALID in one statement of its own in the first
	// file, after main.
	replaced []*schema.ModifyTable
	// concurrently is the second file: one ModifyTable per table, holding
	// only AddIndex and DropIndex changes marked Concurrently.
	concurrently []schema.Change
	// finish is the validate file, in order.
	finish []finishStep
}

// finishStep is one statement of the validate file: either the validation
// of a constraint added NOT VALID, or an engine change on one table.
type finishStep struct {
	table *schema.Table
	// validate names the constraint to validate; empty for an engine change.
	validate string
	change   schema.Change
}

// notNullHelperSuffix ends the name of the helper check that stands for a
// NOT NULL while the table is validated. PostgreSQL 18 names its own NOT
// NULL constraints <table>_<column>_not_null, so the helper's name cannot
// collide with the one SET NOT NULL creates.
const notNullHelperSuffix = "_not_null_check"

// maxIdentifier is PostgreSQL's NAMEDATALEN - 1: longer names are cut.
const maxIdentifier = 63

// splitOnline sorts the engine's changes into the three files.
func splitOnline(changes []schema.Change) *onlinePlan {
	p := &onlinePlan{}
	referenced := foreignKeyTargets(changes)
	for _, c := range changes {
		modify, ok := c.(*schema.ModifyTable)
		// PostgreSQL builds no index of a partitioned table concurrently,
		// and before 18 adds no NOT VALID foreign key to one: its changes
		// stay as the engine writes them.
		if !ok || partitioned(modify.T) {
			p.main = append(p.main, c)
			continue
		}
		s := &tableSplit{plan: p, from: modify, referenced: referenced}
		s.split()
		if len(s.main) > 0 {
			p.main = append(p.main, &schema.ModifyTable{T: modify.T, Changes: s.main})
		}
		if len(s.concurrently) > 0 {
			p.concurrently = append(p.concurrently, &schema.ModifyTable{T: modify.T, Changes: s.concurrently})
		}
	}
	// The validate file is one transaction: the scans come first, so the
	// short ACCESS EXCLUSIVE steps after them (SET NOT NULL, dropping the
	// helper, attaching a unique index) hold their locks only to the commit.
	slices.SortStableFunc(p.finish, func(a, b finishStep) int {
		return boolRank(a.validate == "") - boolRank(b.validate == "")
	})
	return p
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func partitioned(t *schema.Table) bool {
	return slices.ContainsFunc(t.Attrs, func(a schema.Attr) bool {
		_, ok := a.(*postgres.Partition)
		return ok
	})
}

// tableSplit splits the changes of one existing table.
type tableSplit struct {
	plan         *onlinePlan
	from         *schema.ModifyTable
	referenced   []*schema.ForeignKey
	main         []schema.Change
	concurrently []schema.Change
}

func (s *tableSplit) split() {
	for _, c := range s.from.Changes {
		switch c := c.(type) {
		case *schema.AddCheck:
			s.main = append(s.main, notValidCheck(c))
			s.validate(c.C.Name)
		case *schema.AddForeignKey:
			s.main = append(s.main, notValidForeignKey(c))
			s.validate(c.F.Symbol)
		case *schema.ModifyCheck:
			s.replace(&schema.DropCheck{C: c.From}, notValidCheck(&schema.AddCheck{C: c.To}))
			s.validate(c.To.Name)
		case *schema.ModifyForeignKey:
			s.replace(&schema.DropForeignKey{F: c.From}, notValidForeignKey(&schema.AddForeignKey{F: c.To}))
			s.validate(c.To.Symbol)
		case *schema.ModifyColumn:
			s.modifyColumn(c)
		case *schema.AddIndex:
			s.addIndex(c)
		case *schema.DropIndex:
			s.dropIndex(c)
		case *schema.ModifyIndex:
			// A change of the comment alone is a catalog update; any other
			// change rebuilds the index, so it is a drop and a create.
			if (c.Change &^ schema.ChangeComment).Is(schema.NoChange) {
				s.main = append(s.main, c)
				continue
			}
			s.dropIndex(&schema.DropIndex{I: c.From})
			s.addIndex(&schema.AddIndex{I: c.To})
		default:
			s.main = append(s.main, c)
		}
	}
}

func (s *tableSplit) validate(name string) {
	s.plan.finish = append(s.plan.finish, finishStep{table: s.from.T, validate: name})
}

func (s *tableSplit) replace(drop, add schema.Change) {
	s.plan.replaced = append(s.plan.replaced, &schema.ModifyTable{T: s.from.T, Changes: []schema.Change{drop, add}})
}

// modifyColumn takes SET NOT NULL out of a column change: a NOT VALID
// check in the first file, then validate, SET NOT NULL and drop the check.
func (s *tableSplit) modifyColumn(c *schema.ModifyColumn) {
	if !c.Change.Is(schema.ChangeNull) || c.To.Type.Null {
		s.main = append(s.main, c)
		return
	}
	if rest := c.Change &^ schema.ChangeNull; !rest.Is(schema.NoChange) {
		s.main = append(s.main, &schema.ModifyColumn{From: c.From, To: c.To, Change: rest, Extra: c.Extra})
	}
	helper := &schema.Check{
		Name: notNullHelperName(s.from.T, c.To.Name),
		Expr: pgident.Quote(c.To.Name) + " IS NOT NULL",
	}
	s.main = append(s.main, notValidCheck(&schema.AddCheck{C: helper}))
	s.validate(helper.Name)
	s.plan.finish = append(s.plan.finish,
		finishStep{table: s.from.T, change: &schema.ModifyColumn{From: c.From, To: c.To, Change: schema.ChangeNull}},
		finishStep{table: s.from.T, change: &schema.DropCheck{C: helper}},
	)
}

// addIndex builds an index on an existing table concurrently; a unique
// constraint is its unique index built concurrently, then attached.
// Exclusion constraints, and a unique key that a foreign key added in the
// same diff refers to (PostgreSQL needs the key when the foreign key is
// added, in the first file), stay in the first file.
func (s *tableSplit) addIndex(c *schema.AddIndex) {
	constraint, isConstraint := indexConstraint(c.I)
	switch {
	case isConstraint && !constraint.IsUnique(),
		c.I.Unique && s.isReferenced(c.I):
		s.main = append(s.main, c)
	case isConstraint:
		index := withoutConstraint(c.I)
		s.concurrently = append(s.concurrently, concurrentAdd(&schema.AddIndex{I: index, Extra: c.Extra}))
		name := constraint.N
		if name == "" {
			name = c.I.Name
		}
		s.plan.finish = append(s.plan.finish, finishStep{
			table:  s.from.T,
			change: &postgres.AddUniqueConstraint{Name: name, Using: index},
		})
	default:
		s.concurrently = append(s.concurrently, concurrentAdd(c))
	}
}

// dropIndex drops an index of an existing table concurrently. A constraint
// is dropped by ALTER TABLE in the first file (PostgreSQL has no concurrent
// form), and so is an index on a column the first file drops (the column
// takes the index with it).
func (s *tableSplit) dropIndex(c *schema.DropIndex) {
	if _, isConstraint := indexConstraint(c.I); isConstraint || s.dropsColumnOf(c.I) {
		s.main = append(s.main, c)
		return
	}
	s.concurrently = append(s.concurrently, concurrentDrop(c))
}

func (s *tableSplit) dropsColumnOf(idx *schema.Index) bool {
	dropped := map[string]bool{}
	for _, c := range s.from.Changes {
		if d, ok := c.(*schema.DropColumn); ok {
			dropped[d.C.Name] = true
		}
	}
	if len(dropped) == 0 {
		return false
	}
	for _, part := range idx.Parts {
		// An expression may name any column: keep it with the drop.
		if part.C == nil || dropped[part.C.Name] {
			return true
		}
	}
	// PostgreSQL also drops an index whose INCLUDE columns or predicate
	// name a dropped column; the predicate is text, so any dropped name in
	// it keeps the index with the drop.
	for _, attr := range idx.Attrs {
		switch a := attr.(type) {
		case *postgres.IndexInclude:
			for _, c := range a.Columns {
				if dropped[c.Name] {
					return true
				}
			}
		case *postgres.IndexPredicate:
			for name := range dropped {
				if strings.Contains(a.P, name) {
					return true
				}
			}
		}
	}
	return false
}

// isReferenced reports whether a foreign key added by this diff refers to
// exactly the columns of the unique index.
func (s *tableSplit) isReferenced(idx *schema.Index) bool {
	columns := indexColumns(idx)
	if columns == nil {
		return false
	}
	for _, fk := range s.referenced {
		if fk.RefTable == nil || !sameTable(fk.RefTable, s.from.T) {
			continue
		}
		var refs []string
		for _, c := range fk.RefColumns {
			refs = append(refs, c.Name)
		}
		slices.Sort(refs)
		if slices.Equal(refs, columns) {
			return true
		}
	}
	return false
}

// foreignKeyTargets are the foreign keys the changes add, in new tables or
// existing ones.
func foreignKeyTargets(changes []schema.Change) []*schema.ForeignKey {
	var fks []*schema.ForeignKey
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddTable:
			fks = append(fks, c.T.ForeignKeys...)
		case *schema.ModifyTable:
			for _, m := range c.Changes {
				switch m := m.(type) {
				case *schema.AddForeignKey:
					fks = append(fks, m.F)
				case *schema.ModifyForeignKey:
					fks = append(fks, m.To)
				}
			}
		}
	}
	return fks
}

// indexColumns are an index's column names, sorted; nil when a part is an
// expression.
func indexColumns(idx *schema.Index) []string {
	var names []string
	for _, p := range idx.Parts {
		if p.C == nil {
			return nil
		}
		names = append(names, p.C.Name)
	}
	slices.Sort(names)
	return names
}

func sameTable(a, b *schema.Table) bool {
	if a.Name != b.Name {
		return false
	}
	if a.Schema == nil || b.Schema == nil {
		return true
	}
	return a.Schema.Name == b.Schema.Name
}

// indexConstraint is the constraint (unique or exclusion) an index
// implements, if any.
func indexConstraint(idx *schema.Index) (*postgres.Constraint, bool) {
	for _, a := range idx.Attrs {
		if c, ok := a.(*postgres.Constraint); ok {
			return c, true
		}
	}
	return nil, false
}

// withoutConstraint is the index behind a constraint, as a plain index.
func withoutConstraint(idx *schema.Index) *schema.Index {
	plain := *idx
	plain.Attrs = slices.DeleteFunc(slices.Clone(idx.Attrs), func(a schema.Attr) bool {
		_, ok := a.(*postgres.Constraint)
		return ok
	})
	return &plain
}

func notValidCheck(c *schema.AddCheck) *schema.AddCheck {
	c.Extra = append(c.Extra, &postgres.NotValid{})
	return c
}

func notValidForeignKey(c *schema.AddForeignKey) *schema.AddForeignKey {
	c.Extra = append(c.Extra, &postgres.NotValid{})
	return c
}

func concurrentAdd(c *schema.AddIndex) *schema.AddIndex {
	c.Extra = append(c.Extra, &postgres.Concurrently{})
	return c
}

func concurrentDrop(c *schema.DropIndex) *schema.DropIndex {
	c.Extra = append(c.Extra, &postgres.Concurrently{})
	return c
}

// notNullHelperName is <table>_<column>_not_null_check, cut to PostgreSQL's
// 63 bytes on a character boundary, numbered if the table has a check of
// that name already.
func notNullHelperName(t *schema.Table, column string) string {
	taken := map[string]bool{}
	for _, a := range t.Attrs {
		if c, ok := a.(*schema.Check); ok {
			taken[c.Name] = true
		}
	}
	for n := 0; ; n++ {
		suffix := notNullHelperSuffix
		if n > 0 {
			suffix += strconv.Itoa(n)
		}
		base := t.Name + "_" + column
		for len(base)+len(suffix) > maxIdentifier {
			_, size := utf8.DecodeLastRuneInString(base)
			base = base[:len(base)-size]
		}
		if name := base + suffix; !taken[name] {
			return name
		}
	}
}
