package pushgw_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/notification/pushgw"
)

// wait bounds every wait on the gateway: a hang fails the test, it is not a
// speed expectation.
const wait = 30 * time.Second

// pkg0 builds a package 0 with vendor bytes of the given size (to force
// segmentation).
func pkg0(t *testing.T, vendor int) []byte {
	t.Helper()
	v := make([]byte, vendor)
	for i := range v {
		v[i] = byte(i*7 + 1) // every byte value, CR, LF and '%' among them
	}
	p := notification.Package0{UIMode: notification.UIBackground, Initiator: notification.InitiatorServer,
		SessionID: 0x1234, ServerID: "com.mgmtsrv.manage", Vendor: v}
	b, err := p.Encode("srvpwd", []byte("srvnonce"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkPush decodes the WSP push PDU a gateway delivered and checks it
// against OMA-TS-DM_Notification-V1_2 (WAP push bearer): PDU type Push, the
// notification media type (code 0x44 or its text), X-Wap-Application-Id
// syncml.dm, and the package 0 as the body, byte for byte.
func checkPush(t *testing.T, pdu, want []byte) *notification.Push {
	t.Helper()
	if len(pdu) < 2 || pdu[1] != 0x06 {
		t.Fatalf("not a WSP Push PDU (type 0x06): % X", pdu)
	}
	p, err := notification.DecodePush(pdu)
	if err != nil {
		t.Fatalf("decoding the gateway's push: %v\n% X", err, pdu)
	}
	if p.ContentType != pushgw.ContentType || p.AppID != pushgw.ApplicationID {
		t.Errorf("content type %q app id %q", p.ContentType, p.AppID)
	}
	if !bytes.Equal(p.Body, want) {
		t.Fatalf("body differs from the package 0:\n got % X\nwant % X", p.Body, want)
	}
	return p
}

// portUDH is the UDH of a single-SM WAP push (3GPP TS 23.040 §9.2.3.24.4,
// 16-bit ports 2948 ← 9200), as in OMA-TS-DM_Notification-V1_2's SMS example.
var portUDH = []byte{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}

// A push through the PPG on the IP bearer reaches UDP port 2948 of the
// address as a connectionless WSP push carrying the package 0 unchanged.
func TestPPGSender_IPBearerDeliversWSPPushToPort2948(t *testing.T) {
	g := kannel.Start(t, kannel.Options{PPG: true})
	// Port 2948 is fixed (WAP-259-WDP: connectionless push port); the
	// gateway lock held by Start keeps other tests off it.
	conn, err := net.ListenPacket("udp", "127.0.0.1:2948")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	want := pkg0(t, 0)
	s := &pushgw.PPGSender{URL: g.PPGURL, Domain: "ppg.example.net"}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.Send(ctx, "wappush-ip:127.0.0.1", want); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 64<<10)
	n, from, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no datagram on 2948: %v", err)
	}
	checkPush(t, buf[:n], want)
	if from.(*net.UDPAddr).Port != kannel.WSPPort {
		t.Logf("source port %d", from.(*net.UDPAddr).Port)
	}
	if dir := os.Getenv("OMADM_CAPTURE_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "kannel-ip-push.bin"), buf[:n], 0o644)
	}
}

// A push through the PPG to a PLMN address goes out as a binary SMS with
// the WAP push port UDH, and its user data is the WSP push with the
// package 0; a push too long for one SM comes as concatenated SMs, each with
// the port and a concatenation element (3GPP TS 23.040 §9.2.3.24.1).
func TestPPGSender_SMSBearerReachesSMSCWithPushUDH(t *testing.T) {
	g := kannel.Start(t, kannel.Options{PPG: true, FakeSMSC: true})
	s := &pushgw.PPGSender{URL: g.PPGURL}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, tt := range []struct {
		name   string
		vendor int
		multi  bool
	}{{"one SM", 0, false}, {"concatenated", 300, true}} {
		t.Run(tt.name, func(t *testing.T) {
			want := pkg0(t, tt.vendor)
			if err := s.Send(ctx, "wappush:+15551234567", want); err != nil {
				t.Fatal(err)
			}
			var r notification.Reassembler
			for {
				m := g.NextSMS(wait)
				if m.To != "+15551234567" {
					t.Errorf("to %q", m.To)
				}
				if !tt.multi && !bytes.Equal(m.UDH, portUDH) {
					t.Fatalf("UDH % X, want % X", m.UDH, portUDH)
				}
				sm, err := notification.ParseSMS(m.UserData())
				if err != nil {
					t.Fatalf("SM user data: %v: % X", err, m.UserData())
				}
				if sm.PortBits != 16 || sm.DstPort != notification.PushPort {
					t.Fatalf("SM not addressed to port 2948: UDH % X", m.UDH)
				}
				if tt.multi && sm.RefBits == 0 {
					t.Fatalf("segment without a concatenation element: UDH % X", m.UDH)
				}
				t.Logf("segment UDH % X, %d data octets", m.UDH, len(m.Data))
				pdu, done, err := r.Add(m.From, m.UserData())
				if err != nil {
					t.Fatal(err)
				}
				if !done {
					continue
				}
				checkPush(t, pdu, want)
				if dir := os.Getenv("OMADM_CAPTURE_DIR"); dir != "" && !tt.multi {
					_ = os.WriteFile(filepath.Join(dir, "kannel-sms-push.bin"), m.UserData(), 0o644)
				}
				return
			}
		})
	}
}

// The sendsms sender frames the push itself: one SM with UDH
// 06 05 04 0B 84 23 F0 then TID, 0x06, headers 03 C4 AF 87 and the package
// (OMA-TS-DM_Notification-V1_2 SMS example), and concatenated SMs, each
// repeating the port element with a concatenation element (3GPP TS 23.040
// §9.2.3.24.1), when the PDU exceeds one SM.
func TestSendSMSSender_DeliversPushSMThroughKannel(t *testing.T) {
	g := kannel.Start(t, kannel.Options{SMSBox: true, FakeSMSC: true})
	s := &pushgw.SendSMSSender{URL: g.SendSMSURL, User: g.SendSMSUser, Password: g.SendSMSPassword, From: "1234"}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	tests := []struct {
		name     string
		vendor   int
		segments int
	}{
		{"one SM", 0, 1},
		{"fits exactly", 133 - 6 - 42, 1},
		{"three segments", 300, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := pkg0(t, tt.vendor)
			if err := s.Send(ctx, "sms:+15551234567", want); err != nil {
				t.Fatal(err)
			}
			var r notification.Reassembler
			var pdu []byte
			for i := 0; i < tt.segments; i++ {
				m := g.NextSMS(wait)
				if m.To != "+15551234567" || m.From != "1234" {
					t.Errorf("from %q to %q", m.From, m.To)
				}
				if tt.segments == 1 {
					if !bytes.Equal(m.UDH, portUDH) {
						t.Fatalf("UDH % X, want % X", m.UDH, portUDH)
					}
				} else {
					// UDHL 11: port element, then concatenation IEI 0x00
					// length 3, ref, total, sequence.
					if len(m.UDH) != 12 || !bytes.Equal(m.UDH[:7], []byte{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}) ||
						m.UDH[7] != 0x00 || m.UDH[8] != 0x03 || m.UDH[10] != byte(tt.segments) || m.UDH[11] != byte(i+1) {
						t.Fatalf("segment %d UDH % X", i+1, m.UDH)
					}
				}
				if len(m.UserData()) > notification.SMSUserDataSize {
					t.Fatalf("SM of %d octets", len(m.UserData()))
				}
				p, done, err := r.Add(m.From, m.UserData())
				if err != nil {
					t.Fatal(err)
				}
				if done {
					pdu = p
				}
			}
			if pdu == nil {
				t.Fatal("message incomplete")
			}
			// The exact WSP header bytes of the spec's example.
			if !bytes.Equal(pdu[1:6], []byte{0x06, 0x03, 0xC4, 0xAF, 0x87}) {
				t.Errorf("WSP header % X", pdu[:6])
			}
			checkPush(t, pdu, want)
		})
	}
}

// Kannel refuses a sendsms request with bad credentials; the error says so
// without the password.
func TestSendSMSSender_BadCredentialsAreAnErrorWithoutThePassword(t *testing.T) {
	g := kannel.Start(t, kannel.Options{SMSBox: true})
	s := &pushgw.SendSMSSender{URL: g.SendSMSURL, User: g.SendSMSUser, Password: "wrong-secret", From: "1234"}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := s.Send(ctx, "sms:+15551234567", pkg0(t, 0))
	if err == nil {
		t.Fatal("accepted with a wrong password")
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("error shows the password: %v", err)
	}
	t.Log(err)
}

// A PPG that requires authentication accepts the push initiator's account
// and refuses a wrong password.
func TestPPGSender_BasicAuthAgainstKannel(t *testing.T) {
	g := kannel.Start(t, kannel.Options{PPG: true, PPGUser: "omadm", PPGPassword: "ppg-secret", FakeSMSC: true})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	bad := &pushgw.PPGSender{URL: g.PPGURL, User: "omadm", Password: "wrong-secret"}
	err := bad.Send(ctx, "wappush:+15551234567", pkg0(t, 0))
	if err == nil {
		t.Fatal("PPG accepted a wrong password")
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "401") {
		t.Errorf("err = %v, want the PPG's 401", err)
	}
	good := &pushgw.PPGSender{URL: g.PPGURL, User: "omadm", Password: "ppg-secret"}
	want := pkg0(t, 0)
	if err := good.Send(ctx, "wappush:+15551234567", want); err != nil {
		t.Fatal(err)
	}
	checkPush(t, g.NextSMS(wait).Data, want)
}

// A PPG refuses what it cannot deliver in the PAP answer, not in the HTTP
// status (Kannel answers 202 with the refusal's code): the sender reads the
// code and reports it. Kannel 1.4.5 has no IPv6 bearer.
func TestPPGSender_KannelRefusalIsAPAPError(t *testing.T) {
	g := kannel.Start(t, kannel.Options{PPG: true})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := (&pushgw.PPGSender{URL: g.PPGURL}).Send(ctx, "wappush-ip:[::1]", pkg0(t, 0))
	var pe *pushgw.PAPError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a PAP refusal", err)
	}
	if pe.Code == 1000 || pe.Code == 1001 || !strings.Contains(err.Error(), "PAP code") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}
