package handler_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

// TestOperations_RetryOverrideIsCheckedAndShown: a request's retry is
// stored within bounds (a bad value is a 400 naming the field), and the
// operation shows its attempts, the next attempt's time in retry_wait and
// its history; an operation waiting for its next attempt can be cancelled,
// and the stream reports it.
func TestOperations_RetryOverrideIsCheckedAndShown(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	for _, tc := range []struct{ name, body, field string }{
		{"too many attempts", `{"mo":"lawmo","operation":"lock","retry":{"max_attempts":11}}`, "retry.max_attempts"},
		{"malformed backoff", `{"mo":"lawmo","operation":"lock","retry":{"backoff":"soon"}}`, "retry.backoff"},
		{"backoff below a second", `{"mo":"lawmo","operation":"lock","retry":{"backoff":"10ms"}}`, "retry.backoff"},
		{"cap below the backoff", `{"mo":"lawmo","operation":"lock","retry":{"backoff":"1h","max_backoff":"1m"}}`, "retry.max_backoff"},
		{"unknown retry field", `{"mo":"lawmo","operation":"lock","retry":{"on":"failed"}}`, "on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, "POST", "/api/v1/devices/d1/operations", tc.body)
			wantError(t, st, b, 400, tc.field)
		})
	}
	st, b := e.do(t, "POST", "/api/v1/campaigns", `{"name":"x","template":{"mo":"lawmo","operation":"lock","retry":{"max_attempts":0,"backoff":"-1s"}},"target":{"devices":["d1"]}}`)
	wantError(t, st, b, 400, "template.retry.backoff")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/events/stream?device=d1&kinds=operation", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q", line)
	}

	st, b = e.do(t, "POST", "/api/v1/devices/d1/operations", `{"mo":"lawmo","operation":"lock","retry":{"max_attempts":4,"backoff":"30s"}}`)
	if st != http.StatusCreated {
		t.Fatalf("%d %s", st, b)
	}
	op := decodeInto[api.Operation](t, b)
	if op.Attempts != 1 || op.MaxAttempts != 4 || op.NextAttemptAt != nil {
		t.Fatalf("created %s: want attempt 1 of 4", b)
	}
	readEvent(t, r) // its creation

	// The first attempt times out and waits for the next (as the
	// scheduler records it).
	stored, err := e.store.GetOperation(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := time.Now().Add(30 * time.Second).UTC().Truncate(time.Second)
	ended := &storage.OperationAttempt{OperationID: op.ID, Attempt: 1, DeviceID: "d1", JobID: stored.JobID, Correlator: stored.Correlator,
		State: storage.OpTimedOut, Error: "no report", StartedAt: stored.AttemptAt, EndedAt: time.Now()}
	stored.State, stored.Deadline, stored.Error = storage.OpRetryWait, next, "attempt 1 of 4 timed out"
	if err := e.store.ReattemptOperation(ctx, stored, storage.OpQueued); err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddOperationAttempt(ctx, ended); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/operations/" + strconv.FormatInt(op.ID, 10)
	st, b = e.do(t, "GET", path, "")
	got := decodeInto[api.Operation](t, b)
	if st != 200 || got.State != "retry_wait" || got.Attempts != 1 || got.MaxAttempts != 4 || got.NextAttemptAt == nil ||
		!got.NextAttemptAt.Equal(next) || len(got.History) != 1 || got.History[0].State != "timed_out" || got.History[0].Job != stored.JobID {
		t.Fatalf("GET in retry_wait: %d %s", st, b)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1/operations?state=retry_wait", "")
	if l := decodeInto[api.OperationList](t, b); st != 200 || len(l.Operations) != 1 || l.Operations[0].NextAttemptAt == nil {
		t.Fatalf("list retry_wait: %d %s", st, b)
	}

	st, b = e.do(t, "POST", path+"/cancel", "")
	if c := decodeInto[api.Operation](t, b); st != 200 || c.State != "cancelled" {
		t.Fatalf("cancel in retry_wait: %d %s", st, b)
	}
	if ev, data := readEvent(t, r); ev != "operation" || !strings.Contains(data, `"state":"cancelled"`) || !strings.Contains(data, `"max_attempts":4`) {
		t.Fatalf("stream %q %s", ev, data)
	}
}
