package notification_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
)

// OMA-TS-DM_Security-V1_2 §5.1.7.2: a bootstrap travels as
// application/vnd.syncml.dm+wbxml (WSP code 0x42) with its SEC and MAC
// content-type parameters (WSP parameter codes 0x11, 0x12), to the DM
// client's application id.
func TestBootstrapPush_RoundTripsSECAndMAC(t *testing.T) {
	body := []byte{0x02, 0x00, 0x00, 0x6A, 0x00}
	mac := strings.Repeat("ab", 20)
	for _, tc := range []struct {
		name string
		sec  int
		mac  string
	}{{"NETWPIN with MAC", 0, mac}, {"USERPINMAC without MAC", 3, ""}, {"no security", -1, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			pdu, err := notification.EncodeBootstrapPush(7, body, tc.sec, tc.mac)
			if err != nil {
				t.Fatal(err)
			}
			p, err := notification.DecodeBootstrapPush(pdu)
			if err != nil {
				t.Fatal(err)
			}
			if p.TID != 7 || p.SEC != tc.sec || p.MAC != tc.mac || !bytes.Equal(p.Body, body) {
				t.Errorf("decoded %+v", p)
			}
			if _, err := notification.DecodePush(pdu); err == nil {
				t.Error("a bootstrap push decoded as a package 0 push")
			}
		})
	}
	// The exact header bytes of a NETWPIN push: general-form content type
	// (length 0x1F 0x2D), 0xC2, SEC 0x91 0x80, MAC 0x92 "…" NUL, then the
	// application id 0xAF 0x87.
	pdu, _ := notification.EncodeBootstrapPush(1, nil, 0, mac)
	want := append(append([]byte{0x01, 0x06, 0x31, 0x1F, 0x2D, 0xC2, 0x91, 0x80, 0x92}, mac...), 0x00, 0xAF, 0x87)
	if !bytes.Equal(pdu, want) {
		t.Errorf("PDU % X\nwant % X", pdu, want)
	}
}

func TestDecodeBootstrapPush_RefusesOtherPushes(t *testing.T) {
	pkg0 := notification.EncodePush(1, []byte("pkg0"))
	if _, err := notification.DecodeBootstrapPush(pkg0); err == nil {
		t.Fatal("a package 0 push decoded as a bootstrap")
	}
	bad, _ := notification.EncodeBootstrapPush(1, nil, 0, "")
	bad[len(bad)-1] = 0x85 // another application id
	if _, err := notification.DecodeBootstrapPush(bad); err == nil {
		t.Fatal("another application's push accepted")
	}
}
