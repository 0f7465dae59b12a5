package notification_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
)

// The one address grammar: what the API stores is what a sender reads.
func TestParseAddr_ReadsEverySchemeIntoItsParts(t *testing.T) {
	tests := []struct {
		name, addr string
		want       string // scheme|host:port|number|ip
	}{
		{"udp", "udp://127.0.0.1:2948", "udp|127.0.0.1:2948||"},
		{"udp IPv6", "udp://[::1]:9", "udp|[::1]:9||"},
		{"udp name", "udp://dev.example:4000", "udp|dev.example:4000||"},
		{"obex", "obex://[::1]:6500", "obex|[::1]:6500||"},
		{"scheme in any case", "UDP://h:1", "udp|h:1||"},
		{"sms", "sms:+15551234", "sms||+15551234|"},
		{"sms national", "sms:5551234", "sms||5551234|"},
		// RFC 5724: an sms: URI may percent-encode the "+".
		{"sms percent-encoded", "sms:%2B4930123", "sms||+4930123|"},
		{"wappush", "wappush:+15551234567", "wappush||+15551234567|"},
		{"wappush-ip v4", "wappush-ip:10.1.2.3", "wappush-ip|||10.1.2.3"},
		{"wappush-ip v6 bracketed", "wappush-ip:[2001:db8::1]", "wappush-ip|||2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := notification.ParseAddr(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			hp, ip := "", ""
			if a.Host != "" {
				hp = a.HostPort()
			}
			if a.IP != nil {
				ip = a.IP.String()
			}
			if got := strings.Join([]string{a.Scheme, hp, a.Number, ip}, "|"); got != tt.want {
				t.Errorf("ParseAddr(%q) = %s, want %s", tt.addr, got, tt.want)
			}
		})
	}
}

func TestParseAddr_RefusesWithTheWantedForm(t *testing.T) {
	tests := []struct{ name, addr, msg string }{
		{"no scheme", "15551234", "no scheme"},
		{"unknown scheme", "tel:+123", `unsupported scheme "tel"`},
		{"http", "http://x", "unsupported scheme"},
		// The port is part of a stored udp address; 2948 (WAP-259-WDP, the
		// connectionless push port) is written out like any other.
		{"udp without port", "udp://host", "want udp://host:port"},
		{"udp without host", "udp://:9", "no host"},
		{"udp without //", "udp:h:9", "no //"},
		{"udp port 0", "udp://h:0", "not 1..65535"},
		{"udp port too big", "udp://h:70000", "not 1..65535"},
		{"udp path", "udp://h:9/", "not 1..65535"},
		{"obex without port", "obex://127.0.0.1", "want obex://host:port"},
		{"obex user", "obex://u@h:650", "not a name or IP"},
		{"obex path", "obex://h:650/x", "not 1..65535"},
		{"sms letters", "sms:+12ab", "digits"},
		{"sms too short", "sms:+1", "digits"},
		{"sms too long", "sms:+" + strings.Repeat("1", 21), "digits"},
		{"wappush empty", "wappush:", "digits"},
		{"wappush PAP injection", "wappush:+1/TYPE=IPv4@x", "digits"},
		{"wappush-ip host name", "wappush-ip:host.example", "IPv4 or IPv6"},
		{"wappush-ip bad v4", "wappush-ip:999.1.1.1", "IPv4 or IPv6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notification.ParseAddr(tt.addr)
			var ae *notification.AddrError
			if !errors.As(err, &ae) || ae.Addr != tt.addr {
				t.Fatalf("ParseAddr(%q) = %v, want an AddrError", tt.addr, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestParseAddrOf_RefusesAnotherSchemeNamingTheServedForms(t *testing.T) {
	_, err := notification.ParseAddrOf("udp://h:1", notification.SchemeWAPPush, notification.SchemeWAPPushIP)
	if err == nil || !strings.Contains(err.Error(), "want wappush:+number or wappush-ip:address") {
		t.Fatalf("err = %v", err)
	}
	if _, err := notification.ParseAddrOf("sms:+15551234", notification.SchemeSMS); err != nil {
		t.Fatal(err)
	}
}

func TestAddrForms_ListsEveryScheme(t *testing.T) {
	if got, want := notification.AddrForms(), "udp://host:port, sms:+number, wappush:+number, wappush-ip:address or obex://host:port"; got != want {
		t.Errorf("AddrForms() = %q, want %q", got, want)
	}
}
