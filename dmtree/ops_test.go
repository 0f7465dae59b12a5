package dmtree_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

func TestOperations_ReturnSpecStatus(t *testing.T) {
	tests := []struct {
		name      string
		principal string
		op        string // add, replace, delete, get, copy
		uri       string
		src       string // copy source
		v         dmtree.Value
		want      syncml.StatusCode
	}{
		// Add
		{"add leaf under ACL-granted interior", "S1", "add", "./A/N", "", chr("x"), 200},
		{"add leaf by server without Add right", "S2", "add", "./A/N", "", chr("x"), 425},
		{"add at root allowed by default root ACL", "S2", "add", "./New", "", chr("x"), 200},
		{"add existing node", "S1", "add", "./A/L", "", chr("x"), 418},
		{"add existing node without right reports 425", "S2", "add", "./A/L", "", chr("x"), 425},
		{"add child of leaf", "S1", "add", "./A/L/X", "", chr("x"), 405},
		{"add with implicit parents", "S1", "add", "./A/I/X/Y/Z", "", chr("x"), 200},
		{"add bad int", "S1", "add", "./A/N", "", dmtree.Value{Format: "int", Data: []byte("12x")}, 415},
		{"add int overflowing 32 bits", "S1", "add", "./A/N", "", dmtree.Value{Format: "int", Data: []byte("2147483648")}, 415},
		{"add bad bool", "S1", "add", "./A/N", "", dmtree.Value{Format: "bool", Data: []byte("yes")}, 415},
		{"add bad b64", "S1", "add", "./A/N", "", dmtree.Value{Format: "b64", Data: []byte("!!")}, 415},
		{"add unknown format", "S1", "add", "./A/N", "", dmtree.Value{Format: "jpeg", Data: []byte("x")}, 415},
		{"add interior with data", "S1", "add", "./A/N", "", dmtree.Value{Format: "node", Data: []byte("x")}, 415},
		{"add bad date", "S1", "add", "./A/N", "", dmtree.Value{Format: "date", Data: []byte("2001-13-01")}, 415},
		{"add good date", "S1", "add", "./A/N", "", dmtree.Value{Format: "date", Data: []byte("2001-12-01")}, 200},
		{"add good time", "S1", "add", "./A/N", "", dmtree.Value{Format: "time", Data: []byte("16:38:17Z")}, 200},
		{"add bad float", "S1", "add", "./A/N", "", dmtree.Value{Format: "float", Data: []byte("1.2.3")}, 415},
		{"add malformed xml", "S1", "add", "./A/N", "", dmtree.Value{Format: "xml", Data: []byte("<a>")}, 415},
		{"add on property", "S1", "add", "./A/L?prop=Title", "", chr("x"), 405},
		{"add root", "", "add", ".", "", interior, 418},
		{"add URI too deep", "S2", "add", "./a/b/c/d/e/f/g/h/i", "", chr("x"), 414},
		{"add segment too long", "S2", "add", "./" + strings.Repeat("s", 33), "", chr("x"), 414},
		{"add empty segment", "S2", "add", "./a//b", "", chr("x"), 400},
		{"add dotdot", "S2", "add", "./a/../b", "", chr("x"), 400},
		{"add trailing slash", "S2", "add", "./a/", "", chr("x"), 400},
		{"add leaf where DDF placeholder is interior", "S2", "add", "./P/Q2", "", chr("x"), 415},
		{"add DDF placeholder instance", "S2", "add", "./P/x1", "", interior, 200},
		{"add DDF leaf with wrong format", "S2", "add", "./P/x1/Flag", "", chr("x"), 415},
		{"add device bypasses ACL", "", "add", "./A/Dev", "", chr("x"), 200},
		// Replace
		{"replace leaf", "S1", "replace", "./A/L", "", chr("w"), 200},
		{"replace missing", "S1", "replace", "./A/Nope", "", chr("w"), 404},
		{"replace without right", "S2", "replace", "./A/L", "", chr("w"), 425},
		{"replace inherited root ACL has no Replace", "S1", "replace", "./B", "", chr("w"), 425},
		{"replace permanent leaf value", "S2", "replace", "./P/Q", "", dmtree.Value{Format: "int", Data: []byte("9")}, 425},
		{"replace DDF int with text", "", "replace", "./P/Q", "", chr("x"), 415},
		{"replace interior with value", "S1", "replace", "./A/I", "", chr("x"), 405},
		{"replace Format property", "S1", "replace", "./A/L?prop=Format", "", chr("int"), 405},
		{"replace Title too long", "S1", "replace", "./A/L?prop=Title", "", chr(strings.Repeat("t", 256)), 413},
		{"replace Title", "S1", "replace", "./A/L?prop=Title", "", chr("title"), 200},
		{"rename leaf", "S1", "replace", "./A/L?prop=Name", "", chr("L2"), 200},
		{"rename sibling clash", "S1", "replace", "./A/L?prop=Name", "", chr("I"), 418},
		{"rename DDF-named node", "", "replace", "./P?prop=Name", "", chr("P2"), 405},
		{"rename permanent by server", "S1", "replace", "./P?prop=Name", "", chr("P2"), 425},
		{"rename root", "", "replace", ".?prop=Name", "", chr("x"), 405},
		{"replace unknown property", "S1", "replace", "./A/L?prop=Color", "", chr("x"), 406},
		// Delete
		{"delete leaf", "S1", "delete", "./A/L", "", dmtree.Value{}, 200},
		{"delete subtree", "S1", "delete", "./A", "", dmtree.Value{}, 200},
		{"delete subtree without right", "S2", "delete", "./A", "", dmtree.Value{}, 425},
		{"delete missing", "S1", "delete", "./A/Nope", "", dmtree.Value{}, 404},
		{"delete without right", "S2", "delete", "./A/L", "", dmtree.Value{}, 425},
		{"delete root", "", "delete", ".", "", dmtree.Value{}, 405},
		{"delete property", "S1", "delete", "./A/L?prop=ACL", "", dmtree.Value{}, 405},
		// Get
		{"get leaf", "S1", "get", "./A/L", "", dmtree.Value{}, 200},
		{"get leaf without right", "S2", "get", "./A/L", "", dmtree.Value{}, 425},
		{"get leaf with own Get=*", "S2", "get", "./A/G", "", dmtree.Value{}, 200},
		{"get missing", "S1", "get", "./A/Nope", "", dmtree.Value{}, 404},
		{"get unsupported list", "S1", "get", "./A?list=Tree", "", dmtree.Value{}, 406},
		{"get Size of interior", "S1", "get", "./A?prop=Size", "", dmtree.Value{}, 406},
		{"get unknown prop", "S1", "get", "./A?prop=Color", "", dmtree.Value{}, 406},
		{"get mixed TNDS props", "S1", "get", "./A?list=TNDS+ACL-Format", "", dmtree.Value{}, 400},
		{"get AccessType without Get", "S2", "get", "./P/RO", "", dmtree.Value{}, 200},
		// Copy
		{"copy leaf to new", "S1", "copy", "./A/C", "./A/L", dmtree.Value{}, 200},
		{"copy leaf over leaf", "S1", "copy", "./A/L", "./A/G", dmtree.Value{}, 200},
		{"copy over leaf without Replace", "S1", "copy", "./A/G", "./A/L", dmtree.Value{}, 425},
		{"copy missing source", "S1", "copy", "./A/C", "./A/Nope", dmtree.Value{}, 404},
		{"copy interior source", "S1", "copy", "./A/C", "./A/I", dmtree.Value{}, 405},
		{"copy without Get on source", "S2", "copy", "./C", "./A/L", dmtree.Value{}, 425},
		// OMA-TS-DM_RepPro-V1_2 Copy: a target that may not be overwritten is 403.
		{"copy onto interior is forbidden", "S1", "copy", "./A/I", "./A/L", dmtree.Value{}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			var err error
			switch tc.op {
			case "add":
				err = tr.Add(tc.principal, tc.uri, tc.v)
			case "replace":
				err = tr.Replace(tc.principal, tc.uri, tc.v)
			case "delete":
				err = tr.Delete(tc.principal, tc.uri)
			case "get":
				_, err = tr.Get(tc.principal, tc.uri)
			case "copy":
				err = tr.Copy(tc.principal, tc.uri, tc.src)
			}
			if got := code(err); got != tc.want {
				t.Fatalf("%s %s as %q: status %d, want %d (%v)", tc.op, tc.uri, tc.principal, got, tc.want, err)
			}
			var se *syncml.StatusError
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("error %T is not a *syncml.StatusError", err)
			}
		})
	}
}

// OMA-TS-DM_RepPro-V1_2 Copy: when the target exists and may not be
// overwritten the device answers 403 Forbidden; an ACL refusal stays 425.
func TestCopy_OntoTargetThatMayNotBeOverwrittenIsForbidden(t *testing.T) {
	tr := fixture(t)
	// S2 holds the ACL right on ./P/RO, but its DDF AccessType has no Replace.
	must(t, tr.Replace("", "./P/RO?prop=ACL", dmtree.Value{Data: []byte("Get=*&Replace=S2")}))
	tests := []struct {
		name, principal, target, source string
		want                            syncml.StatusCode
	}{
		{"interior target", "S1", "./A/I", "./A/L", syncml.StatusForbidden},
		{"AccessType without Replace", "S2", "./P/RO", "./A/G", syncml.StatusForbidden},
		{"no ACL right on the target", "S2", "./A/L", "./A/G", syncml.StatusPermissionDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tr.Copy(tc.principal, tc.target, tc.source)); got != tc.want {
				t.Fatalf("Copy %s -> %s as %q: %d, want %d", tc.source, tc.target, tc.principal, got, tc.want)
			}
		})
	}
	if v, _ := tr.Get("", "./P/RO"); string(v[0].Data) != "fixed" {
		t.Fatalf("./P/RO was overwritten: %q", v[0].Data)
	}
}

func TestAdd_ImplicitParentFailureNamesTheAncestor(t *testing.T) {
	tr := fixture(t)
	err := tr.Add("S1", "./A/L/X/Y", chr("x"))
	if code(err) != 405 {
		t.Fatalf("status %v, want 405", err)
	}
	if got := dmtree.FailedURI(err); got != "./A/L/X" {
		t.Fatalf("failed URI %q, want ./A/L/X", got)
	}
	err = tr.Add("S2", "./A/Q/R", chr("x"))
	if code(err) != 425 || dmtree.FailedURI(err) != "./A/Q" {
		t.Fatalf("got %v (%q), want 425 at ./A/Q", err, dmtree.FailedURI(err))
	}
	if _, err := tr.Get("", "./A/Q"); code(err) != 404 {
		t.Fatalf("failed Add left ./A/Q behind: %v", err)
	}
}

func TestAdd_CreatorRuleGrantsInteriorToServerWithoutParentReplace(t *testing.T) {
	tr := fixture(t)
	must(t, tr.Add("S9", "./X/Y", chr("v")))
	info, err := tr.Info("./X")
	must(t, err)
	if info.ACL != "Add=S9&Delete=S9&Replace=S9" {
		t.Fatalf("implicit interior ACL %q", info.ACL)
	}
	leaf, _ := tr.Info("./X/Y")
	if leaf.ACL != "" {
		t.Fatalf("leaf ACL %q, want empty (inherit)", leaf.ACL)
	}
	// S1 has Replace on ./A, so its interior nodes under ./A inherit.
	must(t, tr.Add("S1", "./A/K", interior))
	if info, _ := tr.Info("./A/K"); info.ACL != "" {
		t.Fatalf("ACL %q, want empty", info.ACL)
	}
}

func TestGet_ReturnsValuesChildListsAndProperties(t *testing.T) {
	tr := fixture(t)
	must(t, tr.Add("", "./A/Bin", dmtree.Value{Format: "b64", Data: []byte("AAEC")}))
	must(t, tr.Replace("", "./A/L?prop=Title", chr("the title")))
	tests := []struct {
		name, uri, format, data string
	}{
		{"leaf", "./A/L", "chr", "v"},
		{"same without ./", "A/L", "chr", "v"},
		{"interior child list", "./A", "node", "L/I/G/Bin"},
		{"empty interior", "./A/I", "node", ""},
		{"b64 stored as bin", "./A/Bin", "bin", "\x00\x01\x02"},
		{"own ACL", "./A?prop=ACL", "", "Add=S1&Delete=S1&Get=S1&Replace=S1"},
		{"empty own ACL not inherited", "./A/L?prop=ACL", "", ""},
		{"Format", "./A/Bin?prop=Format", "", "bin"},
		{"Size of decoded value", "./A/Bin?prop=Size", "", "3"},
		{"Name", "./A/L?prop=Name", "", "L"},
		{"Title", "./A/L?prop=Title", "", "the title"},
		{"TStamp ISO 8601 basic", "./A/L?prop=TStamp", "", "20010711T163817Z"},
		{"VerNo bumped by Title", "./A/L?prop=VerNo", "", "1"},
		{"Type of DDF leaf", "./P/Q?prop=Type", "", "text/plain"},
		{"DDF default value", "./P/Q", "int", "7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := tr.Get("", tc.uri)
			must(t, err)
			if len(rs) != 1 || rs[0].Format != tc.format || string(rs[0].Data) != tc.data {
				t.Fatalf("Get %s = %+v, want format %s data %q", tc.uri, rs, tc.format, tc.data)
			}
		})
	}
}

func TestVerNo_WrapsAfterFFFF(t *testing.T) {
	tr := dmtree.New(nil)
	must(t, tr.Add("", "./N", chr("0")))
	for i := 0; i < 0x10000; i++ {
		must(t, tr.Replace("", "./N", chr("x")))
	}
	rs, err := tr.Get("", "./N?prop=VerNo")
	must(t, err)
	if string(rs[0].Data) != "0" {
		t.Fatalf("VerNo after 65536 changes = %s, want 0", rs[0].Data)
	}
}

func TestACL_InheritanceExampleOfSpec(t *testing.T) {
	// The ACL inheritance example figure of OMA-TS-DM_TND-V1_2 (ACL).
	tr := dmtree.New(nil)
	must(t, tr.Add("", "./NodeA", interior))
	must(t, tr.Replace("", "./NodeA?prop=ACL", chr("Get=ServerC&Replace=ServerC")))
	must(t, tr.Add("", "./NodeA/Node1", chr("v")))
	must(t, tr.Replace("", "./NodeA/Node1?prop=ACL", chr("Get=*")))
	must(t, tr.Add("", "./NodeA/Node2", chr("w")))

	steps := []struct {
		name      string
		principal string
		op        func(string) error
		want      syncml.StatusCode
	}{
		{"anyone may Get Node1", "ServerX", func(p string) error { _, err := tr.Get(p, "./NodeA/Node1"); return err }, 200},
		{"nobody may Replace Node1", "ServerC", func(p string) error { return tr.Replace(p, "./NodeA/Node1", chr("n")) }, 425},
		{"nobody may Delete Node1", "ServerC", func(p string) error { return tr.Delete(p, "./NodeA/Node1") }, 425},
		{"other server may not rewrite Node1 ACL", "ServerX", func(p string) error { return tr.Replace(p, "./NodeA/Node1?prop=ACL", chr("Get=*")) }, 425},
		{"Node2 inherits NodeA for Get", "ServerX", func(p string) error { _, err := tr.Get(p, "./NodeA/Node2"); return err }, 425},
		{"ServerC Gets Node2 by inheritance", "ServerC", func(p string) error { _, err := tr.Get(p, "./NodeA/Node2"); return err }, 200},
		{"ServerC may rewrite Node1 ACL", "ServerC", func(p string) error {
			return tr.Replace(p, "./NodeA/Node1?prop=ACL", chr("Get=*&Replace=ServerC"))
		}, 200},
		{"then ServerC may Replace Node1", "ServerC", func(p string) error { return tr.Replace(p, "./NodeA/Node1", chr("n")) }, 200},
		{"leaf Replace right does not cover its ACL", "ServerD", func(p string) error {
			must(t, tr.Replace("", "./NodeA/Node2?prop=ACL", chr("Replace=ServerD")))
			return tr.Replace(p, "./NodeA/Node2?prop=ACL", chr("Get=*"))
		}, 425},
		{"interior own Replace covers its ACL", "ServerC", func(p string) error { return tr.Replace(p, "./NodeA?prop=ACL", chr("Get=*&Replace=ServerC")) }, 200},
		{"root ACL must keep Add=*", "", func(p string) error { return tr.Replace(p, ".?prop=ACL", chr("Add=S1&Get=*")) }, 405},
		{"root ACL cannot be emptied", "", func(p string) error { return tr.Replace(p, ".?prop=ACL", chr("")) }, 405},
		{"malformed ACL", "", func(p string) error { return tr.Replace(p, "./NodeA?prop=ACL", chr("Get")) }, 400},
	}
	for _, s := range steps {
		if got := code(s.op(s.principal)); got != s.want {
			t.Fatalf("%s: status %d, want %d", s.name, got, s.want)
		}
	}
	rs, err := tr.Get("", "./NodeA/Node2?prop=ACL")
	must(t, err)
	if string(rs[0].Data) != "Replace=ServerD" {
		t.Fatalf("own ACL %q", rs[0].Data)
	}
}

func TestGet_ListIncludesOnlyGettableNodes(t *testing.T) {
	tr := fixture(t)
	rs, err := tr.Get("S2", "./A/G?list=StructData")
	must(t, err)
	if len(rs) != 1 || rs[0].URI != "./A/G" || string(rs[0].Data) != "g" {
		t.Fatalf("StructData = %+v", rs)
	}
	rs, err = tr.Get("S1", "./A?list=Struct")
	must(t, err)
	var uris []string
	for _, r := range rs {
		uris = append(uris, r.URI)
		if r.Data != nil {
			t.Fatalf("Struct carries data: %+v", r)
		}
	}
	if got := strings.Join(uris, " "); got != "./A ./A/L ./A/I ./A/G" {
		t.Fatalf("Struct URIs %q", got)
	}
	rs, err = tr.Get("", ".?list=Struct")
	must(t, err)
	if rs[0].URI != "." || len(rs) != tr.Len() {
		t.Fatalf("root Struct: %d items, first %q; tree has %d", len(rs), rs[0].URI, tr.Len())
	}
}

func TestExec_RunsPluginOr405(t *testing.T) {
	tr := fixture(t)
	if st, err := tr.Exec(context.Background(), "", "./A/L", nil, ""); st != 405 || err == nil {
		t.Fatalf("Exec without plug-in: %d %v", st, err)
	}
	var got []string
	must(t, tr.Mount("./A", dmtree.ExecFunc(func(_ context.Context, uri string, data []byte, corr string) (syncml.StatusCode, error) {
		got = append(got, uri, string(data), corr)
		return syncml.StatusAccepted, nil
	})))
	must(t, tr.Replace("", "./A?prop=ACL", chr("Exec=S1&Get=S1&Replace=S1")))
	st, err := tr.Exec(context.Background(), "S1", "A/L", []byte("go"), "c1")
	if st != 202 || err != nil {
		t.Fatalf("Exec = %d, %v", st, err)
	}
	if strings.Join(got, ",") != "./A/L,go,c1" {
		t.Fatalf("handler saw %q", got)
	}
	if st, _ := tr.Exec(context.Background(), "S2", "./A/L", nil, ""); st != 425 {
		t.Fatalf("Exec without ACL = %d", st)
	}
	if st, _ := tr.Exec(context.Background(), "S1", "./A/Nope", nil, ""); st != 404 {
		t.Fatalf("Exec missing = %d", st)
	}
	if err := tr.Mount("./Nope", dmtree.ExecFunc(nil)); code(err) != 404 {
		t.Fatalf("Mount on missing node: %v", err)
	}
}

func TestPlugin_SuppliesLiveValues(t *testing.T) {
	tr := fixture(t)
	must(t, tr.Mount("./B", dmtree.GetFunc(func(uri string) (dmtree.Value, error) {
		return dmtree.Value{Format: "int", Type: "text/plain", Data: []byte("42")}, nil
	})))
	rs, err := tr.Get("S1", "./B")
	must(t, err)
	if string(rs[0].Data) != "42" || rs[0].Format != "int" {
		t.Fatalf("Get = %+v", rs)
	}
	rs, _ = tr.Get("S1", "./B?prop=Size")
	if string(rs[0].Data) != "2" {
		t.Fatalf("Size = %s", rs[0].Data)
	}
}

func TestDelete_RemovesSubtreeAndPermanentIsProtected(t *testing.T) {
	tr := fixture(t)
	must(t, tr.Add("S1", "./A/I/X/Y", chr("1")))
	must(t, tr.Delete("S1", "./A/I"))
	for _, u := range []string{"./A/I", "./A/I/X", "./A/I/X/Y"} {
		if _, err := tr.Get("", u); code(err) != 404 {
			t.Fatalf("%s survived: %v", u, err)
		}
	}
	must(t, tr.Replace("", "./P?prop=ACL", chr("Delete=*&Get=*")))
	if err := tr.Delete("S1", "./P"); code(err) != 405 {
		t.Fatalf("Delete permanent: %v", err)
	}
	if err := tr.Delete("S1", "./P/RO"); code(err) != 405 {
		t.Fatalf("Delete without DDF Delete access: %v", err)
	}
}

func TestDDF_OccurrenceAndValidation(t *testing.T) {
	tr := fixture(t)
	must(t, tr.Add("S1", "./P/a", interior))
	must(t, tr.Add("S1", "./P/b", interior))
	if err := tr.Add("S1", "./P/c", interior); code(err) != 405 {
		t.Fatalf("third instance of ZeroOrN 2: %v", err)
	}
	must(t, tr.Add("S1", "./P/a/Flag", dmtree.Value{Format: "bool", Data: []byte("true")}))
	if err := tr.Add("S1", "./P/b/Other", chr("x")); code(err) != 405 {
		t.Fatalf("name not in DDF: %v", err)
	}
	must(t, tr.Validate("./P"))
	must(t, tr.Delete("", "./P/Q"))
	if err := tr.Validate("./P"); code(err) != 405 {
		t.Fatalf("missing required node validated: %v", err)
	}
}
