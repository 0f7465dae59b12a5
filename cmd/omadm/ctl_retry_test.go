package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
)

// `ctl lawmo --wait` follows the operation through its retries: the first
// attempt times out and waits (retry_wait), the second is started by the
// server's scheduler and times out too, which ends the operation; only then
// does the command return, with the outcome of the last attempt. `ctl op
// get` shows the attempts' history.
func TestCtl_LAWMOWaitFollowsTheRetriesToTheFinalOutcome(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	tick := make(chan time.Time)
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler), OpTick: tick,
		OpNow: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	if _, _, err := runCtl(t, rs.URL, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	updates, _, cancel := rs.API.Hub().Subscribe()
	defer cancel()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := runCtl(t, rs.URL, "lawmo", "d1", "lock", "--max-attempts", "2", "--retry-backoff", "1m", "--wait", "60s", "-o", "json")
		done <- result{out, err}
	}()
	await := func(state string, attempt int) *api.Operation {
		t.Helper()
		timeout := time.After(15 * time.Second) // bounds a hang only
		for {
			select {
			case u := <-updates:
				if u.Kind == api.UpdateOperation && u.Operation.State == state && u.Operation.Attempts == attempt {
					return u.Operation
				}
			case r := <-done:
				t.Fatalf("ctl returned before the operation reached %s at attempt %d: %v\n%s", state, attempt, r.err, r.out)
			case <-timeout:
				t.Fatalf("the operation did not reach %s at attempt %d", state, attempt)
			}
		}
	}
	op := await("queued", 1)
	advance(time.Hour + time.Minute) // LAWMO's 1h timeout
	tick <- time.Now()
	if w := await("retry_wait", 1); w.NextAttemptAt == nil || w.MaxAttempts != 2 {
		t.Fatalf("retry_wait %+v: want the next attempt's time, of 2", w)
	}
	advance(2 * time.Minute) // the 1m backoff and its jitter
	tick <- time.Now()
	await("queued", 2)
	advance(time.Hour + time.Minute)
	tick <- time.Now()
	var r result
	select {
	case r = <-done:
	case <-time.After(15 * time.Second): // bounds a hang only
		t.Fatal("ctl lawmo --wait did not return once the last attempt timed out")
	}
	var ee *exitError
	var got asyncOutcome
	if !errors.As(r.err, &ee) || ee.code != exitJobTimeout || json.Unmarshal([]byte(r.out), &got) != nil ||
		got.State != "timed_out" || got.Attempts != 2 || got.MaxAttempts != 2 {
		t.Fatalf("ctl lawmo --wait: %v\n%s", r.err, r.out)
	}
	out, _, err := runCtl(t, rs.URL, "op", "get", strconv.FormatInt(op.ID, 10), "-o", "table")
	if err != nil || !strings.Contains(out, "2/2") || strings.Count(out, "timed_out") != 3 || !strings.Contains(out, op.Correlator+"#2") {
		t.Fatalf("op get: %v\n%s", err, out)
	}
}
