package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-DM_RepPro-V1_2, SyncHdr (VerDTD, VerProto): a server message in a
// SyncML or DM version the agent does not read ends the session with a
// protocol error naming the version, before any command of it runs.
func TestAgent_RefusesServerMessageInUnsupportedVersion(t *testing.T) {
	tests := []struct {
		name, dtd, proto, want string
	}{
		{"VerDTD 2.0", "2.0", syncml.VerProto12, `SyncML DTD version "2.0"`},
		{"VerProto DM/2.0", syncml.VerDTD12, "DM/2.0", `protocol version "DM/2.0"`},
		{"SyncML DS VerProto", syncml.VerDTD11, "SyncML/1.1", `protocol version "SyncML/1.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message {
				r := srv.reply(got, true, 0, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "evil")}})
				r.Header.VerDTD, r.Header.VerProto = tt.dtd, tt.proto
				return r
			}}
			c := newAgent(t, tr, srv, nil)
			res, err := c.Run(context.Background(), client.Trigger{})
			if !errors.Is(err, client.ErrProtocol) || res.State != client.StateFailed {
				t.Fatalf("err = %v, state %s; want a protocol error", err, res.State)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "not supported") {
				t.Errorf("error %q does not say %s is not supported", err, tt.want)
			}
			if v := value(t, tr, "./Vendor/Name"); v != "acme" {
				t.Errorf("the refused message's Replace ran: %q", v)
			}
		})
	}
}

// OMA-TS-DM_RepPro-V1_1: a server speaking DM 1.1 (VerDTD 1.1, VerProto
// DM/1.1) is read like a DM 1.2 one.
func TestAgent_ReadsDM11ServerMessage(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t, enc: enc}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					r := srv.reply(got, true, 0, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "dm11")}})
					r.Header.VerDTD, r.Header.VerProto = syncml.VerDTD11, syncml.VerProto11
					return r
				},
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					r := srv.reply(got, true, 0)
					r.Header.VerDTD, r.Header.VerProto = syncml.VerDTD11, syncml.VerProto11
					return r
				},
			}
			c := newAgent(t, tr, srv, func(cfg *client.Config) { cfg.Encoding = enc })
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatal(err)
			}
			if v := value(t, tr, "./Vendor/Name"); v != "dm11" {
				t.Errorf("Replace of the DM 1.1 server not applied: %q", v)
			}
		})
	}
}

// OMA-TS-SyncML_RepPro-V1_2, Status element type and status 406: a command
// OMA DM does not define (a DS Sync from a confused server) gets 406
// Optional feature not supported; the other commands of the message run.
func TestAgent_AnswersDSCommandWith406AndRunsTheRest(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			r := srv.reply(got, true, 0,
				&syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "after")}})
			r.Body = append(r.Body[:1], append([]syncml.Command{&syncml.Unknown{Name: "Sync", CmdID: "9", DS: true, Code: syncml.StatusOptionalNotSupported}}, r.Body[1:]...)...)
			return r
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			if s := summary(got); !strings.Contains(s, "Status 9 Sync 406") || !strings.Contains(s, "Status 2 Replace 200") {
				t.Errorf("agent answered %q, want Sync 406 and Replace 200", s)
			}
			return srv.reply(got, true, 0)
		},
	}
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatal(err)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "after" {
		t.Errorf("the Replace after the Sync did not run: %q", v)
	}
}
