package client

import (
	"context"
	"net/url"

	"github.com/omadm/omadm/api"
)

// CreateToken creates a named API token (POST /tokens); the answer's Token
// is its plaintext, shown this once.
func (c *Client) CreateToken(ctx context.Context, name string) (*api.Token, error) {
	var out api.Token
	return &out, c.do(ctx, "POST", api.Prefix+"/tokens", nil, api.TokenRequest{Name: name}, &out)
}

// ListTokens lists the named API tokens (GET /tokens), the revoked ones too
// when revoked.
func (c *Client) ListTokens(ctx context.Context, revoked bool) (*api.TokenList, error) {
	var q url.Values
	if revoked {
		q = url.Values{"revoked": {"true"}}
	}
	var out api.TokenList
	return &out, c.do(ctx, "GET", api.Prefix+"/tokens", q, nil, &out)
}

// RevokeToken revokes a named API token by ID or name (DELETE /tokens/{token}).
func (c *Client) RevokeToken(ctx context.Context, ref string) (*api.Token, error) {
	var out api.Token
	return &out, c.do(ctx, "DELETE", api.Prefix+"/tokens/"+url.PathEscape(ref), nil, nil, &out)
}

// NotificationSenders lists the server's package 0 senders (GET
// /notification-senders).
func (c *Client) NotificationSenders(ctx context.Context) (*api.NotificationSenderList, error) {
	var out api.NotificationSenderList
	return &out, c.do(ctx, "GET", api.Prefix+"/notification-senders", nil, nil, &out)
}
