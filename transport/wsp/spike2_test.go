package wsp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/wsp"
)

type lossy struct {
	wsp.Link
	mu       sync.Mutex
	dropRecv func(b []byte) bool
	dropSend func(b []byte) bool
	out      chan []byte
}

func newLossy(t *testing.T) *lossy {
	l, err := wsp.DialUDP(fmt.Sprintf("127.0.0.1:%d", kannel.WSPCOPort))
	if err != nil {
		t.Fatal(err)
	}
	ll := &lossy{Link: l, out: make(chan []byte, 64)}
	go func() {
		defer close(ll.out)
		for b := range l.Recv() {
			ll.mu.Lock()
			d := ll.dropRecv != nil && ll.dropRecv(b)
			ll.mu.Unlock()
			if d {
				t.Logf("DROP recv % X", b[:min(8, len(b))])
				continue
			}
			ll.out <- b
		}
	}()
	return ll
}
func (l *lossy) Recv() <-chan []byte { return l.out }
func (l *lossy) Send(b []byte) error {
	l.mu.Lock()
	d := l.dropSend != nil && l.dropSend(b)
	l.mu.Unlock()
	if d {
		return nil
	}
	return l.Link.Send(b)
}

func TestKannel_Spike2(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/fail" {
			http.Error(w, "boom", 500)
			return
		}
		n := len(b)
		if s := r.URL.Query().Get("n"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", syncml.ContentTypeWBXML)
		w.Write(bytes.Repeat([]byte("R"), n))
	}))
	defer srv.Close()
	kannel.Start(t, kannel.Options{WAPBox: true, WAPBackend: srv.URL})
	run := func(name string, o wsp.Options, l *lossy, url string, size int) {
		o.Link = l
		o.RetryInterval = time.Second
		o.Trace = func(sent bool, d []byte) { t.Logf("%s %v %d % X", name, sent, len(d), d[:min(len(d), 12)]) }
		tp, err := wsp.New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		resp, err := tp.RoundTrip(ctx, &client.Request{URL: "http://" + kannel.WAPBackendHost + url, ContentType: syncml.ContentTypeWBXML, Body: bytes.Repeat([]byte("Q"), size)})
		if err != nil {
			t.Logf("%s: ERROR %v", name, err)
		} else {
			t.Logf("%s: resp ct %s len %d", name, resp.ContentType, len(resp.Body))
		}
	}
	l := newLossy(t)
	run("nosar", wsp.Options{NoSAR: true}, l, "/dm?n=10000", 100)
	l = newLossy(t)
	run("smallsdu", wsp.Options{MaxResponse: 2000}, l, "/dm?n=10000", 100)
	l = newLossy(t)
	run("fail", wsp.Options{}, l, "/fail", 100)
	l = newLossy(t)
	dropped := false
	l.dropRecv = func(b []byte) bool {
		if !dropped && b[0]&0x78 == 0x30 && b[3] == 4 {
			dropped = true
			return true
		}
		return false
	}
	run("lostseg", wsp.Options{}, l, "/dm?n=10000", 100)
	l = newLossy(t)
	dropped2 := false
	l.dropSend = func(b []byte) bool {
		if !dropped2 && b[0]&0x78 == 0x28 && b[3] == 1 {
			dropped2 = true
			return true
		}
		return false
	}
	run("lostinvseg", wsp.Options{}, l, "/dm?n=100", 5000)
	l = newLossy(t)
	n := 0
	l.dropSend = func(b []byte) bool {
		if b[0]&0x78 == 0x08 && n < 2 {
			n++
			return true
		}
		return false
	}
	run("lostinvoke", wsp.Options{}, l, "/dm?n=100", 100)
}
