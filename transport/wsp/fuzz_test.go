package wsp_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/omadm/omadm/transport/wsp"
)

// FuzzDecodeWTP: any datagram decodes or errors, never panics; what decodes
// (one PDU, no unknown TPIs) encodes back to the same octets.
func FuzzDecodeWTP(f *testing.F) {
	for _, name := range []string{"abort-disconnect.hex", "connectreply.hex", "reply-200-hmac.hex", "reply-500.hex"} {
		f.Add(fixture(f, name))
	}
	for _, s := range []string{"0A 01 02 12 60", "98 81 02 19 02", "38 2C 9A 02 04 06", "2C 32 70 02 51", "00 03 18 81 02", "98 00 01 9D 00 19 01"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pdus, err := wsp.DecodeWTP(b)
		if err != nil {
			return
		}
		if len(pdus) != 1 || b[0] == 0 {
			return
		}
		p := pdus[0]
		out := p.Append(nil)
		again, err := wsp.DecodeWTP(out)
		if err != nil {
			t.Fatalf("re-encoded % X does not decode: %v", out, err)
		}
		q := again[0]
		if len(q.Data) == 0 {
			q.Data = p.Data[:0]
		}
		if len(q.Missing) == 0 && p.Missing != nil {
			q.Missing = p.Missing[:0]
		}
		if !reflect.DeepEqual(normPDU(p), normPDU(q)) {
			t.Fatalf("round trip %+v -> %+v", p, q)
		}
	})
}

func normPDU(p wsp.PDU) wsp.PDU {
	if len(p.Data) == 0 {
		p.Data = nil
	}
	if len(p.Missing) == 0 {
		p.Missing = nil
	}
	return p
}

// FuzzDecodeWSPReply: any Reply or ConnectReply decodes or errors, never
// panics, and a decoded body lies inside the input.
func FuzzDecodeWSPReply(f *testing.F) {
	for _, name := range []string{"reply-200-hmac.hex", "reply-500.hex", "reply-502-client-sdu-exceeded.hex", "connectreply.hex"} {
		p, err := wsp.DecodeWTP(fixture(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p[0].Data)
	}
	f.Add([]byte{0x04, 0x20, 0x01, 0xC3, 'x'})
	f.Add([]byte{0x04, 0x20, 0x06, 0x03, 0xC3, 0x81, 0xEA, 0x8D, 0x81})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := wsp.DecodeReply(b); err == nil {
			if len(r.Body) > len(b) || !bytes.HasSuffix(b, r.Body) {
				t.Fatalf("body not a suffix of the input")
			}
			if len(r.Headers) > wsp.MaxHeaders {
				t.Fatalf("%d headers", len(r.Headers))
			}
		}
		if cr, err := wsp.DecodeConnectReply(b); err == nil && len(cr.Headers) > wsp.MaxHeaders {
			t.Fatalf("%d headers", len(cr.Headers))
		}
	})
}
