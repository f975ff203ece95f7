package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// allowRLSRemoval is the opt-out a migration that deliberately weakens
// row-level security must carry, with its reason, in its header:
//
//	-- schemaflow:allow-rls-removal <why this is safe>
var allowRLSRemoval = regexp.MustCompile(`(?m)^--\s*schemaflow:allow-rls-removal\s+(\S.*)$`)

// rlsRemovals lists what a statement took away from a tenant table (one
// with row-level security enabled before it): the RLS flag, FORCE, or a
// policy. A table the statement dropped is the destructive analyzer's
// business, not this one's.
func rlsRemovals(before, after *securityState) []string {
	var found []string
	for _, key := range sortedKeys(before.tables) {
		was := before.tables[key]
		now, exists := after.tables[key]
		if !was.rls || !exists {
			continue
		}
		if !now.rls {
			found = append(found, fmt.Sprintf("RLS101: disables row-level security on tenant table %q", was.name))
		}
		if was.force && !now.force {
			found = append(found, fmt.Sprintf("RLS102: stops forcing row-level security on tenant table %q", was.name))
		}
		for _, pk := range sortedKeys(before.policies) {
			p := before.policies[pk]
			if qualified(p.schema, p.table) != key {
				continue
			}
			if _, kept := after.policies[pk]; !kept {
				found = append(found, fmt.Sprintf("RLS103: drops policy %q of tenant table %q", p.name, p.table))
			}
		}
	}
	return found
}

// rlsFindings reports the removals of one file: errors, unless the file
// carries the opt-out with a reason, then warnings that name the reason.
func rlsFindings(f migrate.File, removals []string, out io.Writer) []string {
	if len(removals) == 0 {
		return nil
	}
	if m := allowRLSRemoval.FindSubmatch(f.Bytes()); m != nil {
		for _, r := range removals {
			fmt.Fprintf(out, "%s: allowed (%s): %s\n", f.Name(), strings.TrimSpace(string(m[1])), r)
		}
		return nil
	}
	failures := make([]string, len(removals))
	for i, r := range removals {
		failures[i] = fmt.Sprintf("%s: %s (if intended, add `-- schemaflow:allow-rls-removal <reason>` to the file's header and re-hash)", f.Name(), r)
	}
	return failures
}
