package handler_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
)

func TestHealth_LivenessIgnoresStorageReadinessReportsIt(t *testing.T) {
	e := newEnv(t)
	// The checks are public: they tell that storage is down, not the error
	// (which may name hosts, users and databases).
	e.store.pingErr = errors.New("dial tcp 10.9.8.7:5432: user=omadm database=omadm: refused")
	st, b := e.doToken(t, "GET", "/healthz", "", "")
	if h := decodeInto[api.Health](t, b); st != http.StatusOK || h.Status != "ok" {
		t.Fatalf("healthz with storage down: %d %s, want 200 (the process is alive)", st, b)
	}
	st, b = e.doToken(t, "GET", "/readyz", "", "")
	if h := decodeInto[api.Health](t, b); st != http.StatusServiceUnavailable || h.Status != "unavailable" || h.Error != "storage unavailable" {
		t.Fatalf("readyz with storage down: %d %s", st, b)
	}
	if strings.Contains(string(b), "10.9.8.7") || strings.Contains(string(b), "omadm") {
		t.Fatalf("readyz tells the storage error: %s", b)
	}
	e.store.pingErr = nil
	if st, b := e.doToken(t, "GET", "/readyz", "", ""); st != http.StatusOK {
		t.Fatalf("readyz with storage back: %d %s", st, b)
	}
}

func TestHealth_ReadinessAnswers503WithTheReadyChecksReason(t *testing.T) {
	e := newEnv(t)
	pending := errors.New("schema migrations pending: database at version 5, this build needs 7")
	h, err := handler.New(handler.Options{Store: e.store, Token: testToken, Ready: func(context.Context) error { return pending }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		status int
		errMsg string
	}{
		{"/healthz", http.StatusOK, ""},
		{"/readyz", http.StatusServiceUnavailable, pending.Error()},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		got := decodeInto[api.Health](t, rec.Body.Bytes())
		if rec.Code != tc.status || got.Error != tc.errMsg || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s = %d %s, want %d with error %q", tc.path, rec.Code, rec.Body, tc.status, tc.errMsg)
		}
	}
}
