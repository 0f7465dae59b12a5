package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// A trace never holds the header Cred Data: it is blanked where it stands
// (same length, so WBXML stays valid), or, when it is too short to be found
// safely or is not there verbatim, the message is re-encoded without it.
func TestRedactCred_BlanksTheCredentialInBothEncodings(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		for _, tc := range []struct {
			name, data string
		}{
			{"basic credential", "dXNlcjpwYXNzd29yZA=="},
			{"short credential", "c2Vj"},
		} {
			t.Run(enc.String()+"/"+tc.name, func(t *testing.T) {
				m := &syncml.Message{Final: true, Header: syncml.Header{VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12,
					SessionID: "1", MsgID: "1", Target: syncml.Location{LocURI: "omadm"}, Source: syncml.Location{LocURI: "dev"},
					Cred: &syncml.Cred{Meta: &syncml.Meta{Type: syncml.AuthBasic, Format: "b64"}, Data: tc.data}},
					Body: []syncml.Command{&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt}}}
				body, err := syncml.Encode(m, enc)
				if err != nil {
					t.Fatal(err)
				}
				orig := bytes.Clone(body)
				got := redactCred(body, m, enc)
				if !bytes.Equal(body, orig) {
					t.Fatal("the wire bytes were modified")
				}
				if bytes.Contains(got, []byte(tc.data)) {
					t.Fatalf("credential still in the trace")
				}
				d, _, err := syncml.Decode(got, enc.ContentType(), nil)
				if err != nil {
					t.Fatalf("redacted trace does not decode: %v", err)
				}
				if c := d.Header.Cred; c == nil || strings.Trim(c.Data, "*") != "" || len(d.Body) != 1 {
					t.Fatalf("redacted trace: cred %+v, %d commands", c, len(d.Body))
				}
			})
		}
	}
	plain := []byte("<SyncML/>")
	if got := redactCred(plain, &syncml.Message{}, syncml.EncodingXML); &got[0] != &plain[0] {
		t.Error("a message without Cred was copied")
	}
}
