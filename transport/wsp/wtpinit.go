package wsp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Link carries WDP datagrams between the device and the gateway: a UDP
// socket in production (DialUDP), channels in tests.
type Link interface {
	// Send transmits one datagram.
	Send(b []byte) error
	// Recv delivers received datagrams; it is closed when the link closes.
	Recv() <-chan []byte
	// Close releases the link.
	Close() error
}

// Clock is the source of the WTP timers, replaceable in tests
// (client.Clock satisfies it).
type Clock interface {
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// AbortError is a transaction the peer aborted with an Abort PDU, or one
// this side aborted (Local) (WAP-224-WTP §8.7).
type AbortError struct {
	Type, Reason uint8
	Local        bool
}

func (e *AbortError) Error() string {
	who := "gateway"
	if e.Local {
		who = "device"
	}
	if e.Type == AbortUser {
		return fmt.Sprintf("wsp: %s aborted the transaction (WSP reason %s)", who, wspAbortName(e.Reason))
	}
	return fmt.Sprintf("wsp: %s aborted the transaction (WTP reason %s)", who, wtpAbortName(e.Reason))
}

func wtpAbortName(r uint8) string {
	names := [...]string{"UNKNOWN", "PROTOERR", "INVALIDTID", "NOTIMPLEMENTEDCL2", "NOTIMPLEMENTEDSAR",
		"NOTIMPLEMENTEDUACK", "WTPVERSIONONE", "CAPTEMPEXCEEDED", "NORESPONSE", "MESSAGETOOLARGE",
		"NOTIMPLEMENTEDESAR"}
	if int(r) < len(names) {
		return fmt.Sprintf("0x%02X %s", r, names[r])
	}
	return fmt.Sprintf("0x%02X", r)
}

// WSP abort reasons (WAP-230-WSP Appendix A, Table 35).
const (
	wspAbortProtoErr   = 0xE0
	wspAbortDisconnect = 0xE1
	wspAbortUserReq    = 0xEA
)

func wspAbortName(r uint8) string {
	names := [...]string{"PROTOERR", "DISCONNECT", "SUSPEND", "RESUME", "CONGESTION", "CONNECTERR",
		"MRUEXCEEDED", "MOREXCEEDED", "PEERREQ", "NETERR", "USERREQ", "USERRFS", "USERPND", "USERDCR", "USERDCU"}
	if r >= 0xE0 && int(r-0xE0) < len(names) {
		return fmt.Sprintf("0x%02X %s", r, names[r-0xE0])
	}
	return fmt.Sprintf("0x%02X", r)
}

// ErrNoResponse is returned when the gateway did not answer a transaction
// after every retransmission (WAP-224-WTP §8.2: RCR reached its maximum).
var ErrNoResponse = errors.New("wsp: the gateway did not answer")

// ErrTooLarge is returned for a message beyond what WTP segmentation can
// carry or beyond a negotiated SDU size.
var ErrTooLarge = errors.New("wsp: message too large")

// timers configures the initiator (WAP-224-WTP §10 and Appendix A).
type timers struct {
	retry      time.Duration // R: retransmission interval
	maxRCR     int           // most retransmissions of a packet or group
	wait       time.Duration // after the gateway acknowledged the invoke: bound of waiting for the result
	segment    int           // user data octets per packet
	group      int           // packets per group
	noSAR      bool
	maxResult  int
	clock      Clock
	trace      func(sent bool, datagram []byte)
	onPeerPDU  func(p PDU) // invokes the gateway starts (WSP Disconnect)
	initialTID uint16
}

// initiator runs WTP class 0 and class 2 transactions as the initiator
// (WAP-224-WTP §8.1.2, §8.1.4), one at a time.
type initiator struct {
	link Link
	t    timers
	tid  uint16
	// last is the previous class 2 transaction's final acknowledgement, sent
	// again when the gateway retransmits its result (our Ack was lost).
	last    []byte
	lastTID uint16
	scratch []byte
	mu      sync.Mutex
}

func newInitiator(link Link, t timers) *initiator {
	return &initiator{link: link, t: t, tid: t.initialTID & 0x7FFF}
}

func (w *initiator) send(p *PDU) error {
	w.scratch = p.Append(w.scratch[:0])
	if w.t.trace != nil {
		w.t.trace(true, w.scratch)
	}
	return w.link.Send(w.scratch)
}

// nextTID returns the next transaction identifier: 15 bits, incremented per
// transaction and wrapping (WAP-224-WTP §8.8.1); the top bit is the
// direction flag the responder sets.
func (w *initiator) nextTID() uint16 {
	w.tid = (w.tid + 1) & 0x7FFF
	return w.tid
}

// packets splits data into the Invoke and Segmented Invoke PDUs of one
// message with their trailer flags (WAP-224-WTP §8.14, §9.3.2).
func (w *initiator) packets(tid uint16, data []byte, class uint8) ([]PDU, error) {
	seg := w.t.segment
	n := max(1, (len(data)+seg-1)/seg)
	if n > 256 {
		return nil, fmt.Errorf("%w: %d octets need %d WTP packets of %d, more than the 256 packet sequence numbers allow", ErrTooLarge, len(data), n, seg)
	}
	if n > 1 && (w.t.noSAR || class != Class2) {
		return nil, fmt.Errorf("%w: %d octets do not fit one WTP packet of %d and segmentation is off", ErrTooLarge, len(data), seg)
	}
	out := make([]PDU, n)
	for i := range out {
		end := min(len(data), (i+1)*seg)
		p := PDU{Type: PDUSegInvoke, TID: tid, PSN: uint8(i), Data: data[i*seg : end]}
		if i == 0 {
			p.Type, p.Class, p.UserAck = PDUInvoke, class, class == Class2
		}
		switch {
		case n == 1 && (w.t.noSAR || class != Class2):
			// A lone packet from a sender without SAR: both flags set.
			p.GTR, p.TTR = true, true
		case i == n-1:
			// Last packet of the message; GTR clear tells the responder we
			// reassemble a segmented result (WAP-224-WTP §9.3.2).
			p.TTR = true
		case (i+1)%w.t.group == 0:
			p.GTR = true
		}
		out[i] = p
	}
	return out, nil
}

// drain handles datagrams that arrived between transactions: a result the
// gateway sent again because our last Ack was lost is acknowledged again.
func (w *initiator) drain() {
	for {
		select {
		case b, ok := <-w.link.Recv():
			if !ok {
				return
			}
			w.stray(b)
		default:
			return
		}
	}
}

// stray handles a datagram that belongs to no running transaction.
func (w *initiator) stray(b []byte) {
	if w.t.trace != nil {
		w.t.trace(false, b)
	}
	pdus, err := DecodeWTP(b)
	if err != nil {
		return
	}
	for _, p := range pdus {
		w.strayPDU(p)
	}
}

func (w *initiator) strayPDU(p PDU) {
	switch {
	case p.Type == PDUInvoke:
		if w.t.onPeerPDU != nil {
			w.t.onPeerPDU(p)
		}
	case (p.Type == PDUResult || p.Type == PDUSegResult) && w.last != nil && p.TID == w.lastTID|0x8000 && (p.GTR || p.TTR):
		if w.t.trace != nil {
			w.t.trace(true, w.last)
		}
		_ = w.link.Send(w.last)
	}
}

// transact runs one transaction carrying data: class 0 returns once the
// invoke is sent; class 2 returns the result's user data.
func (w *initiator) transact(ctx context.Context, data []byte, class uint8) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.drain()
	tid := w.nextTID()
	pkts, err := w.packets(tid, data, class)
	if err != nil {
		return nil, err
	}
	if class == Class0 {
		return nil, w.send(&pkts[0])
	}
	tx := &transaction{w: w, ctx: ctx, tid: tid, pkts: pkts, trailer: -1}
	res, err := tx.run()
	if err != nil {
		var ab *AbortError
		if errors.As(err, &ab) && ab.Local {
			_ = w.send(&PDU{Type: PDUAbort, TID: tid, AbortType: ab.Type, AbortReason: ab.Reason})
		} else if ctx.Err() != nil {
			// TR-Abort.req when the caller gives up (WAP-224-WTP §8.7).
			_ = w.send(&PDU{Type: PDUAbort, TID: tid, AbortType: AbortUser, AbortReason: wspAbortUserReq})
		}
	}
	return res, err
}

type transaction struct {
	w    *initiator
	ctx  context.Context
	tid  uint16
	pkts []PDU
	// holdOn is set once the gateway acknowledged the whole invoke or
	// started answering: no more retransmissions, ResultTimeout runs.
	holdOn bool
	// queued holds the further PDUs of this transaction a concatenated
	// datagram brought (WAP-224-WTP §8.5).
	queued []PDU
	// Result reassembly.
	parts      [256][]byte
	have       [256]bool
	groupStart int
	size       int
	// trailer is the PSN of the current group's trailer once it arrived
	// (-1 before); last says it ends the message, noPSN that the result is
	// a lone packet from a responder without SAR (its Ack has no PSN).
	trailer     int
	last, noPSN bool
}

func (tx *transaction) sendRange(from, to int, rid bool) error {
	for i := from; i < to; i++ {
		p := tx.pkts[i]
		p.RID = rid
		if err := tx.w.send(&p); err != nil {
			return err
		}
	}
	return nil
}

// next waits for a PDU of this transaction or a timer; it returns nil on
// the timer.
func (tx *transaction) next(timer <-chan time.Time) (*PDU, error) {
	for {
		if len(tx.queued) > 0 {
			p := tx.queued[0]
			tx.queued = tx.queued[1:]
			return &p, nil
		}
		select {
		case <-tx.ctx.Done():
			return nil, tx.ctx.Err()
		case <-timer:
			return nil, nil
		case b, ok := <-tx.w.link.Recv():
			if !ok {
				return nil, errors.New("wsp: link closed")
			}
			if tx.w.t.trace != nil {
				tx.w.t.trace(false, b)
			}
			pdus, err := DecodeWTP(b)
			if err != nil {
				continue // names no transaction for sure: nothing to answer
			}
			for _, p := range pdus {
				if p.Type == PDUInvoke || p.TID != tx.tid|0x8000 {
					tx.w.strayPDU(p)
					continue
				}
				tx.queued = append(tx.queued, p)
			}
		}
	}
}

func (tx *transaction) run() ([]byte, error) {
	t := tx.w.t
	n := len(tx.pkts)
	// Send the message group by group; each group but the last must be
	// acknowledged with the PSN of its trailer (WAP-224-WTP §8.14.3).
	start := 0
	for start < n {
		end := min(n, start+t.group)
		if end < n {
			if err := tx.sendGroup(start, end); err != nil {
				return nil, err
			}
			start = end
			continue
		}
		if err := tx.sendRange(start, end, false); err != nil {
			return nil, err
		}
		return tx.awaitResult(start, end)
	}
	return nil, errors.New("wsp: empty message")
}

// sendGroup sends one group that is not the last and waits for its Ack.
func (tx *transaction) sendGroup(from, to int) error {
	t := tx.w.t
	rid := false
	for rcr := 0; ; rcr++ {
		if err := tx.sendRange(from, to, rid); err != nil {
			return err
		}
		rid = true
		timer := t.clock.After(t.retry)
	wait:
		for {
			p, err := tx.next(timer)
			if err != nil {
				return err
			}
			if p == nil {
				break wait // retransmit the group
			}
			switch p.Type {
			case PDUAck:
				if p.TIDVerifyFlag {
					if err := tx.tidOK(); err != nil {
						return err
					}
					continue
				}
				if p.HasPSN && int(p.PSN) == to-1 {
					return nil
				}
			case PDUNack:
				if err := tx.resendMissing(p, from, to); err != nil {
					return err
				}
			case PDUAbort:
				return &AbortError{Type: p.AbortType, Reason: p.AbortReason}
			}
		}
		if rcr == t.maxRCR {
			return fmt.Errorf("%w: no acknowledgement of packets %d–%d after %d retransmissions", ErrNoResponse, from, to-1, t.maxRCR)
		}
	}
}

// resendMissing answers a Negative Ack: the packets it lists, or the whole
// group when it lists none (WAP-224-WTP §8.14.4).
func (tx *transaction) resendMissing(p *PDU, from, to int) error {
	if len(p.Missing) == 0 {
		return tx.sendRange(from, to, true)
	}
	for _, psn := range p.Missing {
		if int(psn) < len(tx.pkts) {
			if err := tx.sendRange(int(psn), int(psn)+1, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// tidOK answers a TID verification with Ack(TIDok): this transaction is
// outstanding (WAP-224-WTP §8.8.3).
func (tx *transaction) tidOK() error {
	return tx.w.send(&PDU{Type: PDUAck, TID: tx.tid, TIDVerifyFlag: true})
}

// awaitResult retransmits the last group until the gateway acknowledges it
// or answers, then reassembles the result.
func (tx *transaction) awaitResult(from, to int) ([]byte, error) {
	t := tx.w.t
	rcr := 0
	timer := t.clock.After(t.retry)
	for {
		p, err := tx.next(timer)
		if err != nil {
			return nil, err
		}
		if p == nil {
			if tx.holdOn {
				return nil, fmt.Errorf("%w: no result within %s of the gateway's acknowledgement", ErrNoResponse, t.wait)
			}
			if rcr == t.maxRCR {
				return nil, fmt.Errorf("%w: no acknowledgement or result after %d retransmissions", ErrNoResponse, t.maxRCR)
			}
			rcr++
			if err := tx.sendRange(from, to, true); err != nil {
				return nil, err
			}
			timer = t.clock.After(t.retry)
			continue
		}
		switch p.Type {
		case PDUAck:
			if p.TIDVerifyFlag {
				if err := tx.tidOK(); err != nil {
					return nil, err
				}
				continue
			}
			// Hold-on: the invoke arrived, the result will follow
			// (WAP-224-WTP §8.1.4); stop retransmitting.
			if !tx.holdOn {
				tx.holdOn = true
				timer = t.clock.After(t.wait)
			}
		case PDUNack:
			if err := tx.resendMissing(p, from, to); err != nil {
				return nil, err
			}
		case PDUAbort:
			return nil, &AbortError{Type: p.AbortType, Reason: p.AbortReason}
		case PDUResult, PDUSegResult:
			if !tx.holdOn {
				tx.holdOn = true
				timer = t.clock.After(t.wait)
			}
			data, done, err := tx.resultPacket(p)
			if err != nil {
				return nil, err
			}
			if done {
				return data, nil
			}
		}
	}
}

// resultPacket stores one packet of the result. At a group or transmission
// trailer it acknowledges a complete group or asks for the missing packets
// with a Negative Ack; a missing packet that completes the group makes it
// acknowledged at once (WAP-224-WTP §8.14.3–4).
func (tx *transaction) resultPacket(p *PDU) ([]byte, bool, error) {
	psn := 0
	if p.Type == PDUSegResult {
		psn = int(p.PSN)
	}
	if psn < tx.groupStart {
		// A group we acknowledged already: our Ack was lost.
		if p.GTR || p.TTR {
			return nil, false, tx.w.send(&PDU{Type: PDUAck, TID: tx.tid, HasPSN: true, PSN: uint8(psn)})
		}
		return nil, false, nil
	}
	if p.GTR && p.TTR && psn != 0 {
		return nil, false, &AbortError{Type: AbortProvider, Reason: ReasonProtoErr, Local: true}
	}
	if !tx.have[psn] {
		if tx.size+len(p.Data) > tx.w.t.maxResult {
			return nil, false, &AbortError{Type: AbortProvider, Reason: ReasonMessageTooLarg, Local: true}
		}
		tx.parts[psn] = append([]byte(nil), p.Data...)
		tx.have[psn] = true
		tx.size += len(p.Data)
	}
	if p.GTR || p.TTR {
		if tx.trailer >= 0 && tx.trailer != psn {
			return nil, false, &AbortError{Type: AbortProvider, Reason: ReasonProtoErr, Local: true}
		}
		tx.trailer, tx.last, tx.noPSN = psn, p.TTR, p.GTR && p.TTR
	}
	if tx.trailer < 0 {
		return nil, false, nil
	}
	var missing []uint8
	for i := tx.groupStart; i <= tx.trailer; i++ {
		if !tx.have[i] {
			missing = append(missing, uint8(i))
		}
	}
	if len(missing) > 0 {
		if p.GTR || p.TTR {
			return nil, false, tx.w.send(&PDU{Type: PDUNack, TID: tx.tid, RID: p.RID, Missing: missing})
		}
		return nil, false, nil
	}
	ack := PDU{Type: PDUAck, TID: tx.tid}
	if !tx.noPSN {
		ack.HasPSN, ack.PSN = true, uint8(tx.trailer)
	}
	if err := tx.w.send(&ack); err != nil {
		return nil, false, err
	}
	end := tx.trailer
	tx.trailer = -1
	if !tx.last {
		tx.groupStart = end + 1
		return nil, false, nil
	}
	// The last packet: the message is complete.
	tx.w.last = ack.Append(nil)
	tx.w.lastTID = tx.tid
	out := make([]byte, 0, tx.size)
	for i := 0; i <= end; i++ {
		out = append(out, tx.parts[i]...)
	}
	return out, true, nil
}

// udpLink is a Link over a connected UDP socket.
type udpLink struct {
	c       *net.UDPConn
	in      chan []byte
	done    chan struct{}
	once    sync.Once
	refused atomic.Bool
}

// DialUDP opens a Link to a WAP gateway's connection-oriented WSP port
// ("host:port", port default 9201).
func DialUDP(addr string) (Link, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "9201")
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("wsp: gateway address %q: %w", addr, err)
	}
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, fmt.Errorf("wsp: %w", err)
	}
	l := &udpLink{c: c, in: make(chan []byte, 64), done: make(chan struct{})}
	go l.read()
	return l, nil
}

func (l *udpLink) read() {
	defer close(l.in)
	buf := make([]byte, 65536)
	for {
		n, err := l.c.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// An ICMP error (gateway not listening) surfaces here; the
			// transaction's retransmissions and bounds decide.
			if errors.Is(err, syscall.ECONNREFUSED) {
				l.refused.Store(true)
			}
			select {
			case <-l.done:
				return
			default:
				continue
			}
		}
		b := append([]byte(nil), buf[:n]...)
		select {
		case l.in <- b:
		case <-l.done:
			return
		}
	}
}

func (l *udpLink) Send(b []byte) error {
	_, err := l.c.Write(b)
	if errors.Is(err, syscall.ECONNREFUSED) {
		// An earlier datagram drew an ICMP port unreachable: nobody
		// listens (yet). Retransmission and its bound decide.
		l.refused.Store(true)
		return nil
	}
	return err
}

// Refused reports whether the gateway's port answered with ICMP port
// unreachable since the link opened.
func (l *udpLink) Refused() bool { return l.refused.Load() }

func (l *udpLink) Recv() <-chan []byte { return l.in }

func (l *udpLink) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.c.Close()
	})
	return err
}
