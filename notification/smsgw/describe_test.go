package smsgw_test

import (
	"strings"
	"testing"

	"github.com/omadm/omadm/notification/smsgw"
)

func TestWebhookSender_DescribeHidesCredentials(t *testing.T) {
	d := (&smsgw.WebhookSender{URL: "https://user:pw-secret@gw.example.net/send?key=key-secret"}).Describe()
	if strings.Contains(d, "secret") || !strings.Contains(d, "https://gw.example.net/send") {
		t.Fatalf("Describe = %q", d)
	}
}
