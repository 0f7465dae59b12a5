package smsgw

import (
	"net/url"

	"github.com/omadm/omadm/notification"
)

var _ notification.Describer = (*WebhookSender)(nil)

// Describe names the gateway endpoint without its credentials: user
// information and query (where tokens are often passed) are left out.
func (s *WebhookSender) Describe() string {
	return "SMS gateway webhook: binary SMs (WAP push, UDH ports) POSTed as JSON to " + redactURL(s.URL)
}

// redactURL is u without user information, query and fragment.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(an unparsable URL)"
	}
	p.User, p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = nil, "", false, "", ""
	return p.String()
}
