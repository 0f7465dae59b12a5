package syncml_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/syncml"
)

func benchWBXML(b *testing.B, name string) []byte {
	b.Helper()
	w, err := os.ReadFile(filepath.Join("testdata", "wbxml", name+".wbxml"))
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func BenchmarkDecodeWBXML(b *testing.B) {
	for _, n := range []string{"bench-2k", "bench-100k"} {
		w := benchWBXML(b, n)
		b.Run(n, func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := syncml.DecodeWBXML(w, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeWBXML(b *testing.B) {
	for _, n := range []string{"bench-2k", "bench-100k"} {
		w := benchWBXML(b, n)
		m, err := syncml.DecodeWBXML(w, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(n, func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := syncml.EncodeWBXML(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
