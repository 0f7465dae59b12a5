package wsp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/wsp"
)

// seenRequest is what the HTTP backend behind the gateway received.
type seenRequest struct {
	Method, Path, ContentType, HMAC, Via string
	Body                                 []byte
}

func TestKannel_Spike(t *testing.T) {
	var mu sync.Mutex
	var seen []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, seenRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("x-syncml-hmac"), r.Header.Get("Via"), b})
		mu.Unlock()
		t.Logf("backend: %s %s %v len %d", r.Method, r.URL, r.Header, len(b))
		w.Header().Set("Content-Type", syncml.ContentTypeXML)
		w.Header().Set("x-syncml-hmac", "algorithm=MD5, username=\"srv\", mac=abc")
		out := bytes.Repeat([]byte("R"), len(b))
		w.Write(out)
	}))
	defer srv.Close()
	kannel.Start(t, kannel.Options{WAPBox: true, WAPBackend: srv.URL})
	var tr []string
	tp, err := wsp.New(wsp.Options{Gateway: fmt.Sprintf("127.0.0.1:%d", kannel.WSPCOPort), RetryInterval: 2 * time.Second,
		Trace: func(sent bool, d []byte) {
			n := min(len(d), 24)
			mu.Lock()
			tr = append(tr, fmt.Sprintf("%v %d % X", sent, len(d), d[:n]))
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	for _, size := range []int{100, 1000, 3000, 10000} {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		resp, err := tp.RoundTrip(ctx, &client.Request{URL: "http://" + kannel.WAPBackendHost + "/dm", ContentType: syncml.ContentTypeXML, HMAC: "algorithm=MD5, username=\"dev\", mac=xyz", Body: bytes.Repeat([]byte("Q"), size)})
		cancel()
		if err != nil {
			t.Errorf("size %d: %v", size, err)
		} else {
			t.Logf("size %d: resp ct %s hmac %q len %d", size, resp.ContentType, resp.HMAC, len(resp.Body))
		}
	}
	mu.Lock()
	for _, l := range tr {
		t.Log(l)
	}
	for _, s := range seen {
		t.Logf("seen %s %s ct=%s hmac=%s via=%s len=%d", s.Method, s.Path, s.ContentType, s.HMAC, s.Via, len(s.Body))
	}
	mu.Unlock()
}
