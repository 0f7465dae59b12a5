package dmtree_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/omadm/omadm/dmtree"
)

// bigTree builds 100 interior nodes with 1,000 leaves each (100,100 nodes).
func bigTree(b *testing.B, dir string) *dmtree.Tree {
	b.Helper()
	var tr *dmtree.Tree
	if dir == "" {
		tr = dmtree.New(nil)
	} else {
		var err error
		if tr, err = dmtree.Open(dir, &dmtree.Options{NoSync: true}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		for j := 0; j < 1000; j++ {
			if err := tr.Add("", fmt.Sprintf("./Obj%d/Leaf%d", i, j), chr("value-12345")); err != nil {
				b.Fatal(err)
			}
		}
	}
	return tr
}

func BenchmarkGet100k(b *testing.B) {
	tr := bigTree(b, "")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := tr.Get("srv", "./Obj42/Leaf777"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplace100k(b *testing.B) {
	tr := bigTree(b, "")
	v := chr("value-54321")
	for b.Loop() {
		if err := tr.Replace("", "./Obj42/Leaf777", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplace100kPersistedNoSync(b *testing.B) {
	tr := bigTree(b, b.TempDir())
	defer tr.Close()
	v := chr("value-54321")
	for b.Loop() {
		if err := tr.Replace("", "./Obj42/Leaf777", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBytesPerNode100k(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		tr := bigTree(b, "")
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/float64(tr.Len()), "bytes/node")
		runtime.KeepAlive(tr)
	}
}

func BenchmarkLoad100k(b *testing.B) {
	dir := b.TempDir()
	tr := bigTree(b, dir)
	if err := tr.Compact(); err != nil {
		b.Fatal(err)
	}
	tr.Close()
	for b.Loop() {
		t2, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		t2.Close()
	}
}
