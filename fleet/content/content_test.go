package content_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/fleet/content"
)

// The release policy: a rule for the device's exact version wins over a
// rule for any version; a device already at the package's version, or of a
// model no rule names, gets nothing.
func TestCatalogue_MatchPicksTheRuleForTheModelAndVersion(t *testing.T) {
	c, err := content.Open(t.TempDir(), content.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := c.Add("fw", "2.0", "", strings.NewReader("two"))
	v3, _ := c.Add("fw", "3.0", "", strings.NewReader("three"))
	if err := c.SetPolicy([]content.Release{{Model: "X", Package: v3.ID}, {Model: "X", FromVersion: "1.0", Package: v2.ID}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model, version, want string
	}{
		{"X", "1.0", v2.ID}, {"X", "2.0", v3.ID}, {"X", "", v3.ID}, {"X", "3.0", ""}, {"Y", "1.0", ""},
	} {
		p, ok, err := c.Match(tc.model, tc.version)
		got := ""
		if ok {
			got = p.ID
		}
		if err != nil || got != tc.want {
			t.Errorf("Match(%s, %s) = %q, %v; want %q", tc.model, tc.version, got, err, tc.want)
		}
	}
}

func TestCatalogue_AddKeepsSHA256AndRefusesBadInput(t *testing.T) {
	c, err := content.Open(t.TempDir(), content.Options{MaxSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Add("fw", "1", "", strings.NewReader("abc"))
	if err != nil || p.SHA256 != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || p.Type != "application/octet-stream" {
		t.Fatalf("Add = %+v, %v", p, err)
	}
	if _, err := c.Add("fw", "1", "", strings.NewReader("01234567890")); !errors.Is(err, content.ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	for _, tc := range [][3]string{{"", "1", ""}, {"fw", "", ""}, {"fw", "1", "nope"}, {"f\nw", "1", ""}} {
		if _, err := c.Add(tc[0], tc[1], tc[2], strings.NewReader("x")); err == nil {
			t.Errorf("Add(%q) accepted", tc)
		}
	}
	if _, err := c.Add("fw", "1", "", strings.NewReader("")); err == nil {
		t.Error("empty package accepted")
	}
	if _, err := c.Get("../etc"); !errors.Is(err, content.ErrNotFound) {
		t.Errorf("Get of a path: %v", err)
	}
	ps, _ := c.List()
	if len(ps) != 1 {
		t.Errorf("List = %d packages, want 1 (failed uploads leave nothing)", len(ps))
	}
}
