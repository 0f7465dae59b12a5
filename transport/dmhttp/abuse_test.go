package dmhttp_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/dmhttp"
)

// A hostile server (or an open redirect on it) answers the agent's POST over
// TLS with 307 to a plain http address: following it would re-post the DM
// message, credentials included, in clear text (OMA-TS-DM_Security-V1_2
// §5.3). The transport refuses it; the plain server never sees a request.
func TestClientTransport_RefusesARedirectThatLeavesTLS(t *testing.T) {
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		_, _ = w.Write([]byte("stolen"))
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer tlsSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.RoundTrip(context.Background(), &client.Request{URL: tlsSrv.URL + "/dm", Body: []byte("<SyncML>cred</SyncML>")})
	if err == nil || !strings.Contains(err.Error(), "leaves TLS") {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
	if n := plainHits.Load(); n != 0 {
		t.Fatalf("the plain http server got %d requests", n)
	}
}
