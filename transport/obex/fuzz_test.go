package obex_test

import (
	"bytes"
	"io"
	"net"
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

// FuzzServerConn: any byte stream a peer sends gets answers or a closed
// connection, never a panic or a hang; the engine sees only whole messages
// of a DM type within the size limit.
func FuzzServerConn(f *testing.F) {
	var seed []byte
	for _, p := range []obex.Packet{
		{Code: obex.OpConnect, Version: obex.Version, MaxPacket: 255, Headers: []obex.Header{obex.Bytes(obex.HdrTarget, []byte(obex.Target))}},
		{Code: obex.OpPut, Headers: []obex.Header{obex.TypeHeader(typeXML), obex.Uint32(obex.HdrLength, 4), obex.Bytes(obex.HdrBody, []byte("<a"))}},
		{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{obex.Bytes(obex.HdrEndOfBody, []byte("/>"))}},
		{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{obex.TypeHeader(typeXML)}},
		{Code: obex.OpAbort},
		{Code: obex.OpDisconnect},
	} {
		b, _ := p.Append(nil, obex.FormRequest)
		seed = append(seed, b...)
	}
	f.Add(seed)
	f.Add([]byte{0x80, 0, 7, 0x10, 0, 0, 0})
	f.Fuzz(func(t *testing.T, stream []byte) {
		e := &echoEngine{max: 64}
		s := obex.NewServer(e, &obex.ServerOptions{Logger: quietLog(), MaxPacket: 512})
		cli, srv := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- s.ServeConn(srv, "fuzz") }()
		go func() { _, _ = io.Copy(io.Discard, cli) }()
		_, _ = cli.Write(stream) // fails once the server closed
		cli.Close()
		<-done
		for _, in := range e.handled() {
			if len(in.Body) == 0 || len(in.Body) > 64 {
				t.Fatalf("engine got a message of %d bytes", len(in.Body))
			}
		}
	})
}
