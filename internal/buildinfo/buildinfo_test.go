package buildinfo_test

import (
	"runtime/debug"
	"testing"

	"github.com/omadm/omadm/internal/buildinfo"
)

func TestInfo_StringNamesVersionRevisionDirtyAndGo(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}}},
			"omadm v1.2.0 (revision 0123456789ab) go1.27.3"},
		{"dirty checkout", debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-12-03T10:00:00Z"}}},
			"omadm (devel) (revision abc, dirty, 2026-12-03T10:00:00Z) go1.27.3"},
		{"no vcs", debug.BuildInfo{GoVersion: "go1.27.3"}, "omadm (devel) go1.27.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildinfo.From(&tc.bi).String("omadm"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
