package dmtree_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/omadm/omadm/dmtree"
)

func TestOpen_ReloadsEveryChangeAcrossCompaction(t *testing.T) {
	dir := t.TempDir()
	opts := &dmtree.Options{Now: fixedNow, NoSync: true, CompactMin: 512, CompactRatio: 1}
	tr, err := dmtree.Open(dir, opts)
	must(t, err)
	must(t, tr.Add("S1", "./A/B", chr("x")))
	must(t, tr.Replace("", "./A?prop=ACL", chr("Get=*&Replace=S1")))
	for i := 0; i < 200; i++ {
		must(t, tr.Add("", fmt.Sprintf("./A/N%d", i), dmtree.Value{Format: "b64", Data: []byte("AAEC")}))
	}
	must(t, tr.Replace("", "./A/N5?prop=Name", chr("Renamed")))
	must(t, tr.Delete("", "./A/N7"))
	must(t, tr.Replace("", "./A/B?prop=Title", chr("t")))
	tx := tr.Begin()
	must(t, tx.Add("", "./TxOnly", chr("rolled back")))
	must(t, tx.Rollback())
	want, err := tr.TNDS("", ".", dmtree.PropAll)
	must(t, err)
	must(t, tr.Close())

	tr2, err := dmtree.Open(dir, opts)
	must(t, err)
	defer tr2.Close()
	got, err := tr2.TNDS("", ".", dmtree.PropAll)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("reloaded tree differs:\n%s", got)
	}
	must(t, tr2.Compact())
	must(t, tr2.Add("", "./After", chr("1")))
	must(t, tr2.Close())
	tr3, err := dmtree.Open(dir, opts)
	must(t, err)
	defer tr3.Close()
	if _, err := tr3.Get("", "./After"); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_IgnoresTornJournalTail(t *testing.T) {
	dir := t.TempDir()
	tr, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
	must(t, err)
	must(t, tr.Add("", "./A", chr("1")))
	must(t, tr.Add("", "./B", chr("2")))
	must(t, tr.Close())
	j := filepath.Join(dir, "journal.0")
	b, err := os.ReadFile(j)
	must(t, err)
	for cut := len(b) - 1; cut > 0; cut -= 7 {
		must(t, os.WriteFile(j, b[:cut], 0o600))
		tr, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
		must(t, err)
		if _, err := tr.Get("", "./B"); code(err) != 404 {
			t.Fatalf("cut at %d: torn record applied", cut)
		}
		must(t, tr.Close())
	}
}

// crashChild is run in a child process: it applies numbered transactions until
// it is killed. Transaction i adds ./N/i and sets ./Counter to i.
func crashChild(dir string) {
	tr, err := dmtree.Open(dir, &dmtree.Options{CompactMin: 2048, CompactRatio: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	start := 0
	if rs, err := tr.Get("", "./Counter"); err == nil {
		start, _ = strconv.Atoi(string(rs[0].Data))
		start++
	} else {
		_ = tr.Add("", "./N", interior)
	}
	for i := start; i < start+100000; i++ {
		tx := tr.Begin()
		if err := tx.Add("", "./N/"+strconv.Itoa(i), chr(fmt.Sprintf("value-%d", i))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var err error
		if i == 0 {
			err = tx.Add("", "./Counter", dmtree.Value{Format: "int", Data: []byte("0")})
		} else {
			err = tx.Replace("", "./Counter", dmtree.Value{Format: "int", Data: []byte(strconv.Itoa(i))})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := tx.Commit(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("DMTREE_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestCrash_KillNineAtRandomPointsLeavesOldOrNewTree(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	last := -1
	for iter := 0; iter < 50; iter++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "DMTREE_CRASH_CHILD="+dir)
		cmd.Stderr = os.Stderr
		must(t, cmd.Start())
		// Not a poll: the sleep picks a random point in the child's write
		// loop to kill it at, which is what the test is about.
		time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
		_ = cmd.Process.Kill() // SIGKILL
		_ = cmd.Wait()

		tr, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
		if err != nil {
			t.Fatalf("iteration %d: reload failed: %v", iter, err)
		}
		counter := -1
		if rs, err := tr.Get("", "./Counter"); err == nil {
			counter, _ = strconv.Atoi(string(rs[0].Data))
		}
		if counter < last {
			t.Fatalf("iteration %d: counter went back from %d to %d", iter, last, counter)
		}
		n := 0
		if rs, err := tr.Get("", "./N?list=Struct"); err == nil {
			n = len(rs) - 1
		}
		if n != counter+1 {
			t.Fatalf("iteration %d: %d nodes under ./N but counter %d: partial transaction", iter, n, counter)
		}
		if counter >= 0 {
			rs, err := tr.Get("", "./N/"+strconv.Itoa(counter))
			if err != nil || string(rs[0].Data) != fmt.Sprintf("value-%d", counter) {
				t.Fatalf("iteration %d: last node wrong: %v %v", iter, rs, err)
			}
		}
		last = counter
		must(t, tr.Close())
	}
	t.Logf("%d transactions survived 50 kills", last+1)
}
