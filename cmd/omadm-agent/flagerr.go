package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/omadm/omadm/internal/suggest"
)

// flagError rewrites an error of the flag package so it names the flag, the
// value given and what the flag expects, and suggests a close flag name for
// an unknown one.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		if best := closestFlag(fs, name); best != "" {
			return fmt.Errorf("unknown flag --%s; did you mean --%s? (omadm-agent -h lists the flags)", name, best)
		}
		return fmt.Errorf("unknown flag --%s (omadm-agent -h lists the flags)", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		name = strings.TrimLeft(name, "-")
		if e := expected(fs.Lookup(name)); e != "a value" {
			return fmt.Errorf("--%s needs a value: %s", name, e)
		}
		return fmt.Errorf("--%s needs a value", name)
	}
	// invalid boolean value "x" for -name: reason
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if q, name, ok := strings.Cut(rest, " for -"); ok {
			name, _, _ = strings.Cut(name, ":")
			return fmt.Errorf("--%s=%s: want true or false", strings.TrimLeft(name, "-"), q)
		}
	}
	// invalid value "x" for flag -name: reason
	var value, name string
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if q, after, ok := strings.Cut(rest, " for flag -"); ok {
			value = q
			name, _, _ = strings.Cut(after, ":")
			name = strings.TrimLeft(name, "-")
			return fmt.Errorf("--%s %s: want %s", name, value, expected(fs.Lookup(name)))
		}
	}
	return err
}

// expected describes the values a flag takes.
func expected(f *flag.Flag) string {
	if f == nil {
		return "a value"
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "a value"
	}
	switch g.Get().(type) {
	case time.Duration:
		return "a duration such as 30s, 5m or 1h"
	case bool:
		return "true or false"
	case int, int64:
		return "an integer"
	case uint, uint64:
		return "a non-negative integer"
	case float64:
		return "a number"
	}
	return "a value"
}

// closestFlag is the defined flag name nearest to name (edit distance at
// most 2), or "".
func closestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return suggest.Closest(name, names)
}
