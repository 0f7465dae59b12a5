package client_test

import (
	"os"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

// bootstrapMessage encodes a server-less DM bootstrap message carrying cmds.
func bootstrapMessage(t *testing.T, enc syncml.Encoding, cmds ...syncml.Command) []byte {
	t.Helper()
	m := &syncml.Message{
		Header: syncml.Header{VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: "0", MsgID: "0",
			Target: syncml.Location{LocURI: testDeviceID}, Source: syncml.Location{LocURI: "srv.boot"}},
		Body:  cmds,
		Final: true,
	}
	for i, c := range m.Body {
		setID(c, string(rune('1'+i)))
	}
	b, err := syncml.Encode(m, enc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tndsAdd(t *testing.T) *syncml.Add {
	t.Helper()
	doc, err := os.ReadFile("testdata/bootstrap-dmacc.tnds.xml")
	if err != nil {
		t.Fatal(err)
	}
	return &syncml.Add{Meta: &syncml.Meta{Type: syncml.TypeTNDSXML, Format: "xml"},
		Items: []syncml.Item{{Target: &syncml.Location{LocURI: "."}, Data: &syncml.Data{Value: doc}}}}
}

func TestApplyBootstrap_AddsTheAccountWithoutAnswering(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			tr := newTree(t)
			msg := bootstrapMessage(t, enc, tndsAdd(t), &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "provisioned")}})
			recs, err := client.ApplyBootstrap(client.DMTree(tr), msg, "")
			if err != nil {
				t.Fatalf("ApplyBootstrap: %v", err)
			}
			if len(recs) != 2 || recs[0].Status != syncml.StatusOK || recs[1].Status != syncml.StatusOK {
				t.Fatalf("records = %+v", recs)
			}
			if v := value(t, tr, "./DMAcc/boot/ServerID"); v != "srv.boot" {
				t.Fatalf("ServerID = %q", v)
			}
			if v := value(t, tr, "./Vendor/Name"); v != "provisioned" {
				t.Fatalf("./Vendor/Name = %q", v)
			}
			rs, err := tr.Get("", "./DMAcc/boot?prop=ACL")
			if err != nil || string(rs[0].Data) != "Get=srv.boot&Replace=srv.boot" {
				t.Fatalf("ACL from TNDS = %v %v", rs, err)
			}
		})
	}
}

func TestApplyBootstrap_RejectsTheWholeMessageOnAnyProblem(t *testing.T) {
	tests := []struct {
		name string
		msg  func(t *testing.T) []byte
		want string
	}{
		{"failing command rolls back the earlier ones", func(t *testing.T) []byte {
			return bootstrapMessage(t, syncml.EncodingWBXML, tndsAdd(t), &syncml.Add{Items: []syncml.Item{item("./Vendor/Name", "dup")}})
		}, "status 418"},
		{"commands other than Add and Replace", func(t *testing.T) []byte {
			return bootstrapMessage(t, syncml.EncodingXML, tndsAdd(t), &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
		}, "Get 2 is not allowed"},
		{"chunked item", func(t *testing.T) []byte {
			return bootstrapMessage(t, syncml.EncodingXML, &syncml.Add{Items: []syncml.Item{chunk("./Vendor/Big", "abc", 10)}})
		}, "chunked"},
		{"no command", func(t *testing.T) []byte { return bootstrapMessage(t, syncml.EncodingXML) }, "no Add or Replace"},
		{"not a DM message", func(t *testing.T) []byte { return []byte("garbage") }, "bootstrap message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			_, err := client.ApplyBootstrap(client.DMTree(tr), tc.msg(t), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if v := value(t, tr, "./DMAcc/boot/ServerID"); v != "<404>" {
				t.Fatalf("rejected bootstrap left the account: %q", v)
			}
		})
	}
}

func FuzzApplyBootstrap(f *testing.F) {
	t := &testing.T{}
	f.Add(bootstrapMessage(t, syncml.EncodingWBXML, tndsAdd(t)))
	f.Add(bootstrapMessage(t, syncml.EncodingXML, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "x")}}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		tr := newTree(t)
		if _, err := client.ApplyBootstrap(client.DMTree(tr), msg, ""); err != nil {
			if v := value(t, tr, "./Vendor/Name"); v != "acme" {
				t.Fatalf("rejected bootstrap changed the tree: %q", v)
			}
		}
	})
}
