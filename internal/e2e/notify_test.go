package e2e_test

import (
	"context"
	"net"
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

// The agent's notification intake (client.Inbox) against the real server:
// each trigger the server sends starts one session with its session id, and
// the first trigger's datagram replayed over UDP afterwards starts none
// (OMA-TS-DM_Notification-V1_2 §6.2.2.10).
func TestE2E_Package0ThroughTheInboxStartsOneSessionPerTrigger(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		c := a.Client()
		in := c.NewInbox(client.InboxOptions{})
		l, err := notification.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		type offered struct {
			v client.Verdict
			b []byte
		}
		verdicts := make(chan offered, 16)
		served := make(chan error, 1)
		go func() {
			served <- l.ServeRaw(ctx, func(b []byte) {
				verdicts <- offered{in.Offer(b), append([]byte(nil), b...)}
			})
		}()
		type outcome struct {
			res *client.SessionResult
			err error
		}
		sessions := make(chan outcome, 4)
		ran := make(chan struct{})
		go func() {
			defer close(ran)
			for {
				select {
				case <-ctx.Done():
					return
				case <-in.Ready():
				}
				for nt := in.Take(); nt != nil; nt = in.Take() {
					res, err := c.RunNotification(ctx, nt)
					in.Done(nt, err)
					sessions <- outcome{res, err}
				}
			}
		}()
		defer func() {
			cancel()
			l.Close()
			<-served
			<-ran
		}()
		d, err := st.GetDevice(ctx, a.ID())
		if err != nil {
			t.Fatal(err)
		}
		d.NotifyAddr = "udp://" + l.Addr().String()
		if err := st.UpdateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		wait := func() offered {
			t.Helper()
			select {
			case o := <-verdicts:
				return o
			case <-time.After(15 * time.Second): // bounds a hang only
				t.Fatal("no datagram reached the agent")
			}
			return offered{}
		}
		session := func(want string) {
			t.Helper()
			select {
			case o := <-sessions:
				if o.err != nil || o.res.SessionID != want || o.res.Initiator != client.ServerInitiated {
					t.Fatalf("session %s by %s (%v), want server-initiated %s", o.res.SessionID, o.res.Initiator, o.err, want)
				}
			case <-time.After(15 * time.Second): // bounds a hang only
				t.Fatal("the package 0 started no session")
			}
		}
		sid, err := n.engine.NotifyWith(ctx, a.ID(), serverNotify())
		if err != nil {
			t.Fatal(err)
		}
		first := wait()
		if first.v != client.VerdictQueued {
			t.Fatalf("first trigger: %s", first.v)
		}
		session(sid)

		conn, err := net.Dial("udp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write(first.b); err != nil {
			t.Fatal(err)
		}
		if o := wait(); o.v != client.VerdictReplayed {
			t.Fatalf("replayed trigger: %s", o.v)
		}

		sid2, err := n.engine.NotifyWith(ctx, a.ID(), serverNotify())
		if err != nil {
			t.Fatal(err)
		}
		if o := wait(); o.v != client.VerdictQueued {
			t.Fatalf("second trigger: %s", o.v)
		}
		session(sid2)
		if st := in.Stats(); st.Count(client.VerdictQueued) != 2 || st.Count(client.VerdictReplayed) != 1 {
			t.Fatalf("stats %v", st)
		}
	})
}
