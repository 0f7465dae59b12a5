package notification_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/omadm/omadm/notification"
)

// Pushes captured from a real gateway (Kannel 1.4.5's PPG) carrying the
// package 0 of server "com.mgmtsrv.manage", password "srvpwd", nonce
// "srvnonce", session 0x1234. Kannel deviates from
// OMA-TS-DM_Notification-V1_2 (WAP push bearer), which asks for the binary
// content type 0xC4 and at most 48 octets of WDP and WSP headers: it writes
// the content type as text ("application/vnd.syncml.notification\0") and
// adds Content-Length (0x0D) and Encoding-Version (0x43) headers, 42 octets
// of WSP headers in all. A device must still take them.
func TestUnwrap_AcceptsKannelPushes(t *testing.T) {
	tests := []struct {
		file   string
		bearer notification.Bearer
	}{
		{"testdata/kannel-ip-push.bin", notification.BearerWSP},  // PPG, IP bearer: the UDP datagram to port 2948
		{"testdata/kannel-sms-push.bin", notification.BearerSMS}, // PPG, SMS bearer: the SM user data (UDH + WSP push)
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, bearer := range []notification.Bearer{tt.bearer, notification.BearerAuto} {
				e, err := notification.Unwrap(bearer, b)
				if err != nil {
					t.Fatalf("%s: %v", bearer, err)
				}
				if e.Bearer != tt.bearer {
					t.Errorf("%s: detected bearer %s", bearer, e.Bearer)
				}
				if e.Push.ContentType != "application/vnd.syncml.notification" || e.Push.AppID != "x-wap-application:syncml.dm" {
					t.Errorf("%s: push %q %q", bearer, e.Push.ContentType, e.Push.AppID)
				}
				if !bytes.HasPrefix(e.Push.Headers, []byte("application/vnd.syncml.notification\x00")) {
					t.Errorf("%s: headers % X: not Kannel's text content type", bearer, e.Push.Headers)
				}
				p := e.Package
				if p.ServerID != "com.mgmtsrv.manage" || p.SessionID != 0x1234 || !p.Verify("srvpwd", []byte("srvnonce")) {
					t.Errorf("%s: package %+v does not verify", bearer, p)
				}
			}
			if _, err := notification.DecodeAny(b); err != nil {
				t.Fatal(err)
			}
		})
	}
}
