package wsp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/wsp"
)

// lossy wraps the UDP link to the gateway so a test can lose chosen
// datagrams in either direction.
type lossy struct {
	wsp.Link
	mu       sync.Mutex
	dropRecv func(b []byte) bool
	dropSend func(b []byte) bool
	out      chan []byte
}

func dialLossy(t *testing.T) *lossy {
	t.Helper()
	l, err := wsp.DialUDP(fmt.Sprintf("127.0.0.1:%d", kannel.WSPCOPort))
	if err != nil {
		t.Fatal(err)
	}
	ll := &lossy{Link: l, out: make(chan []byte, 64)}
	go func() {
		defer close(ll.out)
		for b := range l.Recv() {
			ll.mu.Lock()
			d := ll.dropRecv != nil && ll.dropRecv(b)
			ll.mu.Unlock()
			if !d {
				ll.out <- b
			}
		}
	}()
	return ll
}

func (l *lossy) Recv() <-chan []byte { return l.out }

func (l *lossy) Send(b []byte) error {
	l.mu.Lock()
	d := l.dropSend != nil && l.dropSend(b)
	l.mu.Unlock()
	if d {
		return nil
	}
	return l.Link.Send(b)
}

// backend is the HTTP server behind the gateway: it records each request
// and answers a body of the size in ?n= (default: as long as the request).
type backend struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
	body [][]byte
}

func startBackend(t testing.TB) *backend {
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.seen = append(b.seen, r)
		b.body = append(b.body, body)
		b.mu.Unlock()
		if r.URL.Path == "/fail" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		n := len(body)
		if s := r.URL.Query().Get("n"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.Header().Set(wsp.HMACHeader, `algorithm=MD5, username="srv", mac=c2Vydmlj`)
		w.Write(bytes.Repeat([]byte("R"), n))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) last() (*http.Request, []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) == 0 {
		return nil, nil
	}
	return b.seen[len(b.seen)-1], b.body[len(b.body)-1]
}

// newTransport builds a transport to the gateway over link with a short
// retransmission interval (loopback answers in milliseconds; the interval
// only paces the tests that lose datagrams), recording the datagrams.
func newTransport(t *testing.T, o wsp.Options, link wsp.Link) (*wsp.Transport, *datagrams) {
	t.Helper()
	d := &datagrams{}
	extra := o.Trace
	o.Link, o.Trace = link, func(sent bool, b []byte) {
		d.add(sent, b)
		if extra != nil {
			extra(sent, b)
		}
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = 300 * time.Millisecond
	}
	tp, err := wsp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Close() })
	return tp, d
}

// datagrams records what crossed the link, decoded.
type datagrams struct {
	mu   sync.Mutex
	sent []wsp.PDU
	recv []wsp.PDU
	big  int // largest datagram received
}

func (d *datagrams) add(sent bool, b []byte) {
	pdus, err := wsp.DecodeWTP(b)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range pdus {
		p.Data, p.Missing = nil, append([]byte(nil), p.Missing...)
		if sent {
			d.sent = append(d.sent, p)
		} else {
			d.recv = append(d.recv, p)
			d.big = max(d.big, len(b))
		}
	}
}

func (d *datagrams) count(sent bool, match func(p wsp.PDU) bool) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.recv
	if sent {
		list = d.sent
	}
	n := 0
	for _, p := range list {
		if match(p) {
			n++
		}
	}
	return n
}

func post(t *testing.T, tp *wsp.Transport, url, ct string, body []byte, hmac string) (*client.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return tp.RoundTrip(ctx, &client.Request{URL: url, ContentType: ct, HMAC: hmac, Body: body})
}

// One real Kannel 1.4.5 serves every subtest: wapbox forwards the
// connection-oriented WSP it receives on UDP 9201 to the HTTP backend.
func TestKannel_WSPThroughARealGateway(t *testing.T) {
	b := startBackend(t)
	kannel.Start(t, kannel.Options{WAPBox: true, WAPBackend: b.URL})
	base := "http://" + kannel.WAPBackendHost

	// A Post reaches the backend with its body, DM content type and
	// x-syncml-hmac; the Reply brings back body, type and the server's
	// x-syncml-hmac. Bodies beyond one packet are segmented both ways
	// (WAP-224-WTP §8.14); 60,000 octets take 43 packets each way.
	t.Run("PostAndReplyOfEverySize", func(t *testing.T) {
		tp, d := newTransport(t, wsp.Options{}, dialLossy(t))
		for _, ct := range []string{syncml.ContentTypeXML, syncml.ContentTypeWBXML} {
			for _, size := range []int{100, 1400, 10000, 60000} {
				body := bytes.Repeat([]byte{'Q'}, size)
				mac := `algorithm=MD5, username="dev", mac=ZGV2aWNl`
				resp, err := post(t, tp, base+"/dm", ct, body, mac)
				if err != nil {
					t.Fatalf("%s %d: %v", ct, size, err)
				}
				r, got := b.last()
				if !bytes.Equal(got, body) || r.Header.Get("Content-Type") != ct || r.Header.Get(wsp.HMACHeader) != mac {
					t.Errorf("%s %d: backend got %d octets, type %q, hmac %q", ct, size, len(got), r.Header.Get("Content-Type"), r.Header.Get(wsp.HMACHeader))
				}
				if len(resp.Body) != size || resp.ContentType != ct || resp.HMAC != `algorithm=MD5, username="srv", mac=c2Vydmlj` {
					t.Errorf("%s %d: reply of %d octets, type %q, hmac %q", ct, size, len(resp.Body), resp.ContentType, resp.HMAC)
				}
			}
		}
		if n := d.count(false, func(p wsp.PDU) bool { return p.Type == wsp.PDUSegResult }); n == 0 {
			t.Error("no segmented result seen")
		}
		if _, _, ok := tp.Session(); !ok {
			t.Error("no session open")
		}
	})

	// A result packet the device lost is asked for again with a Negative
	// Ack and the reply is complete (WAP-224-WTP §8.14.4).
	t.Run("LostResultPacketIsAskedForAgain", func(t *testing.T) {
		l := dialLossy(t)
		dropped := false
		l.dropRecv = func(b []byte) bool {
			if !dropped && b[0]>>3&0x0F == byte(wsp.PDUSegResult) && b[3] == 4 {
				dropped = true
				return true
			}
			return false
		}
		tp, d := newTransport(t, wsp.Options{}, l)
		resp, err := post(t, tp, base+"/dm?n=10000", syncml.ContentTypeWBXML, []byte("x"), "")
		if err != nil || len(resp.Body) != 10000 {
			t.Fatalf("%v", err)
		}
		if n := d.count(true, func(p wsp.PDU) bool { return p.Type == wsp.PDUNack && len(p.Missing) == 1 && p.Missing[0] == 4 }); n != 1 || !dropped {
			t.Errorf("%d Negative Acks for packet 4", n)
		}
	})

	// Lost invoke packets are sent again until acknowledged: the first
	// packet of a transaction, and a segment of a long message.
	t.Run("LostInvokePacketsAreSentAgain", func(t *testing.T) {
		l := dialLossy(t)
		lost := map[string]bool{}
		l.dropSend = func(b []byte) bool {
			key := ""
			switch {
			case b[0]>>3&0x0F == byte(wsp.PDUInvoke) && len(b) > 4 && b[4] == 0x60:
				key = "post"
			case b[0]>>3&0x0F == byte(wsp.PDUSegInvoke) && b[3] == 2:
				key = "segment 2"
			}
			if key != "" && !lost[key] {
				lost[key] = true
				return true
			}
			return false
		}
		tp, d := newTransport(t, wsp.Options{}, l)
		body := bytes.Repeat([]byte{'S'}, 5000)
		if _, err := post(t, tp, base+"/dm?n=10", syncml.ContentTypeWBXML, body, ""); err != nil {
			t.Fatal(err)
		}
		if _, got := b.last(); !bytes.Equal(got, body) {
			t.Errorf("backend got %d octets, want %d", len(got), len(body))
		}
		if !lost["post"] || !lost["segment 2"] {
			t.Fatalf("lost %v", lost)
		}
		if n := d.count(true, func(p wsp.PDU) bool { return p.RID }); n < 2 {
			t.Errorf("%d retransmissions", n)
		}
	})

	// Kannel deviation: with groups of several packets, Kannel acknowledges
	// a group although a packet of it never arrived and forwards the
	// message without it (WAP-224-WTP §8.14.4 wants a Negative Ack). The
	// default group of one packet keeps messages whole; this records what
	// Kannel does with larger groups.
	t.Run("DeviationKannelAcksAGroupWithAMissingPacket", func(t *testing.T) {
		l := dialLossy(t)
		l.dropSend = func(b []byte) bool { return b[0]>>3&0x0F == byte(wsp.PDUSegInvoke) && b[3] == 1 && b[0]&1 == 0 }
		tp, _ := newTransport(t, wsp.Options{GroupSize: 3}, l)
		body := bytes.Repeat([]byte{'S'}, 5000)
		if _, err := post(t, tp, base+"/dm?n=10", syncml.ContentTypeWBXML, body, ""); err != nil {
			t.Fatal(err)
		}
		// Kannel reassembles up to the first gap and drops the rest.
		if _, got := b.last(); len(got) >= len(body) || !bytes.HasPrefix(body, got) {
			t.Errorf("backend got %d octets of %d; Kannel 1.4.5 forwarded the part before the missing packet", len(got), len(body))
		}
	})

	// A reply larger than the Client-SDU-Size the device proposed comes
	// back from Kannel as 502 with an empty body (WAP-230-WSP §8.3.2.1).
	t.Run("ReplyBeyondClientSDUSizeIs502", func(t *testing.T) {
		tp, _ := newTransport(t, wsp.Options{MaxResponse: 2000}, dialLossy(t))
		_, err := post(t, tp, base+"/dm?n=10000", syncml.ContentTypeXML, []byte("x"), "")
		var se *wsp.StatusError
		if !errors.As(err, &se) || se.HTTPStatus() != http.StatusBadGateway {
			t.Fatalf("error %v, want HTTP 502", err)
		}
	})

	// An HTTP error of the backend arrives as the Reply status, a transport
	// failure for the engine.
	t.Run("BackendErrorIsAStatusError", func(t *testing.T) {
		tp, _ := newTransport(t, wsp.Options{}, dialLossy(t))
		_, err := post(t, tp, base+"/fail", syncml.ContentTypeXML, []byte("x"), "")
		var se *wsp.StatusError
		if !errors.As(err, &se) || se.HTTPStatus() != http.StatusInternalServerError {
			t.Fatalf("error %v, want HTTP 500", err)
		}
	})

	// A session the gateway no longer has (here: disconnected behind the
	// transport's back) makes Kannel abort the Post with DISCONNECT; the
	// transport connects again and the request goes through.
	t.Run("LostSessionIsOpenedAgain", func(t *testing.T) {
		l := dialLossy(t)
		tp, d := newTransport(t, wsp.Options{}, l)
		if _, err := post(t, tp, base+"/dm", syncml.ContentTypeXML, []byte("one"), ""); err != nil {
			t.Fatal(err)
		}
		sid, _, _ := tp.Session()
		// A class 0 Disconnect of that session from the same socket.
		dis := wsp.PDU{Type: wsp.PDUInvoke, GTR: true, TTR: true, TID: 0x7000, Data: []byte{0x05, byte(sid)}}
		if err := l.Link.Send(dis.Append(nil)); err != nil {
			t.Fatal(err)
		}
		// Kannel handles datagrams in order: a Post after the Disconnect
		// finds no session (its abort is what this test waits for).
		if _, err := post(t, tp, base+"/dm", syncml.ContentTypeXML, []byte("two"), ""); err != nil {
			t.Fatal(err)
		}
		if _, got := b.last(); string(got) != "two" {
			t.Errorf("backend got %q", got)
		}
		if n := d.count(false, func(p wsp.PDU) bool { return p.Type == wsp.PDUAbort && p.AbortReason == 0xE1 }); n != 1 {
			t.Errorf("%d DISCONNECT aborts, want 1", n)
		}
		if sid2, _, _ := tp.Session(); sid2 == sid {
			t.Errorf("same session %d after reconnecting", sid)
		}
	})

	// Kannel deviation: a device that says it does not reassemble (GTR and
	// TTR both set, WAP-224-WTP §9.3.2) still gets a long result, in one
	// datagram beyond the 1400-octet segments.
	t.Run("DeviationNoSARDeviceGetsOneLargeDatagram", func(t *testing.T) {
		tp, d := newTransport(t, wsp.Options{NoSAR: true}, dialLossy(t))
		resp, err := post(t, tp, base+"/dm?n=10000", syncml.ContentTypeXML, []byte("x"), "")
		if err != nil || len(resp.Body) != 10000 {
			t.Fatalf("%v", err)
		}
		if d.big < 10000 {
			t.Errorf("largest datagram %d octets", d.big)
		}
	})
}
