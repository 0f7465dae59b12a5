package e2e_test

// The start of the security abuse suite: forged, unauthenticated and
// probing traffic against the real server over HTTP on 127.0.0.1, with real
// agents beside it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// forger builds messages claiming to come from device id.
type forger struct {
	id, user string
	enc      syncml.Encoding
}

func (f forger) message(session string, msgID int, cred *syncml.Cred, cmds ...syncml.Command) ([]byte, error) {
	m := &syncml.Message{Final: true, Body: cmds, Header: syncml.Header{
		VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: session, MsgID: strconv.Itoa(msgID),
		Target: syncml.Location{LocURI: "omadm"}, Source: syncml.Location{LocURI: f.id, LocName: f.user}, Cred: cred,
	}}
	return syncml.Encode(m, f.enc)
}

func (f forger) pkg1(session string, msgID int, cred *syncml.Cred) ([]byte, error) {
	return f.message(session, msgID, cred,
		&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
		&syncml.Replace{CmdID: "2", Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/DevId"},
			Meta: &syncml.Meta{Format: "chr", Type: "text/plain"}, Data: syncml.TextData(f.id)}}})
}

// answer is one reply as the wire carried it.
type answer struct {
	httpStatus int
	msg        *syncml.Message
	hdr        *syncml.Status
}

// send posts body (with an x-syncml-hmac header when mac is set) and decodes
// the SyncML reply. Safe for concurrent use; errors instead of t.Fatal.
func send(c *http.Client, url string, enc syncml.Encoding, body []byte, mac string) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", enc.ContentType())
	if mac != "" {
		req.Header.Set(auth.HeaderHMAC, mac)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	a := answer{httpStatus: resp.StatusCode}
	if a.msg, _, err = syncml.Decode(b, resp.Header.Get("Content-Type"), nil); err != nil {
		return a, fmt.Errorf("HTTP %d, reply does not decode: %w", resp.StatusCode, err)
	}
	for _, cmd := range a.msg.Body {
		if s, ok := cmd.(*syncml.Status); ok && s.CmdRef == "0" {
			a.hdr = s
			break
		}
	}
	if a.hdr == nil {
		return a, errors.New("reply has no SyncHdr Status")
	}
	return a, nil
}

func mustSend(t *testing.T, url string, enc syncml.Encoding, body []byte, mac string) answer {
	t.Helper()
	a, err := send(http.DefaultClient, url, enc, body, mac)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func chalNonce(t *testing.T, s *syncml.Status) []byte {
	t.Helper()
	if s.Chal == nil {
		t.Fatalf("status %d carries no Chal", s.Data)
	}
	n, err := auth.ChalNonce(s.Chal)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func events(t *testing.T, n *node, devID string) map[string]int {
	t.Helper()
	n.engine.Flush(context.Background())
	evs, err := n.store.ListEvents(context.Background(), devID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	return kinds
}

// counter sums the engine's counter name (only the series with label
// "name=value" when label is set).
func counter(t *testing.T, e *server.Engine, name, label string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				match = match || lp.GetName()+"="+lp.GetValue() == label
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// commands returns the non-Status commands of m.
func commands(m *syncml.Message) []syncml.Command {
	var out []syncml.Command
	for _, c := range m.Body {
		if _, ok := c.(*syncml.Status); !ok {
			out = append(out, c)
		}
	}
	return out
}

// OMA-TS-DM_Security-V1_2 §5.3.4: a stored next nonce is never overwritten
// on behalf of an unauthenticated peer. A message that fails authentication
// changes nothing stored: no session, no nonce, no MsgID, no device update,
// no session event; its challenge carries the device's current nonce.
func TestE2E_FailedAuthenticationChangesNoState(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		ctx := context.Background()
		c := a.Credentials()
		d, err := st.GetDevice(ctx, a.ID())
		if err != nil {
			t.Fatal(err)
		}
		d.ServerNonce = []byte("the-device-s-current-nonce")
		if err := st.UpdateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		before, _ := st.GetDevice(ctx, a.ID())
		f := forger{id: a.ID(), user: c.Username, enc: enc}

		tests := []struct {
			name string
			cred *syncml.Cred
			want syncml.StatusCode
		}{
			{"no credentials", nil, syncml.StatusMissingCredentials},
			{"md5 with a wrong password", auth.MakeCred(syncml.AuthMD5, c.Username, "guess", d.ServerNonce), syncml.StatusInvalidCredentials},
			{"md5 with a stale nonce", auth.MakeCred(syncml.AuthMD5, c.Username, c.Password, []byte("stale")), syncml.StatusInvalidCredentials},
			{"basic where md5 is required", auth.MakeCred(syncml.AuthBasic, c.Username, c.Password, nil), syncml.StatusInvalidCredentials},
		}
		for i, tc := range tests {
			body, err := f.pkg1("5A", i+1, tc.cred)
			if err != nil {
				t.Fatal(err)
			}
			r := mustSend(t, n.url, enc, body, "")
			if r.hdr.Data != tc.want || !bytes.Equal(chalNonce(t, r.hdr), before.ServerNonce) {
				t.Errorf("%s: %d nonce %q, want %d with the current nonce", tc.name, r.hdr.Data, chalNonce(t, r.hdr), tc.want)
			}
			if len(commands(r.msg)) != 0 || r.msg.Header.RespURI != "" {
				t.Errorf("%s: failure reply has commands %d, RespURI %q", tc.name, len(commands(r.msg)), r.msg.Header.RespURI)
			}
		}
		after, _ := st.GetDevice(ctx, a.ID())
		if !bytes.Equal(after.ServerNonce, before.ServerNonce) || !after.LastSeen.Equal(before.LastSeen) {
			t.Errorf("device changed: nonce %q → %q, last seen %v → %v", before.ServerNonce, after.ServerNonce, before.LastSeen, after.LastSeen)
		}
		if _, err := st.GetSession(ctx, a.ID(), "5A"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("session stored for failed attempts: %v", err)
		}
		if ev := events(t, n, a.ID()); ev["session-start"]+ev["session-end"]+ev["session-abort"] != 0 || ev["auth-failure"] > 1 {
			t.Errorf("events %v, want at most one auth-failure summary", ev)
		}

		// The attacker's SessionID is the device's next: its package 1 is
		// not disturbed (MsgID 1 again: nothing was stored).
		body, err := f.pkg1("5A", 1, auth.MakeCred(syncml.AuthMD5, c.Username, c.Password, before.ServerNonce))
		if err != nil {
			t.Fatal(err)
		}
		if r := mustSend(t, n.url, enc, body, ""); r.hdr.Data != syncml.StatusOK {
			t.Fatalf("the device's own package 1 on the attacker's SessionID: %d, want 200", r.hdr.Data)
		}
	})
}

// A live session belongs to the device that authenticated it: a forged
// message with the same device id, SessionID and next MsgID (without the
// RespURI token) is refused and does not disturb the session.
func TestE2E_ForgedMessageInALiveSessionDoesNotDisturbIt(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		f := forger{id: a.ID(), user: a.Credentials().Username, enc: enc}
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
		var sid string
		var forged answer
		var forgeErr error
		a.route.seen = func(i int, req *client.Request) {
			if m, _, err := syncml.Decode(req.Body, req.ContentType, nil); err == nil && i == 1 {
				sid = m.Header.SessionID
			}
		}
		a.route.after = func(i int, _ *client.Response) error {
			if i != 1 {
				return nil
			}
			body, err := f.message(sid, 2, auth.MakeCred(syncml.AuthMD5, f.user, "guess", nil),
				&syncml.Status{CmdID: "1", MsgRef: "1", CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK})
			if err == nil {
				forged, forgeErr = send(http.DefaultClient, n.url, enc, body, "")
			}
			return nil
		}
		a.session(t)
		if forgeErr != nil || forged.hdr.Data != syncml.StatusInvalidCredentials || forged.hdr.Chal == nil {
			t.Fatalf("forged message: %+v, %v; want 401 with a Chal", forged.hdr, forgeErr)
		}
		if j := job(t, st, get); j.State != storage.JobDone || j.Results[0].Data != a.Identity().FwV {
			t.Errorf("the real session's job: %s %+v", j.State, j.Results)
		}
	})
}

// OMA-TS-DM_Security-V1_2 §5.3.3/§5.3.4: failed authentications never rotate
// the device's nonce, so a real device keeps authenticating while hostile
// clients send bad credentials for its id as fast as they can: at least 9
// of its 10 sessions succeed, with md5 and with HMAC.
func TestE2E_ForgedTrafficDoesNotLockOutTheDevice(t *testing.T) {
	for _, scheme := range []string{sim.AuthMD5, sim.AuthHMAC} {
		t.Run(scheme, func(t *testing.T) {
			matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
				st := b.open(t)
				n := startNode(t, st)
				a := newAgent(t, st, n.url, enc, withAuth(scheme),
					withRetry(client.RetryPolicy{Attempts: 1, Timeout: 20 * time.Second}))
				f := forger{id: a.ID(), user: a.Credentials().Username, enc: enc}
				var sid atomic.Value
				sid.Store("1")
				a.route.seen = func(_ int, req *client.Request) {
					if m, _, err := syncml.Decode(req.Body, req.ContentType, nil); err == nil {
						sid.Store(m.Header.SessionID)
					}
				}

				// Each session starts after 20 more forged messages, so that
				// the flood runs before and during every one of them.
				tick := make(chan struct{}, 1)
				var done atomic.Bool
				var sent, failed atomic.Int64
				var wg sync.WaitGroup
				hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
				t.Cleanup(hc.CloseIdleConnections)
				for g := range 3 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < 100_000 && !done.Load(); i++ {
							session, msgID := strconv.Itoa(1000+g*100_000+i), 1
							if i%2 == 0 {
								// The device's own SessionID and MsgIDs.
								session, msgID = sid.Load().(string), 1+i%4
							}
							var cred *syncml.Cred
							mac := ""
							if scheme == sim.AuthMD5 {
								cred = auth.MakeCred(syncml.AuthMD5, f.user, "guess", []byte(session))
							}
							body, err := f.pkg1(session, msgID, cred)
							if err != nil {
								failed.Add(1)
								return
							}
							if scheme == sim.AuthHMAC && i%3 != 0 {
								mac = auth.NewHMACHeader(f.user, "guess", nil, body).String()
							}
							if _, err := send(hc, n.url, enc, body, mac); err != nil {
								failed.Add(1)
							}
							sent.Add(1)
							select {
							case tick <- struct{}{}:
							default:
							}
						}
					}()
				}
				ok := 0
				var last error
				for i := range 10 {
					for range 20 {
						select {
						case <-tick:
						case <-time.After(30 * time.Second): // bounds a hang only
							t.Fatal("the hostile clients stopped sending")
						}
					}
					id := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					res, err := a.Run(ctx)
					cancel()
					if err == nil && res.State == client.StateCompleted && job(t, st, id).State == storage.JobDone {
						ok++
					} else {
						last = fmt.Errorf("session %d: %v", i+1, err)
					}
				}
				done.Store(true)
				wg.Wait()
				t.Logf("%d/10 sessions completed beside %d forged messages (%d transport errors)", ok, sent.Load(), failed.Load())
				if ok < 9 {
					t.Fatalf("only %d of 10 sessions completed under forged traffic; last failure: %v", ok, last)
				}
				if sent.Load() < 200 {
					t.Errorf("hostile clients sent only %d messages", sent.Load())
				}
				if d, err := st.GetDevice(context.Background(), a.ID()); err != nil || !bytes.Equal(d.ServerNonce, a.Client().Account().ClientNonce) {
					t.Errorf("server nonce %x, device nonce %x (%v)", d.ServerNonce, a.Client().Account().ClientNonce, err)
				}
			})
		})
	}
}

// Failed authentications are limited per device id and per source
// address: beyond the bucket they are answered with a SyncHdr Status 503
// without a challenge; they are logged in a bounded number of summary lines
// and summed up in auth-failure events, not one per message; valid
// credentials are never limited.
func TestE2E_AuthFailuresAreRateLimitedLoggedAndAggregated(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		var logs logBuffer
		n := startNode(t, st, withLogs(&logs), func(so *server.Options, _ *dmhttp.HandlerOptions) {
			so.AuthLimits = server.AuthLimits{DeviceRate: 1e-9, DeviceBurst: 10, AddrRate: -1,
				LogEvery: time.Hour, EventEvery: time.Hour}
		})
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		f := forger{id: a.ID(), user: a.Credentials().Username, enc: enc}
		mark := logs.mark()
		codes := map[syncml.StatusCode]int{}
		for i := range 300 {
			body, err := f.pkg1(strconv.Itoa(i+1), 1, auth.MakeCred(syncml.AuthMD5, f.user, "guess", nil))
			if err != nil {
				t.Fatal(err)
			}
			r := mustSend(t, n.url, enc, body, "")
			codes[r.hdr.Data]++
			if (r.hdr.Data == syncml.StatusInvalidCredentials) != (r.hdr.Chal != nil) || r.httpStatus != http.StatusOK {
				t.Fatalf("message %d: HTTP %d, %d with Chal %v", i+1, r.httpStatus, r.hdr.Data, r.hdr.Chal != nil)
			}
		}
		if codes[syncml.StatusInvalidCredentials] != 10 || codes[syncml.StatusServiceUnavailable] != 290 {
			t.Errorf("answers %v, want 10×401 then 290×503", codes)
		}
		if got := strings.Count(logs.since(mark), "dm authentication failed"); got != 1 {
			t.Errorf("%d log lines for 300 failures, want 1 summary line", got)
		}
		if ev := events(t, n, a.ID()); ev["auth-failure"] < 1 || ev["auth-failure"] > 30 || ev["session-start"] != 0 {
			t.Errorf("events %v, want 1..30 auth-failure events and no session", ev)
		}
		if got := counter(t, n.engine, "omadm_server_auth_rate_limited_total", "by=device"); got != 290 {
			t.Errorf("auth_rate_limited_total{by=device} = %v, want 290", got)
		}
		if got := counter(t, n.engine, "omadm_server_auth_failures_total", ""); got != 300 {
			t.Errorf("auth_failures_total = %v, want 300", got)
		}
		// The device's own credentials still work while its id is limited.
		a.session(t)

		// Per source address: probes for many ids from one host.
		n2 := startNode(t, st, func(so *server.Options, _ *dmhttp.HandlerOptions) {
			so.AuthLimits = server.AuthLimits{DeviceRate: -1, AddrRate: 1e-9, AddrBurst: 5}
		})
		limited := 0
		for i := range 20 {
			body, err := forger{id: fmt.Sprintf("IMEI:9%014d", i), user: "x", enc: enc}.pkg1("1", 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch r := mustSend(t, n2.url, enc, body, ""); r.hdr.Data {
			case syncml.StatusServiceUnavailable:
				limited++
			case syncml.StatusMissingCredentials:
			default:
				t.Fatalf("probe %d: %d", i, r.hdr.Data)
			}
		}
		if limited != 15 || counter(t, n2.engine, "omadm_server_auth_rate_limited_total", "by=address") != 15 {
			t.Errorf("%d of 20 probes limited by address, want 15", limited)
		}
	})
}

// OMA-TS-DM_Protocol-V1_2 §9.1: 401/407 always carry a Chal. An unknown id
// gets exactly the answer shape of an enrolled one (status, challenge type,
// format and nonce length, a nonce stable between probes, no RespURI), so
// ids cannot be enumerated.
func TestE2E_UnknownAndKnownDeviceIDsGetTheSameAnswer(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		ctx := context.Background()
		d, _ := st.GetDevice(ctx, a.ID())
		d.ServerNonce = auth.NewNonce()
		if err := st.UpdateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		shape := func(id string, cred *syncml.Cred) string {
			t.Helper()
			body, err := forger{id: id, user: "someone", enc: enc}.pkg1("7", 1, cred)
			if err != nil {
				t.Fatal(err)
			}
			r1 := mustSend(t, n.url, enc, body, "")
			r2 := mustSend(t, n.url, enc, body, "")
			n1, n2 := chalNonce(t, r1.hdr), chalNonce(t, r2.hdr)
			return fmt.Sprintf("HTTP %d status %d chal %s/%s nonce %d bytes stable %v statuses %d respuri %q",
				r1.httpStatus, r1.hdr.Data, r1.hdr.Chal.Meta.Type, r1.hdr.Chal.Meta.Format, len(n1), bytes.Equal(n1, n2),
				len(r1.msg.Body), r1.msg.Header.RespURI)
		}
		for _, tc := range []struct {
			name string
			cred *syncml.Cred
		}{
			{"no credentials", nil},
			{"md5 credentials", auth.MakeCred(syncml.AuthMD5, "someone", "guess", []byte("n"))},
			{"basic credentials", auth.MakeCred(syncml.AuthBasic, "someone", "guess", nil)},
		} {
			known, unknown := shape(a.ID(), tc.cred), shape("IMEI:000000000000042", tc.cred)
			if known != unknown {
				t.Errorf("%s:\n known   %s\n unknown %s", tc.name, known, unknown)
			}
		}
	})
}

// A device's live session is not revealed to a sender without its RespURI
// token and without valid credentials: whatever MsgID it tries, a message
// on that SessionID is answered like one on a SessionID the device never
// used, and like one for an unknown id (a failed authentication: no
// sequence check, no server MsgID of the session). The session runs on.
func TestE2E_LiveSessionIsNotRevealedWithoutCredentials(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
		shape := func(id, sid string, msgID int) string {
			body, err := forger{id: id, user: "someone", enc: enc}.message(sid, msgID, auth.MakeCred(syncml.AuthMD5, "someone", "guess", []byte("n")),
				&syncml.Status{CmdID: "1", MsgRef: "1", CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK})
			if err != nil {
				return err.Error()
			}
			r, err := send(http.DefaultClient, n.url, enc, body, "")
			if err != nil {
				return err.Error()
			}
			return fmt.Sprintf("HTTP %d status %d chal %v msgid %s statuses %d respuri %q",
				r.httpStatus, r.hdr.Data, r.hdr.Chal != nil, r.msg.Header.MsgID, len(r.msg.Body), r.msg.Header.RespURI)
		}
		var sid string
		var got []string
		a.route.seen = func(i int, req *client.Request) {
			if m, _, err := syncml.Decode(req.Body, req.ContentType, nil); err == nil && i == 1 {
				sid = m.Header.SessionID
			}
		}
		a.route.after = func(i int, _ *client.Response) error {
			if i == 1 {
				for _, msgID := range []int{1, 2, 9} {
					got = append(got, shape(a.ID(), sid, msgID), shape(a.ID(), sid+"9", msgID), shape("IMEI:000000000000042", sid, msgID))
				}
			}
			return nil
		}
		a.session(t)
		for i := 0; i < len(got); i += 3 {
			if got[i] != got[i+1] || got[i] != got[i+2] {
				t.Errorf("answers differ:\n live session  %s\n other session %s\n unknown id    %s", got[i], got[i+1], got[i+2])
			}
		}
		if j := job(t, st, get); j.State != storage.JobDone {
			t.Errorf("the real session's job: %s", j.State)
		}
	})
}

// An authenticated device cannot flood the event store: its generic alerts
// (and session start/end events) draw on a per-device budget
// (Options.DeviceEventRate/DeviceEventBurst). An Alert whose Items exceed
// what is left is stored not at all and answered 503
// (OMA-TS-DM_RepPro-V1_2 §10: the recipient cannot handle it for now);
// another device keeps its own budget.
func TestE2E_GenericAlertFloodIsBoundedPerDevice(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st, func(so *server.Options, _ *dmhttp.HandlerOptions) {
			so.DeviceEventRate, so.DeviceEventBurst = 1e-9, 100 // no refill within the test
		})
		alert := func(a *agent, sid string, items int) syncml.StatusCode {
			t.Helper()
			c := a.Credentials()
			ga := &syncml.Alert{CmdID: "2", Data: syncml.AlertGeneric}
			for i := range items {
				ga.Items = append(ga.Items, syncml.Item{Source: &syncml.Location{LocURI: "./x"},
					Meta: &syncml.Meta{Type: "org.example.flood"}, Data: syncml.TextData(strconv.Itoa(i))})
			}
			body, err := forger{id: a.ID(), user: c.Username, enc: enc}.message(sid, 1, auth.MakeCred(syncml.AuthBasic, c.Username, c.Password, nil),
				&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt}, ga)
			if err != nil {
				t.Fatal(err)
			}
			r := mustSend(t, n.url, enc, body, "")
			if r.hdr.Data != syncml.StatusOK {
				t.Fatalf("SyncHdr status %d", r.hdr.Data)
			}
			for _, cmd := range r.msg.Body {
				if s, ok := cmd.(*syncml.Status); ok && s.CmdRef == "2" {
					return s.Data
				}
			}
			t.Fatal("no Status for the generic alert")
			return 0
		}
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthBasic))
		other := newAgent(t, st, n.url, enc, withAuth(sim.AuthBasic))
		before := counter(t, n.engine, "omadm_server_device_events_refused_total", "")
		if s := alert(a, "1", 60); s != syncml.StatusOK {
			t.Fatalf("first 60 alerts: %d, want 200", s)
		}
		if s := alert(a, "2", 60); s != syncml.StatusServiceUnavailable {
			t.Fatalf("60 more alerts over a budget of 100: %d, want 503", s)
		}
		if s := alert(other, "1", 60); s != syncml.StatusOK {
			t.Fatalf("another device's 60 alerts: %d, want 200", s)
		}
		if got := events(t, n, a.ID())["generic-alert"]; got != 60 {
			t.Errorf("%d generic-alert events stored, want the first 60 only", got)
		}
		if got := events(t, n, other.ID())["generic-alert"]; got != 60 {
			t.Errorf("other device: %d generic-alert events, want 60", got)
		}
		if d := counter(t, n.engine, "omadm_server_device_events_refused_total", "") - before; d < 60 {
			t.Errorf("refused events counted %v, want at least 60", d)
		}
	})
}

// What a device's Results can make the server keep is bounded: Results that
// answer no Get of ours are not stored (nothing would bound them), and the
// results of one Get stop at server.MaxResultItems items or four times
// MaxObjSize bytes; the job fails naming the limit.
func TestE2E_ResultsFloodIsBounded(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		const maxObj = 1024 // results of one Get: at most 4 KiB
		n := startNode(t, st, func(so *server.Options, _ *dmhttp.HandlerOptions) { so.MaxObjSize = maxObj })
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthBasic))
		c := a.Credentials()
		f := forger{id: a.ID(), user: c.Username, enc: enc}
		cred := auth.MakeCred(syncml.AuthBasic, c.Username, c.Password, nil)
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./Big")})
		results := func(msgRef, cmdRef, prefix string, count int) *syncml.Results {
			r := &syncml.Results{CmdID: "3", MsgRef: msgRef, CmdRef: cmdRef}
			for i := range count {
				r.Items = append(r.Items, syncml.Item{Source: &syncml.Location{LocURI: prefix + strconv.Itoa(i)},
					Data: syncml.TextData(strings.Repeat("v", 500))})
			}
			return r
		}

		body, err := f.message("1", 1, cred, &syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
			results("1", "77", "./Unsolicited/", 5))
		if err != nil {
			t.Fatal(err)
		}
		r := mustSend(t, n.url, enc, body, "")
		var g *syncml.Get
		for _, cmd := range r.msg.Body {
			if x, ok := cmd.(*syncml.Get); ok {
				g = x
			}
		}
		if r.hdr.Data != syncml.StatusOK || g == nil {
			t.Fatalf("package 1: status %d, Get %v", r.hdr.Data, g != nil)
		}
		body, err = f.message("1", 2, cred,
			&syncml.Status{CmdID: "1", MsgRef: r.msg.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK},
			&syncml.Status{CmdID: "2", MsgRef: r.msg.Header.MsgID, CmdRef: g.CmdID, Cmd: "Get", Data: syncml.StatusOK},
			results(r.msg.Header.MsgID, g.CmdID, "./Big/", 20))
		if err != nil {
			t.Fatal(err)
		}
		if r := mustSend(t, n.url, enc, body, ""); r.hdr.Data != syncml.StatusOK {
			t.Fatalf("package 3: status %d", r.hdr.Data)
		}
		j := job(t, st, get)
		if j.State != storage.JobFailed || !strings.Contains(j.Error, "result items or") || len(j.Results) > 4*maxObj/500 {
			t.Errorf("job %s (%q) with %d results; want failed naming the limit, at most %d results", j.State, j.Error, len(j.Results), 4*maxObj/500)
		}
		nodes, err := st.ListTreeNodes(context.Background(), a.ID(), "")
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for _, nd := range nodes {
			if strings.HasPrefix(nd.URI, "./Unsolicited/") {
				t.Errorf("unsolicited result cached: %s", nd.URI)
			}
			if strings.HasPrefix(nd.URI, "./Big/") {
				size += len(nd.URI) + len(nd.Value)
			}
		}
		if size > 4*maxObj {
			t.Errorf("tree cache holds %d bytes of the Get's results, want at most %d", size, 4*maxObj)
		}
	})
}

// Statuses a device repeats for one command (with Items) are bounded like
// Results: past server.MaxResultItems nothing more is kept and the job
// fails naming the limit.
func TestE2E_StatusItemFloodIsBounded(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st, func(so *server.Options, _ *dmhttp.HandlerOptions) { so.MaxMsgSize = 4 << 20 })
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthBasic))
		c := a.Credentials()
		f := forger{id: a.ID(), user: c.Username, enc: enc}
		cred := auth.MakeCred(syncml.AuthBasic, c.Username, c.Password, nil)
		id := queue(t, st, a.ID(), storage.JobSpec{Command: "Exec", Items: item("./Op")})
		body, err := f.message("1", 1, cred, &syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt})
		if err != nil {
			t.Fatal(err)
		}
		r := mustSend(t, n.url, enc, body, "")
		var ex *syncml.Exec
		for _, cmd := range r.msg.Body {
			if x, ok := cmd.(*syncml.Exec); ok {
				ex = x
			}
		}
		if ex == nil {
			t.Fatal("no Exec in package 2")
		}
		s := &syncml.Status{CmdID: "2", MsgRef: r.msg.Header.MsgID, CmdRef: ex.CmdID, Cmd: "Exec", Data: syncml.StatusOK}
		for range server.MaxResultItems + 1 {
			s.Items = append(s.Items, syncml.Item{Data: syncml.TextData("x")})
		}
		body, err = f.message("1", 2, cred,
			&syncml.Status{CmdID: "1", MsgRef: r.msg.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK}, s)
		if err != nil {
			t.Fatal(err)
		}
		if r := mustSend(t, n.url, enc, body, ""); r.hdr.Data != syncml.StatusOK {
			t.Fatalf("package 3: status %d", r.hdr.Data)
		}
		if j := job(t, st, id); j.State != storage.JobFailed || !strings.Contains(j.Error, "status items") || len(j.Results) > server.MaxResultItems {
			t.Errorf("job %s (%q) with %d results; want failed naming the limit", j.State, j.Error, len(j.Results))
		}
	})
}
