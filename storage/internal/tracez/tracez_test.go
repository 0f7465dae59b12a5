package tracez_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/storage/internal/tracez"
)

// The dictionaries are part of the stored format: rows written with codec
// 1 or 2 can only be read with exactly these bytes.
func TestDictionariesNeverChange(t *testing.T) {
	for name, want := range map[string]string{
		"dict1.xml":   "f9cc40dece8113be67c0edaef364b4267363dc7a722310c73051ea66c3607c78",
		"dict1.wbxml": "70ac785fcabfdf6399564ecab4b12d0c558ee370f60b603fb1b481eecc4a0c1c",
	} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, want %s (a changed dictionary needs a new codec number)", name, got, want)
		}
	}
}

func TestPackUnpack_RoundTripsExactly(t *testing.T) {
	msgs, _ := filepath.Glob("../../../syncml/testdata/messages/*.xml")
	if len(msgs) == 0 {
		t.Fatal("no sample messages")
	}
	wb, err := os.ReadFile("dict1.wbxml")
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name, ct string
		body     []byte
	}
	cases := []tc{
		{"empty", "application/vnd.syncml.dm+xml", nil},
		{"short", "application/vnd.syncml.dm+xml", []byte("<SyncML/>")},
		{"no content type", "", bytes.Repeat([]byte("<Status/>"), 40)},
		{"other content type", "text/plain", bytes.Repeat([]byte("<Status/>"), 40)},
		{"wbxml", "application/vnd.syncml.dm+wbxml", wb[:600]},
		{"random bytes", "application/octet-stream", func() []byte {
			b := make([]byte, 500)
			for i := range b {
				b[i] = byte(i*7919 + i>>3)
			}
			return b
		}()},
	}
	for _, m := range msgs {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{filepath.Base(m), "application/vnd.syncml.dm+xml", b})
	}
	var in, out int
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, ct, data := tracez.Pack(c.ct, c.body)
			if n != tracez.Raw && len(data) >= len(c.body) {
				t.Errorf("codec %d stored %d bytes for %d", n, len(data), len(c.body))
			}
			gct, gb, err := tracez.Unpack(n, ct, data)
			if err != nil {
				t.Fatal(err)
			}
			if gct != c.ct || !bytes.Equal(gb, c.body) {
				t.Errorf("round trip: content type %q, %d bytes; want %q, %d bytes", gct, len(gb), c.ct, len(c.body))
			}
			in, out = in+len(c.body), out+len(data)+len(ct)
		})
	}
	t.Logf("%d bytes stored as %d", in, out)
}

func TestUnpack_RefusesUnknownCodecAndDamage(t *testing.T) {
	if _, _, err := tracez.Unpack(9, "", []byte{1, 2, 3}); !errors.Is(err, tracez.ErrCodec) {
		t.Errorf("unknown codec: %v, want ErrCodec", err)
	}
	if _, _, err := tracez.Unpack(tracez.XMLv1, "", []byte{0xff, 0xff, 0xff}); err == nil {
		t.Error("damaged body: no error")
	}
}

func BenchmarkPack(b *testing.B) {
	body, err := os.ReadFile("../../../syncml/testdata/messages/bench-2k.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	var n int
	for b.Loop() {
		_, _, d := tracez.Pack("application/vnd.syncml.dm+xml", body)
		n = len(d)
	}
	b.ReportMetric(float64(n), "stored-B")
}
