package wsp_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/wsp"
)

// fakeGW is a scripted WTP responder on the other end of a Link, run inside
// a synctest bubble so the WTP timers run on virtual time.
type fakeGW struct {
	t      *testing.T
	toGW   chan []byte
	fromGW chan []byte
}

func newFakeGW(t *testing.T) *fakeGW {
	return &fakeGW{t: t, toGW: make(chan []byte, 512), fromGW: make(chan []byte, 512)}
}

func (g *fakeGW) Send(b []byte) error { g.toGW <- append([]byte(nil), b...); return nil }
func (g *fakeGW) Recv() <-chan []byte { return g.fromGW }
func (g *fakeGW) Close() error        { return nil }
func (g *fakeGW) sendRaw(b []byte)    { g.fromGW <- b }
func (g *fakeGW) send(p wsp.PDU)      { g.fromGW <- p.Append(nil) }
func (g *fakeGW) pending() int        { return len(g.toGW) }
func (g *fakeGW) nextAt() (wsp.PDU, time.Time) {
	b := <-g.toGW
	at := time.Now()
	p, err := wsp.DecodeWTP(b)
	if err != nil || len(p) != 1 {
		g.t.Errorf("device sent % X: %v", b, err)
		return wsp.PDU{}, at
	}
	return p[0], at
}
func (g *fakeGW) next() wsp.PDU { p, _ := g.nextAt(); return p }

// expect reads the next PDU and checks its type.
func (g *fakeGW) expect(typ wsp.PDUType) wsp.PDU {
	g.t.Helper()
	p := g.next()
	if p.Type != typ {
		g.t.Errorf("device sent %s (%+v), want %s", p.Type, p, typ)
	}
	return p
}

// result answers transaction tid with a one-packet Result.
func (g *fakeGW) result(tid uint16, data []byte) {
	g.send(wsp.PDU{Type: wsp.PDUResult, TTR: true, TID: tid | 0x8000, Data: data})
}

// connect serves a Connect: the ConnectReply of session sid, and the Ack.
func (g *fakeGW) connect(sid byte) {
	g.t.Helper()
	inv := g.expect(wsp.PDUInvoke)
	if len(inv.Data) == 0 || inv.Data[0] != 0x01 {
		g.t.Errorf("first invoke carries % X, want a Connect", inv.Data)
	}
	g.result(inv.TID, []byte{0x02, sid, 0x00, 0x00})
	g.expect(wsp.PDUAck)
}

// okReply is a Reply PDU: 200, application/vnd.syncml.dm+xml, body.
func okReply(body string) []byte {
	return append([]byte{0x04, 0x20, 0x01, 0xC3}, body...)
}

func newFake(t *testing.T, g *fakeGW, o wsp.Options) *wsp.Transport {
	t.Helper()
	o.Link = g
	if o.RetryInterval == 0 {
		o.RetryInterval = 2 * time.Second
	}
	tp, err := wsp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

var dmReq = &client.Request{URL: "http://dm.example/dm", ContentType: syncml.ContentTypeXML, Body: []byte("<SyncML/>")}

func roundTrip(tp *wsp.Transport, req *client.Request) (*client.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	return tp.RoundTrip(ctx, req)
}

// An invoke neither acknowledged nor answered is sent again, flagged RID,
// every retry interval until the result comes (WAP-224-WTP §8.2, §9.3.3).
func TestTransport_RetransmitsInvokeEveryRetryIntervalUntilAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{RetryInterval: 3 * time.Second})
		go func() {
			first, t0 := g.nextAt()
			again1, t1 := g.nextAt()
			again2, t2 := g.nextAt()
			if first.RID || !again1.RID || !again2.RID || again1.TID != first.TID || again2.TID != first.TID {
				t.Errorf("RID %v %v %v, TIDs %d %d %d", first.RID, again1.RID, again2.RID, first.TID, again1.TID, again2.TID)
			}
			if t1.Sub(t0) != 3*time.Second || t2.Sub(t1) != 3*time.Second {
				t.Errorf("retransmitted after %s and %s, want the 3s interval", t1.Sub(t0), t2.Sub(t1))
			}
			g.result(first.TID, []byte{0x02, 0x07, 0x00, 0x00})
			g.expect(wsp.PDUAck)
			post := g.expect(wsp.PDUInvoke)
			g.result(post.TID, okReply("<ok/>"))
			g.expect(wsp.PDUAck)
		}()
		resp, err := roundTrip(tp, dmReq)
		if err != nil || string(resp.Body) != "<ok/>" {
			t.Fatalf("%v %v", resp, err)
		}
		if sid, _, ok := tp.Session(); !ok || sid != 7 {
			t.Errorf("session %d %v", sid, ok)
		}
	})
}

// After MaxRetransmissions unanswered retransmissions the transaction fails
// (WAP-224-WTP §8.2: RCR reaches its maximum) and the request with it.
func TestTransport_GivesUpAfterMaxRetransmissions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{MaxRetransmissions: 2})
		start := time.Now()
		_, err := roundTrip(tp, dmReq)
		if !errors.Is(err, wsp.ErrNoResponse) {
			t.Fatalf("error %v, want ErrNoResponse", err)
		}
		if n := g.pending(); n != 3 {
			t.Errorf("%d invokes sent, want 1 + 2 retransmissions", n)
		}
		if d := time.Since(start); d != 6*time.Second {
			t.Errorf("gave up after %s, want 3 × 2s", d)
		}
	})
}

// A hold-on Ack says the invoke arrived: no more retransmissions, the
// result may come much later (WAP-224-WTP §8.1.4, §8.3).
func TestTransport_HoldOnAckStopsRetransmissions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			g.send(wsp.PDU{Type: wsp.PDUAck, TID: post.TID | 0x8000})
			time.Sleep(40 * time.Second) // the server is slow (virtual time)
			if n := g.pending(); n != 0 {
				t.Errorf("%d datagrams sent after the hold-on Ack", n)
			}
			g.result(post.TID, okReply("late"))
			g.expect(wsp.PDUAck)
		}()
		if resp, err := roundTrip(tp, dmReq); err != nil || string(resp.Body) != "late" {
			t.Fatalf("%v %v", resp, err)
		}
	})
}

// After the hold-on Ack the result is awaited ResultTimeout at most.
func TestTransport_ResultTimeoutBoundsTheWaitAfterHoldOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{ResultTimeout: time.Minute})
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			g.send(wsp.PDU{Type: wsp.PDUAck, TID: post.TID | 0x8000})
		}()
		start := time.Now()
		if _, err := roundTrip(tp, dmReq); !errors.Is(err, wsp.ErrNoResponse) {
			t.Fatalf("error %v", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("waited %s", d)
		}
	})
}

// A TID verification (Ack with Tve) is answered with Ack(TIDok) for the
// outstanding transaction (WAP-224-WTP §8.8.3).
func TestTransport_AnswersTIDVerification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		go func() {
			inv := g.expect(wsp.PDUInvoke)
			g.send(wsp.PDU{Type: wsp.PDUAck, TID: inv.TID | 0x8000, TIDVerifyFlag: true})
			ok := g.expect(wsp.PDUAck)
			if !ok.TIDVerifyFlag || ok.TID != inv.TID {
				t.Errorf("answer %+v, want Ack(TIDok) of TID %d", ok, inv.TID)
			}
			g.result(inv.TID, []byte{0x02, 0x01, 0x00, 0x00})
			g.expect(wsp.PDUAck)
			post := g.expect(wsp.PDUInvoke)
			if post.TID != inv.TID+1 {
				t.Errorf("next TID %d after %d", post.TID, inv.TID)
			}
			g.result(post.TID, okReply("ok"))
			g.expect(wsp.PDUAck)
		}()
		if _, err := roundTrip(tp, dmReq); err != nil {
			t.Fatal(err)
		}
	})
}

// An Abort from the gateway fails the request with its reason; the next
// request opens a new session (WAP-224-WTP §8.7).
func TestTransport_AbortFailsTheRequestAndTheNextConnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			g.send(wsp.PDU{Type: wsp.PDUAbort, TID: post.TID | 0x8000, AbortType: wsp.AbortProvider, AbortReason: wsp.ReasonCapTempExceed})
			g.connect(2)
			post = g.expect(wsp.PDUInvoke)
			g.result(post.TID, okReply("ok"))
			g.expect(wsp.PDUAck)
		}()
		_, err := roundTrip(tp, dmReq)
		var ab *wsp.AbortError
		if !errors.As(err, &ab) || ab.Reason != wsp.ReasonCapTempExceed || ab.Local {
			t.Fatalf("error %v, want the gateway's abort", err)
		}
		if _, err := roundTrip(tp, dmReq); err != nil {
			t.Fatal(err)
		}
		if sid, _, _ := tp.Session(); sid != 2 {
			t.Errorf("session %d, want the new one", sid)
		}
	})
}

// A Post aborted with DISCONNECT (the gateway has no session) is sent again
// in a new session within the same request (WAP-230-WSP §8.2.2.4).
func TestTransport_PostAbortedForWantOfASessionIsSentInANewOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			g.send(wsp.PDU{Type: wsp.PDUAbort, TID: post.TID | 0x8000, AbortType: wsp.AbortUser, AbortReason: 0xE1})
			g.connect(2)
			again := g.expect(wsp.PDUInvoke)
			if !bytes.Equal(again.Data, post.Data) {
				t.Error("the Post sent again differs")
			}
			g.result(again.TID, okReply("ok"))
			g.expect(wsp.PDUAck)
		}()
		if _, err := roundTrip(tp, dmReq); err != nil {
			t.Fatal(err)
		}
	})
}

// A message larger than one packet goes as Invoke + Segmented Invokes,
// each packet its own group acknowledged by its PSN; a packet whose Ack
// does not come is sent again (WAP-224-WTP §8.14.3).
func TestTransport_SegmentedInvokeIsAcknowledgedPacketByPacket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{SegmentSize: 100})
		body := bytes.Repeat([]byte("B"), 250)
		go func() {
			g.connect(1)
			var got []byte
			for psn := 0; ; psn++ {
				p := g.next()
				wantType := wsp.PDUSegInvoke
				if psn == 0 {
					wantType = wsp.PDUInvoke
				}
				if p.Type != wantType || int(p.PSN) != psn && psn > 0 {
					t.Errorf("packet %d: %s PSN %d", psn, p.Type, p.PSN)
					return
				}
				got = append(got, p.Data...)
				if p.TTR {
					if p.GTR {
						t.Error("last packet has GTR")
					}
					// Post header + 250 octets in packets of 100.
					if !bytes.HasSuffix(got, body) {
						t.Errorf("reassembled % X", got)
					}
					g.result(p.TID, okReply("ok"))
					g.expect(wsp.PDUAck)
					return
				}
				if !p.GTR {
					t.Errorf("packet %d is not a group trailer", psn)
					return
				}
				if psn == 1 {
					// Lose this Ack: the packet must come again.
					again := g.next()
					if again.Type != wsp.PDUSegInvoke || again.PSN != 1 || !again.RID {
						t.Errorf("after a lost Ack: %+v", again)
					}
				}
				g.send(wsp.PDU{Type: wsp.PDUAck, TID: p.TID | 0x8000, HasPSN: true, PSN: uint8(psn)})
			}
		}()
		req := *dmReq
		req.Body = body
		if _, err := roundTrip(tp, &req); err != nil {
			t.Fatal(err)
		}
	})
}

// A segmented result is reassembled: complete groups are acknowledged with
// the PSN of their trailer, a lost packet is asked for with a Negative Ack
// and its group acknowledged as soon as it arrives (WAP-224-WTP §8.14.4).
func TestTransport_ReassemblesASegmentedResultAndNacksALostPacket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		reply := okReply(string(bytes.Repeat([]byte("0123456789"), 50)))
		var seg [6][]byte
		for i := range seg {
			seg[i] = reply[i*len(reply)/6 : (i+1)*len(reply)/6]
		}
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			tid := post.TID | 0x8000
			pkt := func(psn int, gtr, ttr, rid bool) wsp.PDU {
				p := wsp.PDU{Type: wsp.PDUSegResult, TID: tid, PSN: uint8(psn), GTR: gtr, TTR: ttr, RID: rid, Data: seg[psn]}
				if psn == 0 {
					p.Type = wsp.PDUResult
				}
				return p
			}
			g.send(pkt(0, false, false, false))
			// Packet 1 is lost.
			g.send(pkt(2, true, false, false))
			if n := g.expect(wsp.PDUNack); len(n.Missing) != 1 || n.Missing[0] != 1 {
				t.Errorf("Nack lists %v, want [1]", n.Missing)
			}
			g.send(pkt(1, false, false, true))
			if a := g.expect(wsp.PDUAck); !a.HasPSN || a.PSN != 2 {
				t.Errorf("group Ack %+v, want PSN 2", a)
			}
			g.send(pkt(3, false, false, false))
			g.send(pkt(4, false, false, false))
			g.send(pkt(5, false, true, false))
			if a := g.expect(wsp.PDUAck); !a.HasPSN || a.PSN != 5 {
				t.Errorf("last Ack %+v, want PSN 5", a)
			}
		}()
		resp, err := roundTrip(tp, dmReq)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Repeat([]byte("0123456789"), 50); !bytes.Equal(resp.Body, want) {
			t.Errorf("body % X", resp.Body)
		}
	})
}

// A result the gateway sends again because the device's last Ack was lost
// is acknowledged again (WAP-224-WTP §8.2: the Ack is what stops it).
func TestTransport_AcknowledgesAResultSentAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			g.result(post.TID, okReply("one"))
			g.expect(wsp.PDUAck) // lost on its way
			g.send(wsp.PDU{Type: wsp.PDUResult, TTR: true, RID: true, TID: post.TID | 0x8000, Data: okReply("one")})
			again := g.next()
			if again.Type != wsp.PDUAck || again.TID != post.TID {
				t.Errorf("after the repeated result: %+v", again)
			}
			post2 := g.expect(wsp.PDUInvoke)
			g.result(post2.TID, okReply("two"))
			g.expect(wsp.PDUAck)
		}()
		if _, err := roundTrip(tp, dmReq); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if resp, err := roundTrip(tp, dmReq); err != nil || string(resp.Body) != "two" {
			t.Fatalf("%v %v", resp, err)
		}
	})
}

// A result beyond MaxResponse is aborted by the device with
// MESSAGETOOLARGE (WAP-224-WTP §9.2.4), not buffered.
func TestTransport_AbortsAResultBeyondMaxResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{MaxResponse: 1000})
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			big := bytes.Repeat([]byte("x"), 1400)
			for psn := 0; psn < 5; psn++ {
				p := wsp.PDU{Type: wsp.PDUSegResult, TID: post.TID | 0x8000, PSN: uint8(psn), Data: big}
				if psn == 0 {
					p.Type = wsp.PDUResult
				}
				g.send(p)
			}
			ab := g.expect(wsp.PDUAbort)
			if ab.AbortType != wsp.AbortProvider || ab.AbortReason != wsp.ReasonMessageTooLarg || ab.TID != post.TID {
				t.Errorf("abort %+v", ab)
			}
		}()
		_, err := roundTrip(tp, dmReq)
		var ab *wsp.AbortError
		if !errors.As(err, &ab) || !ab.Local {
			t.Fatalf("error %v", err)
		}
	})
}

// A request given up by the caller aborts its transaction at the gateway
// (TR-Abort.req, WAP-224-WTP §8.7).
func TestTransport_CancelledRequestAbortsTheTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			g.send(wsp.PDU{Type: wsp.PDUAck, TID: post.TID | 0x8000})
			synctest.Wait()
			cancel()
			if ab := g.expect(wsp.PDUAbort); ab.TID != post.TID || ab.AbortType != wsp.AbortUser {
				t.Errorf("abort %+v", ab)
			}
		}()
		if _, err := tp.RoundTrip(ctx, dmReq); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v", err)
		}
	})
}

// The Connect proposes the Client-SDU-Size (the largest reply), Method-MOR
// and Push-MOR 1 (WAP-230-WSP §8.2.2.1, §8.3.2); the Post carries URI, the
// DM content type by its code, Accept, User-Agent and x-syncml-hmac as an
// application header (§8.2.3.2, §8.4.2.6); Close sends a class 0
// Disconnect of the session (§8.2.2.4).
func TestTransport_ConnectPostAndDisconnectOnTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{MaxResponse: 60000})
		go func() {
			inv := g.expect(wsp.PDUInvoke)
			// 0x01 Connect, 0x10 version 1.0, caps length 11, headers 0,
			// Client-SDU-Size 64096 (60000 + 4096 for headers), Method-MOR 1, Push-MOR 1.
			want := unhex(t, "01 10 0B 00  04 80 83 F4 60  02 83 01  02 84 01")
			if !bytes.Equal(inv.Data, want) || inv.Class != wsp.Class2 || !inv.UserAck || !inv.TTR || inv.GTR {
				t.Errorf("Connect % X class %d uack %v GTR %v TTR %v", inv.Data, inv.Class, inv.UserAck, inv.GTR, inv.TTR)
			}
			g.result(inv.TID, []byte{0x02, 0x81, 0x00, 0x00, 0x00}) // session 128
			g.expect(wsp.PDUAck)
			post := g.expect(wsp.PDUInvoke)
			uri := "http://dm.example/dm"
			var w []byte
			w = append(w, 0x60, byte(len(uri)))
			hdr := []byte{0xC2} // application/vnd.syncml.dm+wbxml
			hdr = append(hdr, 0x80, 0xC2, 0x80, 0xC3)
			hdr = append(hdr, 0xA9)
			hdr = append(hdr, "omadm-agent\x00"...)
			hdr = append(hdr, "x-syncml-hmac\x00algorithm=MD5, username=\"d\", mac=bWFj\x00"...)
			w = append(w, byte(len(hdr)))
			w = append(w, uri...)
			w = append(w, hdr...)
			w = append(w, 0x03, 0x01)
			if !bytes.Equal(post.Data, w) {
				t.Errorf("Post\n% X, want\n% X", post.Data, w)
			}
			g.sendRaw(append(unhex(t, "18"), byte(post.TID>>8|0x80), byte(post.TID))) // hold-on Ack
			rh := append([]byte{0xC2}, "x-syncml-hmac\x00algorithm=MD5, mac=cw==\x00"...)
			g.result(post.TID, append(append([]byte{0x04, 0x20, byte(len(rh))}, rh...), 0x03, 0x02))
			g.expect(wsp.PDUAck)
		}()
		req := &client.Request{URL: "http://dm.example/dm", ContentType: syncml.ContentTypeWBXML, HMAC: `algorithm=MD5, username="d", mac=bWFj`, Body: []byte{3, 1}}
		resp, err := roundTrip(tp, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentType != syncml.ContentTypeWBXML || resp.HMAC != "algorithm=MD5, mac=cw==" || !bytes.Equal(resp.Body, []byte{3, 2}) {
			t.Errorf("response %+v", resp)
		}
		if err := tp.Close(); err != nil {
			t.Fatal(err)
		}
		dis := g.expect(wsp.PDUInvoke)
		if dis.Class != wsp.Class0 || !dis.GTR || !dis.TTR || !bytes.Equal(dis.Data, []byte{0x05, 0x81, 0x00}) {
			t.Errorf("Disconnect %+v", dis)
		}
	})
}

// A gateway address where nothing listens fails after the bounded
// retransmissions with an error that says the port refused (real UDP on
// 127.0.0.1: the ICMP port unreachable is what the socket reports).
func TestTransport_NoGatewayListeningIsNamed(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nobody listens there now
	tp, err := wsp.New(wsp.Options{Gateway: addr, RetryInterval: 20 * time.Millisecond, MaxRetransmissions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	_, err = roundTrip(tp, dmReq)
	if !errors.Is(err, wsp.ErrNoResponse) || !strings.Contains(err.Error(), "port unreachable") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("error %v", err)
	}
}

// Concatenated PDUs in one datagram (WAP-224-WTP §8.5) are each handled:
// a hold-on Ack and the Result together.
func TestTransport_HandlesConcatenatedPDUs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGW(t)
		tp := newFake(t, g, wsp.Options{})
		go func() {
			g.connect(1)
			post := g.expect(wsp.PDUInvoke)
			ack := (&wsp.PDU{Type: wsp.PDUAck, TID: post.TID | 0x8000}).Append(nil)
			res := (&wsp.PDU{Type: wsp.PDUResult, TTR: true, TID: post.TID | 0x8000, Data: okReply("both")}).Append(nil)
			d := append([]byte{0x00, byte(len(ack))}, ack...)
			d = append(append(d, byte(len(res))), res...)
			g.sendRaw(d)
			g.expect(wsp.PDUAck)
		}()
		if resp, err := roundTrip(tp, dmReq); err != nil || string(resp.Body) != "both" {
			t.Fatalf("%v %v", resp, err)
		}
	})
}
