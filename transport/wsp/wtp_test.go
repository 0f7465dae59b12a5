package wsp_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/omadm/omadm/transport/wsp"
)

// Every PDU type encodes to the octets WAP-224-WTP §9.2 lays out and
// decodes back to the same fields.
func TestWTP_PDUsEncodeToTheSpecLayoutAndBack(t *testing.T) {
	tests := []struct {
		name string
		pdu  wsp.PDU
		hex  string
	}{
		// Invoke: CON|type 1|GTR|TTR|RID, TID, version|TIDnew|U/P|RES|TCL (§9.2.1).
		{"class 2 invoke, last packet, SAR supported", wsp.PDU{Type: wsp.PDUInvoke, TTR: true, TID: 0x0102, UserAck: true, Class: 2, Data: []byte{0x60}}, "0A 01 02 12 60"},
		{"class 0 invoke, SAR not supported", wsp.PDU{Type: wsp.PDUInvoke, GTR: true, TTR: true, TID: 0x7FFF, Data: []byte{0x05, 0x00}}, "0E 7F FF 00 05 00"},
		{"retransmitted invoke with TIDnew", wsp.PDU{Type: wsp.PDUInvoke, TTR: true, RID: true, TID: 1, TIDNew: true, UserAck: true, Class: 2}, "0B 00 01 32"},
		// Result (§9.2.2): 3-octet header.
		{"result", wsp.PDU{Type: wsp.PDUResult, TTR: true, TID: 0x815A, Data: []byte{2}}, "12 81 5A 02"},
		// Ack (§9.2.3): Tve/Tok in bit 2; a group ack carries the PSN TPI (§9.4.2).
		{"ack", wsp.PDU{Type: wsp.PDUAck, TID: 0x0102}, "18 01 02"},
		{"ack TIDok", wsp.PDU{Type: wsp.PDUAck, TID: 0x0102, TIDVerifyFlag: true}, "1C 01 02"},
		{"group ack", wsp.PDU{Type: wsp.PDUAck, TID: 0x8102, HasPSN: true, PSN: 2}, "98 81 02 19 02"},
		// Abort (§9.2.4): abort type in the low 3 bits, reason octet.
		{"user abort DISCONNECT", wsp.PDU{Type: wsp.PDUAbort, TID: 0x815D, AbortType: wsp.AbortUser, AbortReason: 0xE1}, "21 81 5D E1"},
		// Segmented Invoke / Result (§9.2.5–6): PSN octet.
		{"segmented invoke, group trailer", wsp.PDU{Type: wsp.PDUSegInvoke, GTR: true, TID: 0x3270, PSN: 2, Data: []byte{0x51}}, "2C 32 70 02 51"},
		{"segmented result, last, retransmitted", wsp.PDU{Type: wsp.PDUSegResult, TTR: true, RID: true, TID: 0xB270, PSN: 7, Data: []byte{0x52}}, "33 B2 70 07 52"},
		// Negative Ack (§9.2.7): count then the missing PSNs.
		{"nack", wsp.PDU{Type: wsp.PDUNack, TID: 0x2C9A, Missing: []byte{4, 6}}, "38 2C 9A 02 04 06"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.hex)
			if got := tt.pdu.Append(nil); !bytes.Equal(got, want) {
				t.Fatalf("encoded % X, want % X", got, want)
			}
			got, err := wsp.DecodeWTP(want)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d PDUs", len(got))
			}
			norm := func(p wsp.PDU) wsp.PDU {
				if len(p.Data) == 0 {
					p.Data = nil
				}
				if len(p.Missing) == 0 {
					p.Missing = nil
				}
				return p
			}
			if !reflect.DeepEqual(norm(got[0]), norm(tt.pdu)) {
				t.Errorf("decoded %+v, want %+v", got[0], tt.pdu)
			}
		})
	}
}

// The datagrams Kannel sent decode as the PDUs they are.
func TestWTP_DecodesKannelDatagrams(t *testing.T) {
	p, err := wsp.DecodeWTP(fixture(t, "abort-disconnect.hex"))
	if err != nil || p[0].Type != wsp.PDUAbort || p[0].AbortType != wsp.AbortUser || p[0].AbortReason != 0xE1 || p[0].TID != 0x815D {
		t.Fatalf("abort: %+v %v", p, err)
	}
	p, err = wsp.DecodeWTP(fixture(t, "connectreply.hex"))
	if err != nil || p[0].Type != wsp.PDUResult || !p[0].TTR || p[0].GTR || p[0].Data[0] != 0x02 {
		t.Fatalf("result: %+v %v", p, err)
	}
}

// Concatenated PDUs (WAP-224-WTP §8.5): 0x00, then each PDU after a one-
// or two-octet length.
func TestWTP_SplitsConcatenatedPDUs(t *testing.T) {
	ack := unhex(t, "18 81 02")
	res := append(unhex(t, "12 81 03"), bytes.Repeat([]byte{0x41}, 200)...)
	b := append([]byte{0x00, byte(len(ack))}, ack...)
	b = append(b, 0x80|byte(len(res)>>8), byte(len(res)))
	b = append(b, res...)
	got, err := wsp.DecodeWTP(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Type != wsp.PDUAck || got[1].Type != wsp.PDUResult || len(got[1].Data) != 200 {
		t.Fatalf("got %+v", got)
	}
}

func TestWTP_RejectsMalformedPDUsWithClearErrors(t *testing.T) {
	tests := []struct{ name, hex, msg string }{
		{"empty", "", "empty datagram"},
		{"unknown type", "40 00 01", "unknown PDU type 0x8"},
		{"short invoke", "0A 00 01", "shorter than its 4-octet header"},
		{"short ack", "18 00", "shorter than its 3-octet header"},
		{"class 3", "0A 00 01 13", "class 3"},
		{"nack count beyond end", "38 00 01 03 01", "lists 3 packets"},
		{"TPI announced, missing", "98 00 01", "TPI announced but missing"},
		{"TPI beyond end", "98 00 01 1B 01", "TPI length 3"},
		{"PSN TPI of 2 octets", "98 00 01 1A 01 02", "PSN TPI of 2 octets"},
		{"truncated long TPI", "98 00 01 1C", "truncated long TPI"},
		{"octets after ack", "18 00 01 FF", "1 octets after Ack"},
		{"endless TPIs", "98 00 01" + strings.Repeat(" 88", 20), "more than 16 TPIs"},
		{"concatenated length beyond end", "00 05 18 00 01", "concatenated PDU length 5"},
		{"concatenated zero length", "00 00", "concatenated PDU length 0"},
		{"nested concatenation", "00 02 00 01", "nested"},
		{"truncated two-octet length", "00 80", "truncated concatenated PDU length"},
		{"concatenation of nothing", "00", "no PDUs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wsp.DecodeWTP(unhex(t, tt.hex))
			if !errors.Is(err, wsp.ErrBadWTP) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want ErrBadWTP mentioning %q", err, tt.msg)
			}
		})
	}
	if _, err := wsp.DecodeWTP(make([]byte, wsp.MaxDatagram+1)); !errors.Is(err, wsp.ErrBadWTP) {
		t.Errorf("oversized datagram: %v", err)
	}
}

// Fuzz crasher: a PSN TPI on a Result set the PSN (and would have
// overwritten a Segmented Result's). WAP-224-WTP §9.4.2: the PSN TPI
// acknowledges a group, so only an Ack's counts.
func TestWTP_PSNTPICountsOnlyOnAnAck(t *testing.T) {
	for _, tt := range []struct {
		hex string
		psn uint8
	}{
		{"97 30 30 99 30 30", 0}, // Result, GTR TTR RID, PSN TPI 0x30, data "0"
		{"B0 30 30 05 19 09", 5}, // Segmented Result PSN 5 with a PSN TPI 9
	} {
		p, err := wsp.DecodeWTP(unhex(t, tt.hex))
		if err != nil {
			t.Fatal(err)
		}
		if p[0].HasPSN || p[0].PSN != tt.psn {
			t.Errorf("%s: PSN %d HasPSN %v", tt.hex, p[0].PSN, p[0].HasPSN)
		}
	}
}
