package notification_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
)

func TestSpecSMSExample_DecodesFieldByFieldAndEncodesBackIdentically(t *testing.T) {
	ud := specSMS(t)
	env, err := notification.Unwrap(notification.BearerAuto, ud)
	if err != nil {
		t.Fatal(err)
	}
	if env.Bearer != notification.BearerSMS || len(env.SMS) != 1 {
		t.Fatalf("bearer %v, %d segments", env.Bearer, len(env.SMS))
	}
	s := env.SMS[0]
	if s.PortBits != 16 || s.DstPort != 2948 || s.SrcPort != 0xC002 || s.RefBits != 0 || s.Total != 1 || s.Seq != 1 {
		t.Errorf("UDH %+v", s)
	}
	push := env.Push
	if push.TID != 0x01 || push.ContentType != "application/vnd.syncml.notification" ||
		push.AppID != "x-wap-application:syncml.dm" || !bytes.Equal(push.Headers, []byte{0xC4, 0xAF, 0x87}) {
		t.Errorf("WSP %+v", push)
	}
	p := env.Package
	if p.Version != 11 || p.UIMode != notification.UIBackground || p.Initiator != notification.InitiatorClient ||
		p.SessionID != 0x1234 || p.ServerID != "com.mgmtsrv.manage" || len(p.Vendor) != 0 {
		t.Errorf("package %+v", p)
	}
	if !p.Verify("srvpwd", []byte("srvnonce")) {
		t.Error("digest of the spec example does not verify")
	}

	// Encoding the decoded fields back gives the same bytes.
	q := notification.Package0{Version: p.Version, UIMode: p.UIMode, Initiator: p.Initiator, SessionID: p.SessionID, ServerID: p.ServerID}
	raw, err := q.Encode("srvpwd", []byte("srvnonce"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := notification.Wrap(notification.BearerSMS, raw, push.TID, &notification.SMSOptions{SrcPort: s.SrcPort})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !bytes.Equal(out[0], ud) {
		t.Errorf("re-encoded\n %x\nwant\n %x", out, ud)
	}
}

func TestDecodeAny_DetectsRawWSPAndSMS(t *testing.T) {
	ud := specSMS(t)
	wsp := ud[7:]
	raw := wsp[6:]
	tests := []struct {
		name string
		in   []byte
		want notification.Bearer
	}{
		{"raw", raw, notification.BearerRaw},
		{"wsp push datagram", wsp, notification.BearerWSP},
		{"sms user data", ud, notification.BearerSMS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := notification.Unwrap(notification.BearerAuto, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if env.Bearer != tt.want || env.Package.ServerID != "com.mgmtsrv.manage" {
				t.Errorf("bearer %v, package %+v", env.Bearer, env.Package)
			}
			p, err := notification.DecodeAny(tt.in)
			if err != nil || !p.Verify("srvpwd", []byte("srvnonce")) {
				t.Errorf("DecodeAny: %+v, %v", p, err)
			}
		})
	}
	if _, err := notification.DecodeAny([]byte{1, 2, 3}); err == nil ||
		!strings.Contains(err.Error(), "raw") || !strings.Contains(err.Error(), "WSP") || !strings.Contains(err.Error(), "SMS") {
		t.Errorf("garbage: %v", err)
	}
}

func TestUnwrap_ForcedBearerRefusesOtherShapes(t *testing.T) {
	ud := specSMS(t)
	if _, err := notification.Unwrap(notification.BearerRaw, ud); err == nil {
		t.Error("SMS decoded as raw")
	}
	if _, err := notification.Unwrap(notification.BearerWSP, ud[7+6:]); err == nil {
		t.Error("raw decoded as WSP")
	}
	if _, err := notification.Unwrap(notification.BearerSMS, ud[7:]); err == nil {
		t.Error("WSP decoded as SMS")
	}
	if _, err := notification.Unwrap(notification.BearerRaw, ud, ud); err == nil {
		t.Error("two raw inputs accepted")
	}
	if _, err := notification.Unwrap(notification.BearerAuto); err == nil {
		t.Error("no input accepted")
	}
}

func TestDecodePush_AcceptsEquivalentHeaderEncodings(t *testing.T) {
	pkg := specSMS(t)[13:]
	tests := []struct {
		name    string
		headers string
	}{
		{"spec", "C4 AF 87"},
		{"content type as text", "6170706c69636174696f6e2f766e642e73796e636d6c2e6e6f74696669636174696f6e00 AF 87"},
		{"content type general form with charset", "03 C4 81 EA AF 87"},
		{"app id as long integer", "C4 AF 01 07"},
		{"app id as URI", "C4 AF 782d7761702d6170706c69636174696f6e3a73796e636d6c2e646d00"},
		{"extra headers before and after", "C4 A9 81 AF 87 582d4100763100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := unhex(t, tt.headers)
			pdu := cat([]byte{0x2A, 0x06, byte(len(h))}, h, pkg)
			p, err := notification.DecodePush(pdu)
			if err != nil {
				t.Fatal(err)
			}
			if p.TID != 0x2A || !bytes.Equal(p.Body, pkg) || !bytes.Equal(p.Headers, h) {
				t.Errorf("got %+v", p)
			}
		})
	}
}

func TestDecodePush_RejectsBadPDUsWithClearErrors(t *testing.T) {
	tests := []struct{ name, pdu, msg string }{
		{"empty", "", "shorter"},
		{"confirmed push", "01 07 03 C4 AF 87", "PDU type 0x07"},
		{"headers length beyond end", "01 06 09 C4 AF 87", "headers length 9"},
		{"endless uintvar", "01 06 FF FF FF FF FF FF", "uintvar"},
		{"truncated uintvar", "01 06 81", "truncated uintvar"},
		{"uintvar over 32 bits", "01 06 9F FF FF FF 7F", "32 bits"},
		{"other content type", "01 06 03 C2 AF 87", "application/vnd.syncml.dm+wbxml"},
		{"unknown content type code", "01 06 03 FF AF 87", "0x7F"},
		{"no app id", "01 06 01 C4", "no X-Wap-Application-Id"},
		{"other app id", "01 06 03 C4 AF 82", "is not x-wap-application:syncml.dm"},
		{"app id twice", "01 06 05 C4 AF 87 AF 87", "repeated"},
		{"value length beyond headers", "01 06 03 C4 AF 05", "value length 5"},
		{"unterminated text", "01 06 03 C4 AF 41", "unterminated"},
		{"code page shift", "01 06 03 C4 7F 02", "shift"},
		{"long integer too long", "01 06 09 C4 AF 06 01 02 03 04 05 06", "6 octets"},
		{"empty headers", "01 06 00", "no content type"},
		{"unterminated application header", "01 06 03 C4 41 42", "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notification.DecodePush(unhex(t, tt.pdu))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, notification.ErrWSP) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want ErrWSP mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestParseSMS_RejectsBadUDHWithClearErrors(t *testing.T) {
	tests := []struct{ name, ud, msg string }{
		{"empty", "", "empty"},
		{"udhl zero", "00 01 06", "UDH length 0"},
		{"udhl beyond end", "09 05 04 0B 84", "UDH length 9"},
		{"ie cut short", "01 05", "cut short"},
		{"ie length beyond udh", "03 05 04 0B", "exceeds"},
		{"port ie wrong length", "04 05 02 0B 84", "length 2, want 4"},
		{"port twice", "0C 05 04 0B 84 C0 02 05 04 0B 84 C0 02", "repeated"},
		{"concat wrong length", "04 00 02 01 01", "length 2, want 3"},
		{"concat seq 0", "05 00 03 01 02 00", "segment 0 of 2"},
		{"concat seq beyond total", "05 00 03 01 02 03", "segment 3 of 2"},
		{"concat total 0", "05 00 03 01 00 00", "segment 0 of 0"},
		{"concat twice", "0B 00 03 01 02 01 08 04 00 01 02 01", "repeated"},
		{"longer than one SM", "01" + strings.Repeat("00", 140), "140"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notification.ParseSMS(unhex(t, tt.ud))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, notification.ErrUDH) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want ErrUDH mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestUnwrapSMS_RequiresPortAddressingToTheDMPushPort(t *testing.T) {
	wsp := specSMS(t)[7:]
	tests := []struct{ name, udh, msg string }{
		{"no port", "03 24 01 00", "no port addressing"},
		{"other port", "06 05 04 0B 85 C0 02", "destination port 2949"},
		{"8-bit port", "04 04 02 0B 02", "destination port 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notification.Unwrap(notification.BearerSMS, cat(unhex(t, tt.udh), wsp))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want one mentioning %q", err, tt.msg)
			}
		})
	}
}

// bigPackage returns a package 0 whose vendor data forces concatenated SMs.
func bigPackage(t testing.TB, vendor int) []byte {
	t.Helper()
	p := notification.Package0{ServerID: "dm.example.com", SessionID: 0xBEEF, Vendor: bytes.Repeat([]byte{0xA5}, vendor)}
	b, err := p.Encode("pw", []byte("n"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeSMS_SplitsIntoConcatenatedSMsThatReassemble(t *testing.T) {
	for _, ref16 := range []bool{false, true} {
		pkg := bigPackage(t, 400)
		sms, err := notification.Wrap(notification.BearerSMS, pkg, 9, &notification.SMSOptions{Ref: 0x1A2B, Ref16: ref16})
		if err != nil {
			t.Fatal(err)
		}
		per := 128
		if ref16 {
			per = 127
		}
		if want := (6 + len(pkg) + per - 1) / per; len(sms) != want {
			t.Fatalf("ref16=%v: %d SMs, want %d", ref16, len(sms), want)
		}
		for i, ud := range sms {
			if len(ud) > 140 {
				t.Errorf("SM %d is %d octets", i+1, len(ud))
			}
			s, err := notification.ParseSMS(ud)
			if err != nil {
				t.Fatal(err)
			}
			if s.DstPort != 2948 || s.SrcPort != 9200 || int(s.Seq) != i+1 || int(s.Total) != len(sms) {
				t.Errorf("SM %d: %+v", i+1, s)
			}
		}
		if !ref16 && !bytes.Equal(sms[0][:12], unhex(t, "0B 05 04 0B 84 23 F0 00 03 2B 04 01")) {
			t.Errorf("first UDH %x", sms[0][:12])
		}
		// Out of order, with a duplicate.
		shuffled := append([][]byte{sms[1]}, sms...)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		env, err := notification.Unwrap(notification.BearerAuto, shuffled...)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(env.Package.Vendor, bytes.Repeat([]byte{0xA5}, 400)) || !env.Package.Verify("pw", []byte("n")) {
			t.Errorf("reassembled package %+v", env.Package)
		}
		if _, err := notification.Unwrap(notification.BearerSMS, sms[1:]...); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("missing first segment: %v", err)
		}
		// A single segment of a concatenated message is not a package.
		if _, err := notification.DecodeAny(sms[0]); err == nil {
			t.Error("one segment decoded")
		}
	}
}

func TestEncodeSMS_RefusesMoreThan255Segments(t *testing.T) {
	if _, err := notification.EncodeSMS(make([]byte, 255*128+1), nil); err == nil || !strings.Contains(err.Error(), "255") {
		t.Errorf("error %v", err)
	}
	if out, err := notification.EncodeSMS(make([]byte, 133), nil); err != nil || len(out) != 1 || len(out[0]) != 140 {
		t.Errorf("133 octets: %d SMs, %v", len(out), err)
	}
	if out, err := notification.EncodeSMS(make([]byte, 134), nil); err != nil || len(out) != 2 {
		t.Errorf("134 octets: %d SMs, %v", len(out), err)
	}
}

func TestReassemble_RejectsMixedMessages(t *testing.T) {
	pkg := bigPackage(t, 200)
	a, _ := notification.EncodeSMS(notification.EncodePush(1, pkg), &notification.SMSOptions{Ref: 1})
	b, _ := notification.EncodeSMS(notification.EncodePush(1, pkg), &notification.SMSOptions{Ref: 2})
	if _, err := notification.Unwrap(notification.BearerSMS, a[0], b[1]); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("error %v", err)
	}
	single := specSMS(t)
	if _, err := notification.Unwrap(notification.BearerSMS, single, single); err == nil {
		t.Error("two unconcatenated SMs accepted")
	}
	if _, err := notification.Reassemble(nil); err == nil {
		t.Error("no segments accepted")
	}
}

func TestReassembler_DeliversCompleteMessagesAndBoundsPending(t *testing.T) {
	pkg := bigPackage(t, 300)
	sms, _ := notification.EncodeSMS(notification.EncodePush(1, pkg), &notification.SMSOptions{Ref: 5})
	r := &notification.Reassembler{MaxPending: 2}
	var got []byte
	for i := len(sms) - 1; i >= 0; i-- {
		p, done, err := r.Add("+1555", sms[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, dup, _ := r.Add("+1555", sms[i]); dup && i != 0 {
			t.Error("duplicate completed a message")
		}
		if done {
			got = p
		}
	}
	if !bytes.Equal(got, notification.EncodePush(1, pkg)) {
		t.Fatalf("reassembled %x", got)
	}
	// Fragments of many messages: only MaxPending kept, so the first one's
	// remaining segments no longer complete it.
	for ref := uint16(10); ref < 14; ref++ {
		s, _ := notification.EncodeSMS(notification.EncodePush(1, pkg), &notification.SMSOptions{Ref: ref})
		if _, done, err := r.Add("+1555", s[0]); done || err != nil {
			t.Fatalf("ref %d: %v %v", ref, done, err)
		}
	}
	s10, _ := notification.EncodeSMS(notification.EncodePush(1, pkg), &notification.SMSOptions{Ref: 10})
	for _, seg := range s10[1:] {
		if _, done, _ := r.Add("+1555", seg); done {
			t.Error("evicted message completed")
		}
	}
	// An unconcatenated SM completes at once.
	if p, done, err := r.Add("+1", specSMS(t)); !done || err != nil || len(p) == 0 {
		t.Errorf("single SM: %v %v", done, err)
	}
	if _, _, err := r.Add("+1", []byte{0}); err == nil {
		t.Error("bad SM accepted")
	}
}
