package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/notification/pushgw"
)

// The gateway flags register senders by address scheme; a scheme claimed
// twice, credentials without a gateway, or credentials inside a URL are
// refused with a message naming the flags.
func TestServePush_SendersByScheme(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("file-secret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(emptyFile, nil, 0o600)
	tests := []struct {
		name    string
		cfg     pushConfig
		webhook bool
		schemes []string
		wantErr string
	}{
		{"none", pushConfig{}, false, []string{"udp"}, ""},
		{"ppg", pushConfig{PPGURL: "http://ppg:8080/wappush", PPGUser: "pi", PPGPasswordFile: pwFile}, false, []string{"udp", "wappush", "wappush-ip"}, ""},
		{"sendsms", pushConfig{SendSMSURL: "http://k:13013/cgi-bin/sendsms", SendSMSUser: "u"}, false, []string{"sms", "udp"}, ""},
		{"both gateways", pushConfig{PPGURL: "http://ppg/wappush", SendSMSURL: "http://k/cgi-bin/sendsms", SendSMSUser: "u"}, false,
			[]string{"sms", "udp", "wappush", "wappush-ip"}, ""},
		{"ppg beside webhook", pushConfig{PPGURL: "http://ppg/wappush"}, true, []string{"sms", "udp", "wappush", "wappush-ip"}, ""},
		{"sendsms and webhook", pushConfig{SendSMSURL: "http://k/cgi-bin/sendsms", SendSMSUser: "u"}, true, nil,
			"--kannel-sendsms and --sms-webhook both send to sms: addresses"},
		{"sendsms without user", pushConfig{SendSMSURL: "http://k/cgi-bin/sendsms"}, false, nil, "needs --kannel-user"},
		{"user without ppg", pushConfig{PPGUser: "pi"}, false, nil, "need --ppg-url"},
		{"from without sendsms", pushConfig{SendSMSFrom: "123"}, false, nil, "need --kannel-sendsms"},
		{"credentials in URL", pushConfig{PPGURL: "http://pi:pw@ppg/wappush"}, false, nil, "no credentials in the URL"},
		{"not http", pushConfig{SendSMSURL: "ftp://k/x", SendSMSUser: "u"}, false, nil, "want an http:// or https:// URL"},
		{"missing password file", pushConfig{PPGURL: "http://ppg/wappush", PPGUser: "pi", PPGPasswordFile: pwFile + ".none"}, false, nil, "--ppg-password-file"},
		{"empty password file", pushConfig{PPGURL: "http://ppg/wappush", PPGUser: "pi", PPGPasswordFile: emptyFile}, false, nil, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			senders := map[string]notification.Sender{"udp": &notification.UDPSender{}}
			if tt.webhook {
				senders["sms"] = &notification.UDPSender{} // stands in for the webhook sender
			}
			err := tt.cfg.add(senders)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(senders)); !slices.Equal(got, tt.schemes) {
				t.Fatalf("schemes %v, want %v", got, tt.schemes)
			}
		})
	}
}

// The PPG password comes from the first line of its file, else from the
// environment; descriptions of the senders never show it.
func TestServePush_PasswordSourcesAndDescriptions(t *testing.T) {
	t.Setenv(envPPGPassword, "env-secret")
	t.Setenv(envKannelPassword, "kannel-secret")
	senders := map[string]notification.Sender{}
	c := pushConfig{PPGURL: "http://ppg:8080/wappush", PPGUser: "pi", SendSMSURL: "http://k:13013/cgi-bin/sendsms", SendSMSUser: "u"}
	if err := c.add(senders); err != nil {
		t.Fatal(err)
	}
	if p := senders["wappush"].(*pushgw.PPGSender); p.Password != "env-secret" || senders["wappush-ip"] != senders["wappush"] {
		t.Fatalf("ppg sender %+v", p)
	}
	if s := senders["sms"].(*pushgw.SendSMSSender); s.Password != "kannel-secret" {
		t.Fatalf("sendsms sender password %q", s.Password)
	}
	d := senderDescriptions(senders)
	if len(d) != 2 {
		t.Fatalf("descriptions %q", d)
	}
	for _, line := range d {
		if strings.Contains(line, "secret") {
			t.Fatalf("description shows a password: %s", line)
		}
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	_ = os.WriteFile(pwFile, []byte("file-secret\r\n"), 0o600)
	senders = map[string]notification.Sender{}
	c = pushConfig{PPGURL: "http://ppg/wappush", PPGUser: "pi", PPGPasswordFile: pwFile}
	if err := c.add(senders); err != nil {
		t.Fatal(err)
	}
	if p := senders["wappush"].(*pushgw.PPGSender); p.Password != "file-secret" {
		t.Fatalf("password from file %q", p.Password)
	}
}
