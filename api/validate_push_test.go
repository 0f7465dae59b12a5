package api_test

import (
	"testing"

	"github.com/omadm/omadm/api"
)

// Addresses served through a WAP Push Proxy Gateway: a phone number (SMS
// bearer) or an IP address (IP bearer), as WAP-249-PPGService §7.1 client
// addresses of TYPE=PLMN and TYPE=IPv4/IPv6.
func TestValidateNotifyAddr_WAPPushAddresses(t *testing.T) {
	for addr, ok := range map[string]bool{
		"wappush:+15551234567": true, "wappush:5551234": true, "wappush-ip:10.0.0.1": true, "wappush-ip:2001:db8::1": true,
		"wappush-ip:[::1]": true,
		"wappush:+1":       false, "wappush:+12ab": false, "wappush:": false, "wappush-ip:": false, "wappush-ip:host.example": false,
		"wappush-ip:1.2.3.4:2948": false, "wappush-ip:999.0.0.1": false,
	} {
		if err := api.ValidateNotifyAddr(addr); (err == nil) != ok {
			t.Errorf("ValidateNotifyAddr(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}
