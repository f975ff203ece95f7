package main

import (
	"fmt"
	"runtime/debug"
)

// version is stamped by the build (-ldflags "-X main.version=…"); a plain
// `go build` reports "devel".
var version = "devel"

// engineModule is the Go module whose version `version` reports.
const engineModule = "ariga.io/atlas"

// versionLine says what this binary is and which engine it embeds, read
// from the build information so it cannot drift from go.mod.
func versionLine() string {
	engine := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == engineModule {
				engine = dep.Version
				if dep.Replace != nil {
					engine = dep.Replace.Version
				}
			}
		}
	}
	return fmt.Sprintf("%s %s (the project's migration command; Atlas engine %s %s, community, PostgreSQL)",
		name, version, engineModule, engine)
}
