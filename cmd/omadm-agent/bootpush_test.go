package main

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
	bootprofile "github.com/omadm/omadm/fleet/bootstrap"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/notification"
)

// OMA-TS-DM_Security-V1_2 §5.1.7.2: a bootstrap pushed to the notification
// port is applied only when --bootstrap-accept takes its method and its MAC
// verifies with the device's key (here NETWPIN, the IMSI); a bad MAC is
// refused and logged with the reason.
func TestAgent_PushedBootstrapIsAppliedOnlyWithItsMAC(t *testing.T) {
	srv := &dmServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	d := startDaemon(t, t.TempDir(), ts.URL+"/dm", "--bootstrap-accept", "NETWPIN", "--bootstrap-imsi", "310150123456789")
	refused := d.stderr.watch(`pushed bootstrap refused.*(does not verify)`)
	applied := d.stderr.watch(`pushed bootstrap (applied)`)
	a := dmacc.Account{ID: "boot", ServerID: "srv.boot", Name: "boot", Addr: "https://boot.example/dm",
		Client: dmacc.Credential{Level: dmacc.LevelClient, Type: "DIGEST", Name: "dev", Secret: "pw"}}
	body, _, err := bootprofile.Document(a, "IMEI:7", "srv.boot", bootprofile.FormatTNDSWBXML)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := auth.IMSIKey("310150123456789")
	for _, tc := range []struct {
		mac  string
		want <-chan string
	}{{auth.BootstrapMAC([]byte("wrong"), body), refused}, {auth.BootstrapMAC(key, body), applied}} {
		pdu, err := notification.EncodeBootstrapPush(1, body, 0, tc.mac)
		if err != nil {
			t.Fatal(err)
		}
		d.send(pdu)
		select {
		case <-tc.want:
		case <-time.After(10 * time.Second): // bounds a hang only
			t.Fatalf("no log line for MAC %s:\n%s", tc.mac, d.stderr.String())
		}
	}
	d.stop()
}

func TestAgent_BootstrapAcceptNeedsItsKeys(t *testing.T) {
	for _, args := range [][]string{
		{"--bootstrap-accept", "NETWPIN"},                      // no IMSI or key
		{"--bootstrap-accept", "USERPIN"},                      // no PIN
		{"--bootstrap-accept", "NONE", "--bootstrap-pin", "1"}, // unknown method
		{"--bootstrap-pin", "1"},                               // a key without a policy
	} {
		full := append([]string{"--state", t.TempDir(), "--notify-listen", "udp://127.0.0.1:0"}, args...)
		if code := run(context.Background(), full, nil, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
