package main

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"

	"schemaflow/internal/security"
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
func rlsRemovals(before, after map[string]security.TableRLS) []string {
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
