package handler_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/notification/smsgw"
	"github.com/omadm/omadm/storage"
)

// node is one more API handler on e's store: another server node.
func (e *env) node(t *testing.T) *env {
	t.Helper()
	h, err := handler.New(handler.Options{Store: e.store, Notifier: e.notif, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, store: e.store, notif: e.notif, h: h, served: make(chan string, 64)}
}

func TestTokens_CreatedTokenWorksOnEveryNodeUntilRevoked(t *testing.T) {
	a := newEnv(t)
	b := a.node(t)
	st, body := a.do(t, "POST", "/api/v1/tokens", `{"name":"ci"}`)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	tok := decodeInto[api.Token](t, body)
	if !strings.HasPrefix(tok.Token, "omadm_") || len(tok.Token) < 40 || tok.Prefix != tok.Token[:api.TokenPrefixLen] || tok.ID == 0 {
		t.Fatalf("created %+v", tok)
	}
	// Only the SHA-256 is stored.
	sum := sha256.Sum256([]byte(tok.Token))
	stored, err := a.store.APITokenByHash(context.Background(), sum[:])
	if err != nil || stored.Name != "ci" {
		t.Fatalf("stored by hash: %+v %v", stored, err)
	}
	for _, n := range []*env{a, b} {
		if st, body := n.doToken(t, "GET", "/api/v1/devices", "", tok.Token); st != http.StatusOK {
			t.Fatalf("the new token on a node: %d %s", st, body)
		}
	}
	// The list shows it without its plaintext, marked as the caller's.
	st, body = b.doToken(t, "GET", "/api/v1/tokens", "", tok.Token)
	l := decodeInto[api.TokenList](t, body)
	if st != http.StatusOK || len(l.Tokens) != 1 || l.Tokens[0].Token != "" || !l.Tokens[0].Current || l.Tokens[0].LastUsedAt == nil || l.BootstrapCurrent {
		t.Fatalf("list: %d %s", st, body)
	}
	if strings.Contains(string(body), tok.Token) {
		t.Fatal("the list holds the plaintext")
	}
	// Revoked on one node, refused at once on the other.
	if st, body := a.do(t, "DELETE", "/api/v1/tokens/ci", ""); st != http.StatusOK || decodeInto[api.Token](t, body).RevokedAt == nil {
		t.Fatalf("revoke: %d %s", st, body)
	}
	st, body = b.doToken(t, "GET", "/api/v1/devices", "", tok.Token)
	wantError(t, st, body, http.StatusUnauthorized, `API token "ci" was revoked`)
	// The bootstrap token keeps working and sees the revoked token on request.
	st, body = b.do(t, "GET", "/api/v1/tokens?revoked=true", "")
	if l := decodeInto[api.TokenList](t, body); st != http.StatusOK || len(l.Tokens) != 1 || l.Tokens[0].RevokedAt == nil || !l.BootstrapCurrent {
		t.Fatalf("list with revoked: %d %s", st, body)
	}
	if st, body := b.do(t, "GET", "/api/v1/tokens", ""); len(decodeInto[api.TokenList](t, body).Tokens) != 0 {
		t.Fatalf("list without revoked: %d %s", st, body)
	}
}

func TestTokens_BadRequestsGetClearMessages(t *testing.T) {
	e := newEnv(t)
	if st, body := e.do(t, "POST", "/api/v1/tokens", `{"name":"ci"}`); st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	tests := []struct {
		name, method, path, body, token string
		status                          int
		msg                             string
	}{
		{"no token", "GET", "/api/v1/tokens", "", "", 401, "missing bearer token"},
		{"unknown named token", "GET", "/api/v1/tokens", "", "omadm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, "invalid API token"},
		{"wrong token", "GET", "/api/v1/tokens", "", "guess", 401, "invalid API token"},
		{"no name", "POST", "/api/v1/tokens", `{}`, testToken, 400, "name: is required"},
		{"bad name", "POST", "/api/v1/tokens", `{"name":"9 lives"}`, testToken, 400, "want a letter"},
		{"long name", "POST", "/api/v1/tokens", `{"name":"` + strings.Repeat("a", 65) + `"}`, testToken, 400, "at most 64"},
		{"unknown field", "POST", "/api/v1/tokens", `{"name":"x","scope":"all"}`, testToken, 400, "unknown field"},
		{"taken name", "POST", "/api/v1/tokens", `{"name":"ci"}`, testToken, 409, `named "ci" exists`},
		{"revoke unknown name", "DELETE", "/api/v1/tokens/nobody", "", testToken, 404, `no API token named "nobody"`},
		{"revoke unknown ID", "DELETE", "/api/v1/tokens/999", "", testToken, 404, "no API token with ID 999"},
		{"revoke nonsense", "DELETE", "/api/v1/tokens/-x-", "", testToken, 400, "neither a token ID nor a token name"},
		{"bad revoked flag", "GET", "/api/v1/tokens?revoked=maybe", "", testToken, 400, "want true or false"},
		{"unknown parameter", "GET", "/api/v1/tokens?all=1", "", testToken, 400, "all"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := e.doToken(t, tc.method, tc.path, tc.body, tc.token)
			wantError(t, st, body, tc.status, tc.msg)
		})
	}
}

// failingTokens fails every token lookup, as a store that is down would.
type failingTokens struct{ *memStore }

func (failingTokens) APITokenByHash(context.Context, []byte) (*storage.APIToken, error) {
	return nil, errors.New("connection refused")
}

func TestTokens_StoreFailureIsA503NotA401(t *testing.T) {
	h, err := handler.New(handler.Options{Store: failingTokens{newMemStore()}, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{srv: srv}
	st, body := e.doToken(t, "GET", "/api/v1/devices", "", "omadm_whatever")
	wantError(t, st, body, http.StatusServiceUnavailable, "token lookup failed")
	// The bootstrap token needs no lookup.
	if st, body := e.do(t, "GET", "/api/v1/tokens?revoked=false", ""); st != http.StatusOK {
		t.Fatalf("bootstrap token: %d %s", st, body)
	}
}

func TestNotificationSenders_ListsSchemesKindsAndDescriptionsWithoutSecrets(t *testing.T) {
	h, err := handler.New(handler.Options{Store: newMemStore(), Token: testToken, Senders: map[string]notification.Sender{
		"udp": &notification.UDPSender{},
		"sms": &smsgw.WebhookSender{URL: "https://gw-user:gw-pass@sms.example.com/send?api_key=k3y"},
		"raw": senderFunc(nil),
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	st, body := (&env{srv: srv}).do(t, "GET", "/api/v1/notification-senders", "")
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	l := decodeInto[api.NotificationSenderList](t, body)
	if len(l.Senders) != 3 || l.Senders[0].Scheme != "raw" || l.Senders[1].Scheme != "sms" || l.Senders[2].Scheme != "udp" {
		t.Fatalf("senders %s", body)
	}
	if l.Senders[0].Description != "" || l.Senders[0].Kind != "handler_test.senderFunc" {
		t.Errorf("a sender without Describe: %+v", l.Senders[0])
	}
	if s := l.Senders[1]; s.Kind != "smsgw.WebhookSender" || !strings.Contains(s.Description, "https://sms.example.com/send") {
		t.Errorf("sms sender %+v", s)
	}
	if s := l.Senders[2]; s.Kind != "notification.UDPSender" || !strings.Contains(s.Description, "2948") {
		t.Errorf("udp sender %+v", s)
	}
	for _, secret := range []string{"gw-pass", "gw-user", "k3y"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the list shows %q: %s", secret, body)
		}
	}
}

type senderFunc func(ctx context.Context, addr string, pkg0 []byte) error

func (f senderFunc) Send(ctx context.Context, addr string, pkg0 []byte) error {
	return f(ctx, addr, pkg0)
}
