// Package allowmark reads the project's way through `migrate lint` for a
// deliberate destructive or backward-incompatible statement: a comment line
//
//	-- schemaflow:allow-destructive <why this is intended>
//
// among the comment lines directly above the statement (no blank line
// between). The engine's refusal of that one statement (DS1xx, BC1xx) then
// becomes an allowed finding that names the reason; every other statement,
// and every other finding, is judged as before. squawk honours the same
// line through tools/devtools/squawk.py, which reads it by the same rule
// (tools/devtools/sqlfile.py), so one marker lets a statement through both
// linters.
package allowmark

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Hint is how a refusal says to proceed.
const Hint = `if intended, add a line "-- schemaflow:allow-destructive <why>" directly above the statement, then nox -s migrate -- --hash`

// What is wrong with a marker that lets nothing through.
const (
	NoReason = "schemaflow:allow-destructive without a reason: write why the change is intended after it"
	Detached = "schemaflow:allow-destructive is not directly above a statement (no blank line may come between), so it lets nothing through"
)

var (
	// marker is the marker line; the reason is the rest of the line.
	marker = regexp.MustCompile(`^[ \t]*--[ \t]*schemaflow:allow-destructive(?:[ \t]+(.*))?$`)
	// comment is a line that is one `--` comment.
	comment = regexp.MustCompile(`^[ \t]*--`)
)

// File is one migration file's markers.
type File struct {
	lines   []string
	starts  []int          // the byte offset at which each line starts
	markers map[int]string // the reason of each marker, by line index
}

// Read finds the markers of a file.
func Read(content []byte) *File {
	text := string(content)
	f := &File{lines: strings.Split(text, "\n"), markers: map[int]string{}}
	offset := 0
	for i, line := range f.lines {
		f.starts = append(f.starts, offset)
		offset += len(line) + 1
		line = strings.TrimSuffix(line, "\r")
		f.lines[i] = line
		if m := marker.FindStringSubmatch(line); m != nil {
			f.markers[i] = strings.TrimSpace(m[1])
		}
	}
	return f
}

// Reason is the reason the statement starting at byte offset pos is
// allowed through, if a marker with a reason is directly above it.
func (f *File) Reason(pos int) (string, bool) {
	var reasons []string
	for _, line := range f.above(pos) {
		if reason := f.markers[line]; reason != "" {
			reasons = append(reasons, reason)
		}
	}
	slices.Reverse(reasons) // in the file's order
	return strings.Join(reasons, "; "), len(reasons) > 0
}

// Problem is a marker that lets nothing through.
type Problem struct {
	Line int // 1-based
	Text string
}

// Problems lists the markers that let nothing through: one without a
// reason, or one that is not directly above any of the statements starting
// at the byte offsets given.
func (f *File) Problems(statements []int) []Problem {
	attached := map[int]bool{}
	for _, pos := range statements {
		for _, line := range f.above(pos) {
			attached[line] = true
		}
	}
	lines := make([]int, 0, len(f.markers))
	for line := range f.markers {
		lines = append(lines, line)
	}
	sort.Ints(lines)
	var problems []Problem
	for _, line := range lines {
		switch {
		case f.markers[line] == "":
			problems = append(problems, Problem{line + 1, NoReason})
		case !attached[line]:
			problems = append(problems, Problem{line + 1, Detached})
		}
	}
	return problems
}

// above lists the lines of the comment block directly above the statement
// starting at byte offset pos: none unless the statement is the first thing
// on its line.
func (f *File) above(pos int) []int {
	line := sort.Search(len(f.starts), func(i int) bool { return f.starts[i] > pos }) - 1
	if line < 0 || strings.TrimSpace(f.lines[line][:min(pos-f.starts[line], len(f.lines[line]))]) != "" {
		return nil
	}
	var block []int
	for i := line - 1; i >= 0 && comment.MatchString(f.lines[i]); i-- {
		block = append(block, i)
	}
	return block
}
