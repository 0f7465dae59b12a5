// Package buildinfo describes the running binary from the build information
// the Go toolchain embeds: module version, VCS revision, dirty flag and Go
// version. Both omadm and omadm-agent print it for --version.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Info is what --version prints.
type Info struct {
	Version   string // module version, "(devel)" for a build from a checkout
	Revision  string // VCS revision, empty when the build recorded none
	Time      string // VCS commit time (RFC 3339), empty when unknown
	Modified  bool   // the working tree had uncommitted changes
	GoVersion string
}

// Read returns the running binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	return From(bi)
}

// From extracts Info from bi.
func From(bi *debug.BuildInfo) Info {
	in := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the one-line form, e.g.
// "omadm v1.2.0 (revision 478e790c1a2b, dirty, 2026-12-03T10:00:00Z) go1.27.3".
func (in Info) String(program string) string {
	var b strings.Builder
	b.WriteString(program + " " + in.Version)
	var extra []string
	if in.Revision != "" {
		rev := in.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		extra = append(extra, "revision "+rev)
	}
	if in.Modified {
		extra = append(extra, "dirty")
	}
	if in.Time != "" {
		extra = append(extra, in.Time)
	}
	if len(extra) > 0 {
		b.WriteString(" (" + strings.Join(extra, ", ") + ")")
	}
	if in.GoVersion != "" {
		b.WriteString(" " + in.GoVersion)
	}
	return b.String()
}
