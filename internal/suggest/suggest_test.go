package suggest_test

import (
	"testing"

	"github.com/omadm/omadm/internal/suggest"
)

func TestDistance_CountsEdits(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		want       int
	}{
		{"equal", "state", "state", 0},
		{"one deleted", "stat", "state", 1},
		{"one substituted", "stste", "state", 1},
		{"swap is two", "tsate", "state", 2},
		{"from empty", "", "abc", 3},
		{"to empty", "abc", "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := suggest.Distance(tc.a, tc.b); got != tc.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestClosest_ProposesOnlyNamesWithinTwoEdits(t *testing.T) {
	names := []string{"server", "state", "timeout"}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"one edit", "stat", "state"},
		{"two edits", "servr1", "server"},
		{"too far", "xyz", ""},
		{"first of equals wins", "stater", "state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := suggest.Closest(tc.in, names); got != tc.want {
				t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
