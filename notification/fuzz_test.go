package notification_test

import (
	"bytes"
	"testing"

	"github.com/omadm/omadm/notification"
)

func seedAll(f *testing.F) {
	ud := specSMS(f)
	for _, s := range [][]byte{ud, ud[7:], ud[13:], {}, {0x06, 0x05}, {0x01, 0x06, 0x81}} {
		f.Add(s)
	}
	for _, v := range loadVectors(f) {
		f.Add(cat(v.digest, v.trigger))
	}
}

func FuzzDecode(f *testing.F) {
	seedAll(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := notification.Decode(b)
		if err != nil {
			return
		}
		// A decoded package re-encodes to the same trigger bytes.
		q := *p
		q.Trigger = nil
		out, err := q.Encode("x", nil)
		if err != nil {
			t.Fatalf("decoded package does not encode: %v", err)
		}
		if !bytes.Equal(out[16:], b[16:]) {
			t.Fatalf("trigger changed: %x -> %x", b[16:], out[16:])
		}
	})
}

func FuzzDecodePush(f *testing.F) {
	seedAll(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = notification.DecodePush(b)
	})
}

func FuzzParseSMS(f *testing.F) {
	seedAll(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := notification.ParseSMS(b)
		if err == nil && (s.Seq == 0 || s.Seq > s.Total) {
			t.Fatalf("bad segment numbers accepted: %+v", s)
		}
		var r notification.Reassembler
		_, _, _ = r.Add("x", b)
	})
}

func FuzzDecodeAny(f *testing.F) {
	seedAll(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Auto detection keeps its order (SMS, then WSP push, then raw)
		// whichever readings it skips as impossible.
		e, err := notification.Unwrap(notification.BearerAuto, b)
		_, errSMS := notification.Unwrap(notification.BearerSMS, b)
		_, errWSP := notification.Unwrap(notification.BearerWSP, b)
		_, errRaw := notification.Unwrap(notification.BearerRaw, b)
		want := notification.BearerAuto
		switch {
		case errSMS == nil:
			want = notification.BearerSMS
		case errWSP == nil:
			want = notification.BearerWSP
		case errRaw == nil:
			want = notification.BearerRaw
		}
		if err != nil {
			if want != notification.BearerAuto {
				t.Fatalf("auto failed (%v) but %s decodes", err, want)
			}
			return
		}
		if e.Bearer != want {
			t.Fatalf("auto read %s, want %s", e.Bearer, want)
		}
	})
}
