package handler_test

import (
	"encoding/json"
	"testing"

	"github.com/omadm/omadm/api"
)

// The console builds its operation forms from GET /mos, so every descriptor
// the operations layer runs must be listed with its operations and params.
func TestAPI_ListsMODescriptorsWithOperationsAndParams(t *testing.T) {
	e := newEnv(t)
	st, b := e.do(t, "GET", "/api/v1/mos", "")
	if st != 200 {
		t.Fatalf("GET /mos: %d %s", st, b)
	}
	var l api.MOList
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	byName := map[string]api.MO{}
	for _, m := range l.MOs {
		byName[m.Name] = m
	}
	tests := []struct {
		name, mo, op, param string
		required, list      bool
	}{
		{name: "FUMO download takes a required package URL", mo: "fumo", op: "DownloadAndUpdate", param: "pkg_url", required: true},
		{name: "LAWMO wipe takes a list of wipe items", mo: "lawmo", op: "Wipe", param: "wipe_items", list: true},
		{name: "LAWMO lock may notify the user", mo: "lawmo", op: "FullyLock", param: "notify_user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := byName[tc.mo]
			if !ok {
				t.Fatalf("%s not listed in %s", tc.mo, b)
			}
			if m.DefaultNode == "" || m.MOID == "" || m.Timeout == "" {
				t.Errorf("%s: incomplete descriptor %+v", tc.mo, m)
			}
			for _, op := range m.Operations {
				if op.Name != tc.op {
					continue
				}
				for _, p := range op.Params {
					if p.Name == tc.param {
						if p.Required != tc.required || p.List != tc.list {
							t.Errorf("%s %s %s: required %v list %v", tc.mo, tc.op, tc.param, p.Required, p.List)
						}
						return
					}
				}
				t.Fatalf("%s %s has no param %s", tc.mo, tc.op, tc.param)
			}
			t.Fatalf("%s has no operation %s", tc.mo, tc.op)
		})
	}
}
