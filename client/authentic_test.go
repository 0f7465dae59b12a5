package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/notification"
)

// A fleet that shares one notification port routes package 0 with
// Authentic, so it must accept every nonce HandlePackage0 accepts: the
// stored one, the reset nonce (OMA-TS-DM_Notification-V1_2 §6.1 nonce
// resynchronisation) and the alternate one a broken-off session leaves the
// server holding. Routing with the stored nonce alone dropped the package 0
// the server built with the alternate nonce.
func TestClient_AuthenticAcceptsEveryNonceHandlePackage0Accepts(t *testing.T) {
	c, err := client.New(client.Config{Tree: client.DMTree(dmtree.New(nil)), DeviceID: testDeviceID,
		Account:   client.Account{ServerID: testServerID, ServerURL: testServerURL, ServerSecret: "srvpw", ServerNonce: []byte("n"), ServerNonceAlt: []byte("m")},
		Transport: client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) { return nil, errors.New("unused") })})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		serverID string
		secret   string
		nonce    []byte
		want     bool
	}{
		{"stored nonce", testServerID, "srvpw", []byte("n"), true},
		{"alternate nonce", testServerID, "srvpw", []byte("m"), true},
		{"reset nonce", testServerID, "srvpw", notification.ResetNonce, true},
		{"unknown nonce", testServerID, "srvpw", []byte("x"), false},
		{"wrong secret", testServerID, "guess", []byte("n"), false},
		{"other server", "other", "srvpw", []byte("n"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := (&notification.Package0{SessionID: 7, ServerID: tc.serverID}).Encode(tc.secret, tc.nonce)
			if err != nil {
				t.Fatal(err)
			}
			p, err := notification.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Authentic(p); got != tc.want {
				t.Errorf("Authentic = %v, want %v", got, tc.want)
			}
		})
	}
}
