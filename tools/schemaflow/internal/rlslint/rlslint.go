// Package rlslint is `migrate lint`'s row-level security check, which the
// engine's analyzers cannot make: a migration must not take row-level
// security away from a tenant table (one with it enabled before the
// migration) unless its file says why. Taking it away is disabling row-level
// security (RLS101), no longer forcing it (RLS102) or dropping a policy
// (RLS103). A table the migration drops is the destructive-change analyzer's
// business, not this one's.
package rlslint

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"schemaflow/internal/security"
)

// Tables is the row-level security of every table of a database, by
// qualified name, as security.State.RowSecurity reads it.
type Tables = map[string]security.TableRLS

// File follows one migration file statement by statement.
type File struct {
	start, last Tables
	removedBy   map[string]string // a removal, by the first statement that made it
}

// Start begins a file on a database whose tables are as given.
func Start(tables Tables) *File {
	return &File{start: tables, last: tables, removedBy: map[string]string{}}
}

// After records the tables as a statement left them; statement names it in
// the findings (its first line, say).
func (f *File) After(statement string, tables Tables) {
	for _, r := range removals(f.last, tables) {
		if _, seen := f.removedBy[r]; !seen {
			f.removedBy[r] = statement
		}
	}
	f.last = tables
}

// Removals lists what the whole file took away, each naming the statement
// that first took it. Only the file's net effect counts: a policy dropped and
// created again (how a policy's command is changed) is not a removal.
func (f *File) Removals() []string {
	var out []string
	for _, r := range removals(f.start, f.last) {
		out = append(out, fmt.Sprintf("%s in statement: %s", r, f.removedBy[r]))
	}
	return out
}

// removals lists what `after` took away from the tenant tables of `before`,
// in table order, then flag and policy order.
func removals(before, after Tables) []string {
	keys := make([]string, 0, len(before))
	for key := range before {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var found []string
	for _, key := range keys {
		was := before[key]
		now, exists := after[key]
		if !was.Enabled || !exists {
			continue
		}
		if !now.Enabled {
			found = append(found, fmt.Sprintf("RLS101: disables row-level security on tenant table %q", was.Name))
		}
		if was.Forced && !now.Forced {
			found = append(found, fmt.Sprintf("RLS102: stops forcing row-level security on tenant table %q", was.Name))
		}
		for _, name := range was.Policies {
			if !slices.Contains(now.Policies, name) {
				found = append(found, fmt.Sprintf("RLS103: drops policy %q of tenant table %q", name, was.Name))
			}
		}
	}
	return found
}

// allowRLSRemoval is the opt-out a migration that deliberately weakens
// row-level security must carry, with its reason, in its header:
//
//	-- schemaflow:allow-rls-removal <why this is safe>
//
// The reason is on the marker's line: a marker without one is no opt-out.
var allowRLSRemoval = regexp.MustCompile(`(?m)^--[ \t]*schemaflow:allow-rls-removal[ \t]+(\S.*)$`)

// Check judges a file's removals: refused, each naming the file and the
// opt-out, unless the file (its name and content given) carries the opt-out
// with a reason; then they are allowed, each naming the reason.
func Check(name string, content []byte, removals []string) (refused, allowed []string) {
	if len(removals) == 0 {
		return nil, nil
	}
	if m := allowRLSRemoval.FindSubmatch(content); m != nil {
		reason := strings.TrimSpace(string(m[1]))
		for _, r := range removals {
			allowed = append(allowed, fmt.Sprintf("%s: allowed (%s): %s", name, reason, r))
		}
		return nil, allowed
	}
	for _, r := range removals {
		refused = append(refused, fmt.Sprintf("%s: %s (if intended, add `-- schemaflow:allow-rls-removal <reason>` to the file's header and re-hash)", name, r))
	}
	return refused, nil
}
