package obex_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/transport/obex"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden packets, laid out per IrOBEX 1.2 §3.1 (opcode, two-byte length
// counting the whole packet, headers), §3.3.1 (CONNECT's version, flags and
// maximum packet length) and §2.1 (header encodings by the top two bits).
var golden = []struct {
	name string
	form obex.Form
	p    obex.Packet
	wire string
}{
	{"connect to SYNCML-DM", obex.FormRequest,
		obex.Packet{Code: obex.OpConnect, Version: 0x10, MaxPacket: 0x2000, Headers: []obex.Header{obex.Bytes(obex.HdrTarget, []byte("SYNCML-DM"))}},
		"80 0013 10 00 2000 46 000c 53594e434d4c2d444d"},
	{"connect response with who and connection id", obex.FormConnectResponse,
		obex.Packet{Code: obex.RespOK, Version: 0x10, MaxPacket: 0xFFFF, Headers: []obex.Header{obex.Uint32(obex.HdrConnectionID, 0x01020304), obex.Bytes(obex.HdrWho, []byte("SYNCML-DM"))}},
		"a0 0018 10 00 ffff cb 01020304 4a 000c 53594e434d4c2d444d"},
	{"final put of a DM message", obex.FormRequest,
		obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{obex.Uint32(obex.HdrConnectionID, 7), obex.TypeHeader("application/vnd.syncml.dm+xml"), obex.Uint32(obex.HdrLength, 2), obex.Bytes(obex.HdrEndOfBody, []byte("<a"))}},
		"82 0033 cb 00000007 42 0021 6170706c69636174696f6e2f766e642e73796e636d6c2e646d2b786d6c00 c3 00000002 49 0005 3c61"},
	{"continue response to a put packet", obex.FormResponse, obex.Packet{Code: obex.RespContinue}, "90 0003"},
	{"get request with a text name header", obex.FormRequest,
		obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{obex.Text(obex.HdrName, "dm")}},
		"83 000c 01 0009 0064 006d 0000"},
	{"setpath with flags and constants", obex.FormRequest,
		obex.Packet{Code: obex.OpSetPath, Flags: 2, Headers: []obex.Header{{ID: 0x80 | 0x10, Value: 5}}},
		"85 0007 02 00 90 05"},
	{"abort", obex.FormRequest, obex.Packet{Code: obex.OpAbort}, "ff 0003"},
}

func TestPacket_GoldenEncoding(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			got, err := g.p.Append(nil, g.form)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, g.wire)
			if !bytes.Equal(got, want) {
				t.Fatalf("encoded\n%x\nwant\n%x", got, want)
			}
		})
	}
}

func TestPacket_GoldenDecoding(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			p, err := obex.DecodePacket(unhex(t, g.wire), g.form)
			if err != nil {
				t.Fatal(err)
			}
			again, err := p.Append(nil, g.form)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, unhex(t, g.wire)) {
				t.Fatalf("decoded and re-encoded\n%x\nwant\n%s", again, g.wire)
			}
		})
	}
}

func TestPacket_HeaderValues(t *testing.T) {
	p, err := obex.DecodePacket(unhex(t, golden[2].wire), obex.FormRequest)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Final() {
		t.Error("final bit not seen")
	}
	if got := p.Header(obex.HdrType).TypeString(); got != "application/vnd.syncml.dm+xml" {
		t.Errorf("type %q", got)
	}
	if got := p.Header(obex.HdrLength).Value; got != 2 {
		t.Errorf("length %d", got)
	}
	q, err := obex.DecodePacket(unhex(t, golden[4].wire), obex.FormRequest)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Header(obex.HdrName).TextString(); got != "dm" {
		t.Errorf("name %q", got)
	}
	if p.Header(obex.HdrWho) != nil {
		t.Error("absent header found")
	}
}

// Every malformed shape is refused with ErrMalformed, never a panic or a
// read outside the packet (IrOBEX 1.2 §3.1: the length field counts the
// whole packet; §2.1: header lengths count identifier and length field).
func TestPacket_DecodeRefusesMalformed(t *testing.T) {
	many := []byte{0x02, 0, 0}
	for range obex.MaxHeaders + 1 {
		many = append(many, 0x93, 1)
	}
	many[1], many[2] = byte(len(many)>>8), byte(len(many))
	cases := []struct {
		name string
		form obex.Form
		wire []byte
	}{
		{"shorter than three bytes", obex.FormRequest, unhex(t, "82 00")},
		{"length field larger than the packet", obex.FormRequest, unhex(t, "82 0009 4900 05")},
		{"length field smaller than the packet", obex.FormRequest, unhex(t, "82 0003 00")},
		{"connect without its fields", obex.FormRequest, unhex(t, "80 0005 10 00")},
		{"connect with a maximum packet below 255", obex.FormRequest, unhex(t, "80 0007 10 00 00fe")},
		{"connect response without its fields", obex.FormConnectResponse, unhex(t, "a0 0003")},
		{"setpath without its fields", obex.FormRequest, unhex(t, "85 0004 02")},
		{"byte header longer than the packet", obex.FormRequest, unhex(t, "82 0008 49 0009 3c61")},
		{"byte header length below three", obex.FormRequest, unhex(t, "82 0006 49 0002 3c")},
		{"truncated four-byte header", obex.FormRequest, unhex(t, "82 0006 cb 0001")},
		{"truncated one-byte header", obex.FormRequest, unhex(t, "82 0004 93")},
		{"truncated length of a byte header", obex.FormRequest, unhex(t, "82 0005 49 00")},
		{"text header of odd length", obex.FormRequest, unhex(t, "82 0007 01 0004 00")},
		{"too many headers", obex.FormRequest, many},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := obex.DecodePacket(c.wire, c.form)
			if !errors.Is(err, obex.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// The length field is checked against the receiver's maximum before the
// rest is read (IrOBEX 1.2 §3.3.1.4: a peer never sends more than the
// maximum the other announced).
func TestReadPacket_RefusesLongerThanMaximumBeforeReadingIt(t *testing.T) {
	r := &countingReader{b: append(unhex(t, "82 0400"), make([]byte, 0x400-3)...)}
	_, err := obex.ReadPacket(r, nil, 255)
	if !errors.Is(err, obex.ErrPacketTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if r.n != 3 {
		t.Fatalf("read %d bytes, want only the 3 of the packet header", r.n)
	}
	if _, err := obex.ReadPacket(bytes.NewReader(unhex(t, "82 0002")), nil, 255); !errors.Is(err, obex.ErrMalformed) {
		t.Fatalf("length 2: err = %v", err)
	}
	got, err := obex.ReadPacket(bytes.NewReader(unhex(t, golden[2].wire+"ff0003")), nil, 255)
	if err != nil || !bytes.Equal(got, unhex(t, golden[2].wire)) {
		t.Fatalf("got %x, %v", got, err)
	}
}

func TestPacket_AppendRefusesOversize(t *testing.T) {
	p := obex.Packet{Code: obex.OpPut, Headers: []obex.Header{obex.Bytes(obex.HdrBody, make([]byte, obex.MaxPacketSize))}}
	if _, err := p.Append(nil, obex.FormRequest); err == nil {
		t.Fatal("packet over 65535 bytes encoded")
	}
}

type countingReader struct {
	b []byte
	n int
}

func (r *countingReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.n:])
	r.n += n
	return n, nil
}

func BenchmarkDecodePacket(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 8000)
	p := obex.Packet{Code: obex.OpPut, Headers: []obex.Header{obex.Uint32(obex.HdrConnectionID, 1), obex.TypeHeader("application/vnd.syncml.dm+wbxml"), obex.Uint32(obex.HdrLength, 8000), obex.Bytes(obex.HdrBody, body)}}
	wire, _ := p.Append(nil, obex.FormRequest)
	var q obex.Packet
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Decode(wire, obex.FormRequest); err != nil {
			b.Fatal(err)
		}
	}
}
