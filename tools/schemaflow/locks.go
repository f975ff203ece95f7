package main

// The advisory locks each command takes, under the names the official CLI
// uses for the same commands, so that the two binaries exclude each other
// as well as themselves.
const (
	// applyLock is taken on the target around `migrate apply`.
	applyLock = "atlas_migrate_execute"
	// diffLock is taken on the dev database around `migrate diff`.
	diffLock = "atlas_migrate_diff"
	// lintLock is taken on the dev database around `migrate lint`.
	lintLock = "atlas_lint"
)
