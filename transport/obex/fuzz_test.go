package obex_test

import (
	"bytes"
	"testing"

	"github.com/omadm/omadm/transport/obex"
)

// FuzzDecodePacket: decoding never panics nor reads outside the packet,
// and whatever decodes encodes back to the same bytes. Crashers found by
// it are kept as named cases of TestPacket_DecodeRefusesMalformed.
func FuzzDecodePacket(f *testing.F) {
	for _, g := range golden {
		f.Add(unhex(f, g.wire), uint8(g.form))
	}
	f.Add([]byte{0x80, 0, 3}, uint8(obex.FormRequest))
	f.Add([]byte{0xa0, 0, 7, 0x10, 0, 0, 0}, uint8(obex.FormConnectResponse))
	f.Fuzz(func(t *testing.T, b []byte, form uint8) {
		fm := obex.Form(form % 3)
		p, err := obex.DecodePacket(b, fm)
		if err != nil {
			return
		}
		again, err := p.Append(nil, fm)
		if err != nil {
			t.Fatalf("decoded packet does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded\n%x\nfrom\n%x", again, b)
		}
		if _, err := obex.ReadPacket(bytes.NewReader(b), nil, obex.MaxPacketSize); err != nil {
			t.Fatalf("ReadPacket refuses a packet Decode took: %v", err)
		}
	})
}
