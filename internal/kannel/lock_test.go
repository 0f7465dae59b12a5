//go:build unix

package kannel

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A second holder of the gateway lock waits until the first releases it:
// two gateways never run at once (wapbox's UDP ports are fixed).
func TestLock_SecondHolderWaitsForTheFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kannel.lock")
	unlock, err := lockMachine(path, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The bound here is what is tested: the lock must not be granted
	// while held, so the attempt can only end by giving up.
	if _, err := lockMachine(path, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "held the gateway lock") {
		t.Fatalf("second lock while held: err = %v, want it refused after the wait", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := lockMachine(path, time.Minute)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("lock after release: %v", err)
	}
}
