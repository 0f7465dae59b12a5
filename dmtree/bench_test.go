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

// BenchmarkGetCaseVariantCIS1k reads a leaf through a case variant of its
// parent's name in a CaseSense CIS object with 1,000 instances: the exact
// index misses and the parent's children are scanned.
func BenchmarkGetCaseVariantCIS1k(b *testing.B) {
	tr := dmtree.New(nil)
	d, err := dmtree.ParseDDF(readFixture(b, "cis.ddf.xml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := tr.Install(".", d); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := tr.Add("", fmt.Sprintf("./Cis/Inst%d/Val", i), chr("v")); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := tr.Get("srv", "./cis/INST999/val"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetChildListerInterior reads an interior node of 100 stored
// children whose plug-in adds 100 code-provided ones.
func BenchmarkGetChildListerInterior(b *testing.B) {
	tr := dmtree.New(nil)
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("app%d", i)
		if err := tr.Add("", fmt.Sprintf("./Apps/stored%d", i), chr("v")); err != nil {
			b.Fatal(err)
		}
	}
	if err := tr.Mount("./Apps", &apps{names: names}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tr.Get("srv", "./Apps"); err != nil {
			b.Fatal(err)
		}
	}
}
