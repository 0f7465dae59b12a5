package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
)

func TestCtl_TokenCreateListRevoke(t *testing.T) {
	url, _ := ctlServer(t)
	out, errOut, err := runCtl(t, url, "token", "create", "ci", "-o", "json")
	if err != nil {
		t.Fatalf("create: %v %s", err, errOut)
	}
	var tok api.Token
	if err := json.Unmarshal([]byte(out), &tok); err != nil || !strings.HasPrefix(tok.Token, "omadm_") || tok.Name != "ci" {
		t.Fatalf("create printed %q (%v)", out, err)
	}
	// The new token works for ctl itself.
	cmd := newCtlCmd()
	var buf strings.Builder
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetArgs([]string{"--server", url, "--token", tok.Token, "token", "list"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("list with the new token: %v %s", err, buf.String())
	}
	if s := buf.String(); !strings.Contains(s, "ci (this one)") || !strings.Contains(s, tok.Prefix+"…") || strings.Contains(s, tok.Token) {
		t.Fatalf("table:\n%s", s)
	}
	out, _, err = runCtl(t, url, "token", "create", "console")
	if err != nil || !strings.Contains(out, "omadm_") {
		t.Fatalf("create (table): %v %q", err, out)
	}
	if _, _, err := runCtl(t, url, "token", "revoke", "ci"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCtl(t, url, "token", "list", "-o", "json")
	var l []api.Token
	if err != nil || json.Unmarshal([]byte(out), &l) != nil || len(l) != 1 || l[0].Name != "console" {
		t.Fatalf("list after revoke: %v %q", err, out)
	}
	out, _, err = runCtl(t, url, "token", "list", "--revoked", "-o", "yaml")
	if err != nil || !strings.Contains(out, "revoked_at:") || !strings.Contains(out, "name: ci") {
		t.Fatalf("yaml list with revoked: %v %q", err, out)
	}
	// A revoked token is refused with a message that says so.
	cmd = newCtlCmd()
	buf.Reset()
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetArgs([]string{"--server", url, "--token", tok.Token, "device", "list"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked token: %v", err)
	}
}

func TestCtl_TokenRejectsBadNamesAndUnknownTokens(t *testing.T) {
	url, _ := ctlServer(t)
	_, _, err := runCtl(t, url, "token", "create", "no spaces")
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "want a letter") {
		t.Fatalf("bad name: %v", err)
	}
	if _, _, err := runCtl(t, url, "token", "revoke", "ghost"); err == nil || !strings.Contains(err.Error(), `no API token named "ghost"`) {
		t.Fatalf("unknown token: %v", err)
	}
}
