package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func TestE2E_Package0OverUDPWakesTheListeningAgent(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		l, err := notification.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		type outcome struct {
			res *client.SessionResult
			err error
		}
		woke := make(chan outcome, 1)
		served := make(chan error, 1)
		go func() {
			served <- l.Serve(ctx, func(p *notification.Package0, _ []byte) {
				cp := *p
				res, err := a.HandlePackage0(ctx, &cp)
				select {
				case woke <- outcome{res, err}:
				default:
				}
			})
		}()
		defer func() {
			cancel()
			l.Close()
			<-served
		}()
		d, err := st.GetDevice(ctx, a.ID())
		if err != nil {
			t.Fatal(err)
		}
		d.NotifyAddr = "udp://" + l.Addr().String()
		if err := st.UpdateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		id := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevInfo/DevId")})
		sid, err := n.engine.NotifyWith(ctx, a.ID(), serverNotify())
		if err != nil {
			t.Fatal(err)
		}
		select {
		case o := <-woke:
			if o.err != nil {
				t.Fatalf("notified session: %v", o.err)
			}
			if o.res.Initiator != client.ServerInitiated || o.res.SessionID != sid {
				t.Errorf("session %s by %s, want server-initiated %s", o.res.SessionID, o.res.Initiator, sid)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("package 0 did not wake the agent")
		}
		if j := job(t, st, id); j.State != storage.JobDone || j.Results[0].Data != a.ID() {
			t.Errorf("job %s %+v", j.State, j.Results)
		}
	})
}

// serverNotify asks for a background session, as an operator's job would.
func serverNotify() server.NotifyOptions {
	return server.NotifyOptions{UIMode: notification.UIBackground}
}
