// Package unseen reads what Atlas's community engine neither inspects nor
// plans and `migrate diff` does not write either: the partitions of a
// partitioned table, and the data type of the sequence a column owns (a
// serial's). `migrate diff` compares them between the state its planned
// files reach and the desired one, and refuses files that fall short, so a
// migration the engine cannot complete is not written as if it were.
package unseen

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"

	"ariga.io/atlas/sql/schema"
	"github.com/lib/pq"

	"schemaflow/internal/pgident"
)

// State is one database's partitions and column-owned sequence types.
type State struct {
	// partitions: the definition of each partition by qualified name.
	partitions map[string]string
	// sequences: the data type of the sequence each column owns, by
	// qualified table name and column.
	sequences map[string]string
}

// systemSchemas are never the schema's own.
var systemSchemas = []string{"pg_catalog", "information_schema"}

const partitionsQuery = `
SELECT n.nspname, c.relname, pn.nspname, p.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_inherits i ON i.inhrelid = c.oid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE c.relispartition AND c.relkind IN ('r', 'p', 'f')
  AND n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg\_%'`

// Serial columns own their sequence ('a'), identity columns too ('i').
const sequencesQuery = `
SELECT tn.nspname, t.relname, a.attname, format_type(s.seqtypid, NULL)
FROM pg_sequence s
JOIN pg_depend d ON d.objid = s.seqrelid AND d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE tn.nspname <> ALL($1) AND tn.nspname NOT LIKE 'pg\_%'`

// Read reads the state of every schema but the system ones and those
// skipped.
func Read(ctx context.Context, db schema.ExecQuerier, skip ...string) (*State, error) {
	s := &State{partitions: map[string]string{}, sequences: map[string]string{}}
	excluded := pq.Array(slices.Concat(systemSchemas, skip))
	err := scan(ctx, db, partitionsQuery, excluded, func(rows *sql.Rows) error {
		var ns, name, parentNS, parent, bound string
		if err := rows.Scan(&ns, &name, &parentNS, &parent, &bound); err != nil {
			return err
		}
		s.partitions[pgident.Qualified(ns, name)] = fmt.Sprintf("PARTITION OF %s %s", pgident.Qualified(parentNS, parent), bound)
		return nil
	})
	if err == nil {
		err = scan(ctx, db, sequencesQuery, excluded, func(rows *sql.Rows) error {
			var ns, table, column, typ string
			if err := rows.Scan(&ns, &table, &column, &typ); err != nil {
				return err
			}
			s.sequences[pgident.Qualified(ns, table)+"."+pgident.Quote(column)] = typ
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("reading partitions and sequences: %w", err)
	}
	return s, nil
}

func scan(ctx context.Context, db schema.ExecQuerier, query string, excluded any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, excluded)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Missing names, one line each, where reached falls short of desired. A
// sequence is compared only for a column both states have: a column the
// engine adds or drops is its own business.
func Missing(reached, desired *State) []string {
	var lines []string
	for _, name := range sortedKeys(desired.partitions) {
		want := desired.partitions[name]
		switch have, ok := reached.partitions[name]; {
		case !ok:
			lines = append(lines, fmt.Sprintf("partition %s: create it as %s (the engine does not see partitions)", name, want))
		case have != want:
			lines = append(lines, fmt.Sprintf("partition %s: is %s, wanted %s (the engine does not see partitions)", name, have, want))
		}
	}
	for _, name := range sortedKeys(reached.partitions) {
		if _, ok := desired.partitions[name]; !ok {
			lines = append(lines, fmt.Sprintf("partition %s: no longer wanted as %s (the engine does not see partitions)", name, reached.partitions[name]))
		}
	}
	for _, column := range sortedKeys(desired.sequences) {
		want := desired.sequences[column]
		if have, ok := reached.sequences[column]; ok && have != want {
			lines = append(lines, fmt.Sprintf("column %s: its sequence is %s, wanted %s (the engine does not change a serial's sequence type)", column, have, want))
		}
	}
	return lines
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
