package download_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/omadm/omadm/mo/internal/download"
)

// A hostile package server redirects a download asked for over https to
// plain http (where the package could be swapped on the path), or in a loop.
// Both fail as KindBadURL; the plain server is never asked.
func TestGet_RefusesRedirectsThatLeaveTLSOrLoop(t *testing.T) {
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		_, _ = w.Write([]byte("evil firmware"))
	}))
	defer plain.Close()
	var tlsSrv *httptest.Server
	tlsSrv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/downgrade":
			http.Redirect(w, r, plain.URL+"/pkg", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, tlsSrv.URL+"/loop", http.StatusFound)
		default:
			_, _ = w.Write([]byte("good firmware"))
		}
	}))
	defer tlsSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	g := download.New(download.Options{Client: &http.Client{Transport: tr}})
	for _, path := range []string{"/downgrade", "/loop"} {
		err := g.Get(context.Background(), tlsSrv.URL+path, io.Discard)
		if download.KindOf(err) != download.KindBadURL {
			t.Fatalf("%s: err %v (kind %v), want KindBadURL", path, err, download.KindOf(err))
		}
	}
	if n := plainHits.Load(); n != 0 {
		t.Fatalf("the plain http server was asked %d times", n)
	}
	if err := g.Get(context.Background(), tlsSrv.URL+"/pkg", io.Discard); err != nil {
		t.Fatalf("plain https download: %v", err)
	}
}
