package wsp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/wsp"
)

func TestKannel_Spike3(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		t.Logf("backend got %d octets, session %s", len(b), r.Header.Get("X-Wap-Session-Id"))
		w.Header().Set("Content-Type", syncml.ContentTypeWBXML)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	kannel.Start(t, kannel.Options{WAPBox: true, WAPBackend: srv.URL})
	l := newLossy(t)
	dropped2 := false
	l.dropSend = func(b []byte) bool {
		if !dropped2 && b[0]&0x78 == 0x28 && b[3] == 1 {
			dropped2 = true
			return true
		}
		return false
	}
	tp, _ := wsp.New(wsp.Options{Link: l, RetryInterval: time.Second, Trace: func(sent bool, d []byte) { t.Logf("%v %d % X", sent, len(d), d[:min(len(d), 12)]) }})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	req := &client.Request{URL: "http://" + kannel.WAPBackendHost + "/dm", ContentType: syncml.ContentTypeWBXML, Body: bytes.Repeat([]byte("Q"), 5000)}
	_, err := tp.RoundTrip(ctx, req)
	t.Logf("seg lost: %v", err)
	// Disconnect behind the transport's back, then post again.
	l.Link.Send([]byte{0x0E, 0x01, 0x00, 0x00, 0x05, 0x00})
	time.Sleep(500 * time.Millisecond)
	req.Body = []byte("small")
	_, err = tp.RoundTrip(ctx, req)
	t.Logf("after disconnect: %v", err)
	_, err = tp.RoundTrip(ctx, req)
	t.Logf("again: %v", err)
	tp.Close()
}
