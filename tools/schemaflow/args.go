package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// flagKind says whether a flag takes a value.
type flagKind int

const (
	valueFlag flagKind = iota
	boolFlag
)

// args is a parsed command line. Flags may come before, between or after
// the positional arguments, as the official CLI (cobra) accepts them, in the
// forms --name value, --name=value and, for booleans, --name.
type args struct {
	positional []string
	values     map[string]string
	bools      map[string]bool
	help       bool
}

func parseArgs(argv []string, known map[string]flagKind) (*args, error) {
	a := &args{values: map[string]string{}, bools: map[string]bool{}}
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if arg == "--" {
			a.positional = append(a.positional, argv[i+1:]...)
			break
		}
		if arg == "-h" || arg == "--help" {
			a.help = true
			continue
		}
		if !strings.HasPrefix(arg, "--") || arg == "--" {
			a.positional = append(a.positional, arg)
			continue
		}
		flagName, value, hasValue := strings.Cut(arg[2:], "=")
		kind, ok := known[flagName]
		if !ok {
			return nil, fmt.Errorf("unknown flag --%s", flagName)
		}
		if kind == boolFlag {
			b := true
			if hasValue {
				parsed, err := strconv.ParseBool(value)
				if err != nil {
					return nil, fmt.Errorf("--%s takes true or false, got %q", flagName, value)
				}
				b = parsed
			}
			a.bools[flagName] = b
			continue
		}
		if !hasValue {
			if i+1 >= len(argv) {
				return nil, fmt.Errorf("--%s needs a value", flagName)
			}
			i++
			value = argv[i]
		}
		if _, dup := a.values[flagName]; dup {
			return nil, fmt.Errorf("--%s given twice", flagName)
		}
		a.values[flagName] = value
	}
	return a, nil
}

// value returns a flag's value or its default.
func (a *args) value(flagName, fallback string) string {
	if v, ok := a.values[flagName]; ok {
		return v
	}
	return fallback
}

// required returns a flag's value, or a usage error when it is missing.
func (a *args) required(flagName string) (string, error) {
	v, ok := a.values[flagName]
	if !ok || v == "" {
		return "", usagef("required flag --%s not set", flagName)
	}
	return v, nil
}

func (a *args) duration(flagName string, fallback time.Duration) (time.Duration, error) {
	v, ok := a.values[flagName]
	if !ok {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, usagef("--%s: %v", flagName, err)
	}
	return d, nil
}

// maxPositional fails when more positional arguments were given than the
// command takes.
func (a *args) maxPositional(n int) error {
	if len(a.positional) > n {
		return usagef("unexpected argument %q", a.positional[n])
	}
	return nil
}
