package smsgw

import (
	"net/url"

	"github.com/omadm/omadm/notification"
)

// Describe names the gateway endpoint without credentials (user info and
// query, where gateways take keys, are dropped).
func (s *WebhookSender) Describe() string {
	u, err := url.Parse(s.URL)
	if err != nil || s.URL == "" {
		return "binary SMS through an HTTP webhook (no valid URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return "binary SMS through the HTTP webhook at " + u.String()
}

var _ notification.Describer = (*WebhookSender)(nil)
