// Package nolint reads the official Atlas CLI's `atlas:nolint` directives,
// which `migrate lint` honours as that CLI does:
//
//   - `-- atlas:nolint` in a comment line directly above a statement skips
//     every finding on it; `-- atlas:nolint DS103 incompatible` skips those
//     codes and those analyzers (by name: destructive, data_depend, condrop,
//     incompatible) only;
//   - the same directive among the file's header comments (separated from
//     the first statement by a blank line) applies to every statement, and
//     a bare one there skips the whole file.
//
// The engine's parser finds the directives (migrate.Stmt.Directive and
// migrate.LocalFile.Directive); this package only decides what they skip.
// The project's own way through, with a reason that lint prints, is
// internal/allowmark.
package nolint

import (
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqlcheck"
)

const directive = "nolint"

// Rules are what a file's directives skip.
type Rules struct {
	// File is set when a bare file directive skips the whole file.
	File bool
	// byStatement holds, by statement position, the codes and analyzer
	// names skipped there; an empty list skips every finding.
	byStatement map[int][]string
}

// Read collects the directives of a file whose statements are loaded.
func Read(f *sqlcheck.File) Rules {
	r := Rules{byStatement: map[int][]string{}}
	var everywhere [][]string
	if local, ok := f.File.(*migrate.LocalFile); ok {
		for _, d := range local.Directive(directive) {
			names := strings.Fields(d)
			if len(names) == 0 {
				return Rules{File: true}
			}
			everywhere = append(everywhere, names)
		}
	}
	for _, c := range f.Changes {
		for _, names := range everywhere {
			r.add(c.Stmt.Pos, names)
		}
		for _, d := range c.Stmt.Directive(directive) {
			r.add(c.Stmt.Pos, strings.Fields(d))
		}
	}
	return r
}

// add records names for a statement; a bare directive (no names) there
// outweighs any list.
func (r Rules) add(pos int, names []string) {
	current, seen := r.byStatement[pos]
	switch {
	case seen && current == nil:
	case len(names) == 0:
		r.byStatement[pos] = nil
	default:
		r.byStatement[pos] = append(current, names...)
	}
}

// Skips tells whether a finding with code, made by the named analyzer on the
// statement at pos, is skipped.
func (r Rules) Skips(pos int, code, analyzer string) bool {
	if r.File {
		return true
	}
	names, seen := r.byStatement[pos]
	if !seen {
		return false
	}
	return names == nil || slices.Contains(names, code) || analyzer != "" && slices.Contains(names, analyzer)
}
