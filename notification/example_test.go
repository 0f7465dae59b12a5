package notification_test

import (
	"fmt"

	"github.com/omadm/omadm/notification"
)

// A server builds the package 0 of the spec's example and wraps it for SMS.
func ExamplePackage0_Encode() {
	p := notification.Package0{
		UIMode:    notification.UIBackground,
		SessionID: 0x1234,
		ServerID:  "com.mgmtsrv.manage",
	}
	pkg, err := p.Encode("srvpwd", []byte("srvnonce"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", pkg)
	sms, _ := notification.Wrap(notification.BearerSMS, pkg, 1, &notification.SMSOptions{SrcPort: 0xC002})
	fmt.Printf("%X\n", sms[0][:13])
	// Output:
	// 2e84b4d47d65793a313fb4b5ffcbaac502d0000000123412636f6d2e6d676d747372762e6d616e616765
	// 0605040B84C002010603C4AF87
}

// A device decodes whatever arrived and checks the digest, retrying with the
// reset nonce before ignoring the notification.
func ExampleDecodeAny() {
	pkg := []byte{
		0x2e, 0x84, 0xb4, 0xd4, 0x7d, 0x65, 0x79, 0x3a, 0x31, 0x3f, 0xb4, 0xb5, 0xff, 0xcb, 0xaa, 0xc5,
		0x02, 0xd0, 0x00, 0x00, 0x00, 0x12, 0x34, 0x12,
	}
	pkg = append(pkg, "com.mgmtsrv.manage"...)
	p, err := notification.DecodeAny(notification.EncodePush(1, pkg))
	if err != nil {
		panic(err)
	}
	nonce, ok := p.VerifyWithReset("srvpwd", []byte("srvnonce"))
	fmt.Println(p.ServerID, p.SessionIDString(), p.UIMode, ok, string(nonce))
	// Output: com.mgmtsrv.manage 1234 background true srvnonce
}
