package download_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/omadm/omadm/mo/internal/download"
)

// Every failure names its kind, so that each object can map it to its own
// result code.
func TestGet_FailuresNameTheirKind(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Header().Set("Content-Length", "2000")
			w.Write(make([]byte, 2000))
			return
		}
		if r.URL.Path == "/chunked-big" {
			w.Write(make([]byte, 1500))
			w.(http.Flusher).Flush()
			w.Write(make([]byte, 1500))
			return
		}
		code, _ := strconv.Atoi(r.URL.Path[1:])
		w.WriteHeader(code)
	}))
	defer ts.Close()
	g := download.New(download.Options{MaxSize: 1000})
	for _, tc := range []struct {
		url  string
		want download.Kind
	}{
		{"ftp://x/y", download.KindBadURL},
		{ts.URL + "/404", download.KindBadURL},
		{ts.URL + "/401", download.KindAuth},
		{ts.URL + "/403", download.KindAuth},
		{ts.URL + "/408", download.KindTimeout},
		{ts.URL + "/504", download.KindTimeout},
		{ts.URL + "/503", download.KindServer},
		{ts.URL + "/big", download.KindTooLarge},
		{ts.URL + "/chunked-big", download.KindTooLarge},
		{"http://127.0.0.1:1/nothing-listens", download.KindUnavailable},
	} {
		err := g.Get(context.Background(), tc.url, &bytes.Buffer{})
		var e *download.Error
		if !errors.As(err, &e) || e.Kind != tc.want || download.KindOf(err) != tc.want {
			t.Errorf("%s: %v, want kind %d", tc.url, err, tc.want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A transport the Getter cannot configure (not an *http.Transport) is still
// bounded: no response within ConnectTimeout+StallTimeout is a timeout.
func TestGet_ForeignTransportIsBoundedByTheHeaderWatchdog(t *testing.T) {
	hang := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	g := download.New(download.Options{Client: &http.Client{Transport: hang},
		ConnectTimeout: 20 * time.Millisecond, StallTimeout: 20 * time.Millisecond})
	err := g.Get(context.Background(), "http://127.0.0.1/fw", &bytes.Buffer{})
	if download.KindOf(err) != download.KindTimeout {
		t.Fatalf("%v, want a timeout", err)
	}
}
