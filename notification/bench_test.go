package notification_test

import (
	"testing"

	"github.com/omadm/omadm/notification"
)

func BenchmarkEncodeSMS(b *testing.B) {
	p := notification.Package0{ServerID: "com.mgmtsrv.manage", SessionID: 0x1234}
	for b.Loop() {
		pkg, err := p.Encode("srvpwd", []byte("srvnonce"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := notification.Wrap(notification.BearerSMS, pkg, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAnyAndVerify_SMS(b *testing.B) {
	ud := specSMS(b)
	for b.Loop() {
		p, err := notification.DecodeAny(ud)
		if err != nil || !p.Verify("srvpwd", []byte("srvnonce")) {
			b.Fatal(err)
		}
	}
}
