package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

func TestAgent_EngineHoldsADisplayAlertForMINDT(t *testing.T) {
	tests := []struct {
		name  string
		alert *syncml.Alert
		wait  time.Duration // the engine's wait, 0 for none
	}{
		{"display waits MINDT", uiAlert(syncml.AlertDisplay, "MINDT=10", "Updating"), 10 * time.Second},
		{"display without MINDT does not wait", uiAlert(syncml.AlertDisplay, "", "Updating"), 0},
		{"confirmation ends with the user's answer", uiAlert(syncml.AlertConfirmOrReject, "MINDT=10", "Ok?"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, tc.alert) },
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			clock := &instant{}
			// The UI returns at once, as a terminal does for a display.
			c := newAgent(t, tr, srv, func(c *client.Config) { c.UI = client.AutoAnswer{}; c.Clock = clock })
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got, want := summary(srv.got[1]), "Status 0 SyncHdr 200 | Status 2 Alert 200 | Final"; got != want {
				t.Fatalf("pkg3 = %q\nwant   %q", got, want)
			}
			var waited time.Duration
			for _, w := range clock.waits {
				waited += w
			}
			if waited != tc.wait {
				t.Fatalf("engine waited %v (%v), want %v", waited, clock.waits, tc.wait)
			}
		})
	}
}

func TestAgent_MAXDTExpirySendsTheDefaultResponseOr408(t *testing.T) {
	// The user never answers; the clock makes MAXDT expire at once.
	absent := client.UIFunc(func(ctx context.Context, _ *client.UIAlert) (*client.UIReply, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	tests := []struct {
		name  string
		alert *syncml.Alert
		want  string
	}{
		{"confirm with DR=1 accepts", uiAlert(syncml.AlertConfirmOrReject, "MAXDT=30&DR=1", "Ok?"), "Status 2 Alert 200 | Status 3 Replace 200"},
		{"confirm with DR=0 is No", uiAlert(syncml.AlertConfirmOrReject, "MAXDT=30&DR=0", "Ok?"), "Status 2 Alert 304 | Status 3 Replace 200"},
		{"text input takes DR", uiAlert(syncml.AlertTextInput, "MAXDT=30&DR=guest+user", "Name?"), "Status 2 Alert 200 [guest user] | Status 3 Replace 200"},
		{"single choice takes DR", uiAlert(syncml.AlertSingleChoice, "MAXDT=30&DR=2", "Pick", "a", "b"), "Status 2 Alert 200 [2] | Status 3 Replace 200"},
		{"multiple choice takes DR", uiAlert(syncml.AlertMultipleChoice, "MAXDT=30&DR=1-3", "Pick", "a", "b", "c"), "Status 2 Alert 200 [1] [3] | Status 3 Replace 200"},
		{"no default is 408 and stops the package", uiAlert(syncml.AlertConfirmOrReject, "MAXDT=30", "Ok?"), "Status 2 Alert 408 | Status 3 Replace 215"},
		{"invalid default is 408", uiAlert(syncml.AlertTextInput, "MAXDT=30&DR=abc&IT=N", "PIN?"), "Status 2 Alert 408 | Status 3 Replace 215"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					return srv.reply(got, true, 0, tc.alert, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "x")}})
				},
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			clock := &instant{}
			c := newAgent(t, tr, srv, func(c *client.Config) { c.UI = absent; c.Clock = clock })
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			want := "Status 0 SyncHdr 200 | " + tc.want + " | Final"
			if got := summary(srv.got[1]); got != want {
				t.Fatalf("pkg3 = %q\nwant   %q", got, want)
			}
			if len(clock.waits) != 1 || clock.waits[0] != 30*time.Second {
				t.Fatalf("MAXDT timer = %v, want one of 30s", clock.waits)
			}
		})
	}
}
