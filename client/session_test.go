package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

func TestAgent_ClientInitiatedSessionSendsDevInfoAndEndsOnStatusesOnly(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t, enc: enc}
			srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message {
				return srv.reply(got, true, 0, &syncml.Status{MsgRef: "1", CmdRef: "1", Cmd: "Alert", Data: 200})
			}}
			c := newAgent(t, tr, srv, func(c *client.Config) { c.Encoding = enc })
			res, err := c.Run(context.Background(), client.Trigger{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.State != client.StateCompleted || res.MessagesSent != 1 || res.MessagesReceived != 1 {
				t.Fatalf("result = %+v", res)
			}
			pkg1 := srv.got[0]
			if got, want := summary(pkg1), "Alert 1201 | Replace | Final"; got != want {
				t.Fatalf("pkg1 = %q, want %q", got, want)
			}
			h := pkg1.Header
			if h.VerDTD != "1.2" || h.VerProto != "DM/1.2" || h.MsgID != "1" || h.Target.LocURI != testServerURL ||
				h.Source.LocURI != testDeviceID || h.Meta == nil || h.Meta.MaxMsgSize == 0 || h.Meta.MaxObjSize == 0 {
				t.Fatalf("pkg1 header = %+v", h)
			}
			rep := pkg1.Body[1].(*syncml.Replace)
			seen := map[string]string{}
			for _, it := range rep.Items {
				seen[it.Source.LocURI] = it.Data.String()
			}
			if seen["./DevInfo/DevId"] != testDeviceID || seen["./DevInfo/Lang"] != "en-US" || len(seen) != 5 {
				t.Fatalf("DevInfo items = %v", seen)
			}
		})
	}
}

func TestAgent_AnswersEveryCommandWithItsStatus(t *testing.T) {
	tests := []struct {
		name   string
		cmd    syncml.Command
		want   string // summary of the agent's package 3 (after the SyncHdr status)
		verify func(t *testing.T, m *syncml.Message)
	}{
		{name: "Add creates a leaf", cmd: &syncml.Add{Items: []syncml.Item{item("./Vendor/Size", "12")}}, want: "Status 2 Add 200"},
		{name: "Add of an existing node is 418", cmd: &syncml.Add{Items: []syncml.Item{item("./Vendor/Name", "x")}}, want: "Status 2 Add 418"},
		{name: "Replace overwrites", cmd: &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "zeta")}}, want: "Status 2 Replace 200"},
		{name: "Replace of a missing node is 404", cmd: &syncml.Replace{Items: []syncml.Item{item("./Vendor/None", "x")}}, want: "Status 2 Replace 404"},
		{name: "Delete removes", cmd: &syncml.Delete{Items: []syncml.Item{target("./Vendor/Color")}}, want: "Status 2 Delete 200"},
		{name: "Delete of a missing node is 404", cmd: &syncml.Delete{Items: []syncml.Item{target("./Vendor/None")}}, want: "Status 2 Delete 404"},
		{name: "Get returns Results after its Status", cmd: &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}}, want: "Status 2 Get 200 | Results 2",
			verify: func(t *testing.T, m *syncml.Message) {
				it := results(m)[0].Items[0]
				if it.Source.LocURI != "./Vendor/Name" || it.Data.String() != "acme" {
					t.Fatalf("Results item = %+v %q", it.Source, it.Data.String())
				}
			}},
		{name: "Get of an interior node lists children", cmd: &syncml.Get{Items: []syncml.Item{target("./Vendor")}}, want: "Status 2 Get 200 | Results 2",
			verify: func(t *testing.T, m *syncml.Message) {
				it := results(m)[0].Items[0]
				if it.Meta == nil || it.Meta.Format != "node" || (it.Data.String() != "Name/Color" && it.Data.String() != "Color/Name") {
					t.Fatalf("child list = %+v %q", it.Meta, it.Data.String())
				}
			}},
		{name: "Get ?prop=ACL", cmd: &syncml.Get{Items: []syncml.Item{target("./Secret?prop=ACL")}}, want: "Status 2 Get 425"},
		{name: "Get ?prop=Format", cmd: &syncml.Get{Items: []syncml.Item{target("./Vendor/Name?prop=Format")}}, want: "Status 2 Get 200 | Results 2",
			verify: func(t *testing.T, m *syncml.Message) {
				if d := results(m)[0].Items[0].Data.String(); d != "chr" {
					t.Fatalf("Format property = %q", d)
				}
			}},
		{name: "Get ?list=Struct", cmd: &syncml.Get{Items: []syncml.Item{target("./Vendor?list=Struct")}}, want: "Status 2 Get 200 | Results 2",
			verify: func(t *testing.T, m *syncml.Message) {
				if n := len(results(m)[0].Items); n != 3 {
					t.Fatalf("?list=Struct gave %d items, want 3", n)
				}
			}},
		{name: "Get of a missing node is 404 without Results", cmd: &syncml.Get{Items: []syncml.Item{target("./Nope")}}, want: "Status 2 Get 404"},
		{name: "Get denied by ACL is 425", cmd: &syncml.Get{Items: []syncml.Item{target("./Secret/Pin")}}, want: "Status 2 Get 425"},
		{name: "Replace denied by ACL is 425", cmd: &syncml.Replace{Items: []syncml.Item{item("./Secret/Pin", "0000")}}, want: "Status 2 Replace 425"},
		{name: "Copy copies a leaf value", cmd: &syncml.Copy{Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./Vendor/Copy"}, Source: &syncml.Location{LocURI: "./Vendor/Name"}}}}, want: "Status 2 Copy 200"},
		{name: "Exec of a node without handler fails", cmd: &syncml.Exec{Items: []syncml.Item{target("./Vendor/Name")}}, want: "Status 2 Exec 405"},
		{name: "Alert 1222 is acknowledged", cmd: &syncml.Alert{Data: syncml.AlertNextMessage}, want: "Status 2 Alert 200"},
		{name: "unknown alert is 406", cmd: &syncml.Alert{Data: 1299}, want: "Status 2 Alert 406"},
		{name: "UI alert without UI is 406", cmd: &syncml.Alert{Data: syncml.AlertDisplay, Items: []syncml.Item{{Data: syncml.TextData("")}, {Data: syncml.TextData("hi")}}}, want: "Status 2 Alert 406"},
		{name: "Add without items is 400", cmd: &syncml.Add{}, want: "Status 2 Add 400"},
		{name: "base64 value is decoded", cmd: &syncml.Add{Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./Vendor/Bin"}, Meta: &syncml.Meta{Format: "b64"}, Data: syncml.TextData("AAEC")}}}, want: "Status 2 Add 200"},
		{name: "bad base64 is 400", cmd: &syncml.Add{Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./Vendor/Bin"}, Meta: &syncml.Meta{Format: "b64"}, Data: syncml.TextData("!!")}}}, want: "Status 2 Add 400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, tc.cmd) },
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, nil)
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			pkg3 := srv.got[1]
			want := "Status 0 SyncHdr 200 | " + tc.want + " | Final"
			if got := summary(pkg3); got != want {
				t.Fatalf("pkg3 = %q\nwant   %q", got, want)
			}
			if tc.verify != nil {
				tc.verify(t, pkg3)
			}
		})
	}
}

func TestAgent_AtomicFailureRollsBackAndReports216(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0, &syncml.Atomic{Commands: []syncml.Command{
				&syncml.Add{CmdID: "10", Items: []syncml.Item{item("./Vendor/New", "1")}},
				&syncml.Replace{CmdID: "11", Items: []syncml.Item{item("./Vendor/Name", "changed")}},
				&syncml.Replace{CmdID: "12", Items: []syncml.Item{item("./Vendor/Missing", "x")}},
				&syncml.Delete{CmdID: "13", Items: []syncml.Item{target("./Vendor/Color")}},
			}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "Status 0 SyncHdr 200 | Status 2 Atomic 507 | Status 10 Add 216 | Status 11 Replace 216 | Status 12 Replace 404 | Status 13 Delete 215 | Final"
	if got := summary(srv.got[1]); got != want {
		t.Fatalf("pkg3 = %q\nwant   %q", got, want)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("./Vendor/Name = %q after rollback", v)
	}
	if v := value(t, tr, "./Vendor/New"); v != "<404>" {
		t.Fatalf("./Vendor/New = %q after rollback", v)
	}
}

func TestAgent_AtomicRefusesGetInside(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0, &syncml.Atomic{Commands: []syncml.Command{
				&syncml.Replace{CmdID: "10", Items: []syncml.Item{item("./Vendor/Name", "changed")}},
				&syncml.Get{CmdID: "11", Items: []syncml.Item{target("./Vendor/Name")}},
			}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "Status 0 SyncHdr 200 | Status 2 Atomic 507 | Status 10 Replace 216 | Status 11 Get 500 | Final"
	if got := summary(srv.got[1]); got != want {
		t.Fatalf("pkg3 = %q\nwant   %q", got, want)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("./Vendor/Name = %q after rollback", v)
	}
}

func TestAgent_AtomicSuccessCommits(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0, &syncml.Atomic{Commands: []syncml.Command{
				&syncml.Add{CmdID: "10", Items: []syncml.Item{item("./Vendor/New", "1")}},
				&syncml.Replace{CmdID: "11", Items: []syncml.Item{item("./Vendor/Name", "changed")}},
			}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "Status 0 SyncHdr 200 | Status 2 Atomic 200 | Status 10 Add 200 | Status 11 Replace 200 | Final"
	if got := summary(srv.got[1]); got != want {
		t.Fatalf("pkg3 = %q\nwant   %q", got, want)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "changed" {
		t.Fatalf("./Vendor/Name = %q after commit", v)
	}
}

func uiAlert(code syncml.AlertCode, opts, text string, choices ...string) *syncml.Alert {
	a := &syncml.Alert{Data: code, Items: []syncml.Item{{Data: syncml.TextData(opts)}, {Data: syncml.TextData(text)}}}
	for _, c := range choices {
		a.Items = append(a.Items, syncml.Item{Data: syncml.TextData(c)})
	}
	return a
}

func TestAgent_SequenceStopsAfterRejectedConfirmation(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			a := uiAlert(syncml.AlertConfirmOrReject, "MAXDT=30", "Update?")
			a.CmdID = "10"
			return srv.reply(got, true, 0, &syncml.Sequence{Commands: []syncml.Command{
				&syncml.Replace{CmdID: "9", Items: []syncml.Item{item("./Vendor/Color", "red")}},
				a,
				&syncml.Replace{CmdID: "11", Items: []syncml.Item{item("./Vendor/Name", "changed")}},
			}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, func(c *client.Config) { c.UI = client.AutoAnswer{Reject: true} })
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "Status 0 SyncHdr 200 | Status 2 Sequence 200 | Status 9 Replace 200 | Status 10 Alert 304 | Status 11 Replace 215 | Final"
	if got := summary(srv.got[1]); got != want {
		t.Fatalf("pkg3 = %q\nwant   %q", got, want)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("skipped Replace ran: %q", v)
	}
}

// TestAgent_SequenceStopsAfterAFailedMember: OMA-TS-DM_RepPro-V1_2
// (Sequence): members run in order, members skipped are answered 215. Once a
// member fails, the ones after it (an Exec that depends on the Replace of its
// parameters) are not executed.
func TestAgent_SequenceStopsAfterAFailedMember(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0, &syncml.Sequence{Commands: []syncml.Command{
				&syncml.Replace{CmdID: "9", Items: []syncml.Item{item("./Vendor/Color", "red")}},
				&syncml.Replace{CmdID: "10", Items: []syncml.Item{item("./Vendor/NoSuchNode", "x")}},
				&syncml.Replace{CmdID: "11", Items: []syncml.Item{item("./Vendor/Name", "changed")}},
				&syncml.Exec{CmdID: "12", Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./Vendor/Run"}}}},
			}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "Status 0 SyncHdr 200 | Status 2 Sequence 200 | Status 9 Replace 200 | Status 10 Replace 404 | Status 11 Replace 215 | Status 12 Exec 215 | Final"
	if got := summary(srv.got[1]); got != want {
		t.Fatalf("pkg3 = %q\nwant   %q", got, want)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("a member after the failed one ran: %q", v)
	}
}

func TestAgent_UIAlertsAreAnsweredThroughTheUI(t *testing.T) {
	slow := client.UIFunc(func(ctx context.Context, a *client.UIAlert) (*client.UIReply, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	tests := []struct {
		name  string
		ui    client.UI
		alert *syncml.Alert
		want  string
	}{
		{"display", client.AutoAnswer{}, uiAlert(syncml.AlertDisplay, "MINDT=1", "Hello"), "Status 2 Alert 200"},
		{"confirm yes", client.AutoAnswer{}, uiAlert(syncml.AlertConfirmOrReject, "", "Ok?"), "Status 2 Alert 200"},
		{"confirm no", client.AutoAnswer{Reject: true}, uiAlert(syncml.AlertConfirmOrReject, "", "Ok?"), "Status 2 Alert 304"},
		{"cancel", client.AutoAnswer{Cancel: true}, uiAlert(syncml.AlertConfirmOrReject, "", "Ok?"), "Status 2 Alert 214"},
		{"text input", client.AutoAnswer{Text: "hello world"}, uiAlert(syncml.AlertTextInput, "MAXLEN=20&IT=A&ET=T", "Name?"), "Status 2 Alert 200 [hello world]"},
		{"text default", client.AutoAnswer{}, uiAlert(syncml.AlertTextInput, "DR=a+b", "Name?"), "Status 2 Alert 200 [a b]"},
		{"numeric input rejects letters", client.AutoAnswer{Text: "abc"}, uiAlert(syncml.AlertTextInput, "IT=N", "PIN?"), "Status 2 Alert 214"},
		{"single choice", client.AutoAnswer{Chosen: []int{2}}, uiAlert(syncml.AlertSingleChoice, "", "Pick", "a", "b", "c"), "Status 2 Alert 200 [2]"},
		{"multiple choice default", client.AutoAnswer{}, uiAlert(syncml.AlertMultipleChoice, "DR=2-3", "Pick", "a", "b", "c"), "Status 2 Alert 200 [2] [3]"},
		{"no answer within MAXDT", slow, uiAlert(syncml.AlertConfirmOrReject, "MAXDT=1", "Ok?"), "Status 2 Alert 408"},
		{"missing text item", client.AutoAnswer{}, &syncml.Alert{Data: syncml.AlertDisplay}, "Status 2 Alert 412"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, tc.alert) },
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, func(c *client.Config) { c.UI = tc.ui })
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			want := "Status 0 SyncHdr 200 | " + tc.want + " | Final"
			if got := summary(srv.got[1]); got != want {
				t.Fatalf("pkg3 = %q\nwant   %q", got, want)
			}
		})
	}
}

// OMA-TS-DM_Protocol-V1_2 §10.3: the client MUST skip, without
// an error message, every optional parameter it cannot process; the alert is
// still shown and answered. Only a structurally incomplete alert is 412.
func TestAgent_UIAlertSkipsOptionsItCannotProcess(t *testing.T) {
	tests := []struct {
		name  string
		ui    client.UI
		alert *syncml.Alert
		want  string
	}{
		{"non-numeric MAXDT", client.AutoAnswer{Text: "abc"}, uiAlert(syncml.AlertTextInput, "MAXDT=soon", "x"), "Status 2 Alert 200 [abc]"},
		{"unknown IT and ET, bad MAXLEN", client.AutoAnswer{Text: "abc"}, uiAlert(syncml.AlertTextInput, "IT=Q&ET=X&MAXLEN=many", "x"), "Status 2 Alert 200 [abc]"},
		{"negative MINDT", client.AutoAnswer{}, uiAlert(syncml.AlertDisplay, "MINDT=-3", "Hello"), "Status 2 Alert 200"},
		{"malformed escape and unknown name", client.AutoAnswer{}, uiAlert(syncml.AlertConfirmOrReject, "%zz=1&FOO=bar&MAXDT=", "Ok?"), "Status 2 Alert 200"},
		{"good option next to a bad one still applies", client.AutoAnswer{Text: "abc"}, uiAlert(syncml.AlertTextInput, "MAXDT=x&IT=N", "PIN?"), "Status 2 Alert 214"},
		{"choice alert without choices is incomplete", client.AutoAnswer{}, uiAlert(syncml.AlertSingleChoice, "", "Pick"), "Status 2 Alert 412"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, tc.alert) },
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, newTree(t), srv, func(c *client.Config) { c.UI = tc.ui })
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			want := "Status 0 SyncHdr 200 | " + tc.want + " | Final"
			if got := summary(srv.got[1]); got != want {
				t.Fatalf("pkg3 = %q\nwant   %q", got, want)
			}
		})
	}
}

func TestAgent_UICancelSkipsTheRestOfThePackage(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0, uiAlert(syncml.AlertConfirmOrReject, "", "Go?"),
				&syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "changed")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, func(c *client.Config) { c.UI = client.AutoAnswer{Cancel: true} })
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "Status 0 SyncHdr 200 | Status 2 Alert 214 | Status 3 Replace 215 | Final"
	if got := summary(srv.got[1]); got != want {
		t.Fatalf("pkg3 = %q\nwant   %q", got, want)
	}
}

func TestAgent_ServerAbortEndsTheSessionWithoutReply(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0, &syncml.Alert{Data: syncml.AlertSessionAbort})
		},
	}
	c := newAgent(t, tr, srv, nil)
	res, err := c.Run(context.Background(), client.Trigger{})
	if !errors.Is(err, client.ErrAborted) || res.State != client.StateAborted || len(srv.got) != 1 {
		t.Fatalf("err = %v, state = %s, messages = %d", err, res.State, len(srv.got))
	}
}

func TestAgent_CancelledContextSendsAbort(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			cancel()
			return srv.reply(got, true, 0, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, nil)
	res, err := c.Run(ctx, client.Trigger{})
	if !errors.Is(err, client.ErrCancelled) || res.State != client.StateAborted {
		t.Fatalf("err = %v, state = %s", err, res.State)
	}
	if got, want := summary(srv.got[1]), "Status 0 SyncHdr 200 | Status 2 Get 200 | Results 2 | Alert 1223 | Final"; got != want {
		t.Fatalf("abort message = %q\nwant            %q", got, want)
	}
}

func TestAgent_ServerAbortRunsNothingElseInItsMessage(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0,
				&syncml.Status{MsgRef: "1", CmdRef: "1", Cmd: "Alert", Data: syncml.StatusOK},
				&syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "changed")}},
				&syncml.Alert{Data: syncml.AlertSessionAbort})
		},
	}
	c := newAgent(t, tr, srv, nil)
	res, err := c.Run(context.Background(), client.Trigger{})
	if !errors.Is(err, client.ErrAborted) || res.State != client.StateAborted || len(srv.got) != 1 {
		t.Fatalf("err = %v, state = %s, messages = %d", err, res.State, len(srv.got))
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("command beside the abort ran: %q", v)
	}
	if len(res.ServerStatuses) != 1 || len(res.Commands) != 0 {
		t.Fatalf("statuses %d, commands %d", len(res.ServerStatuses), len(res.Commands))
	}
}
