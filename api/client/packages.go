package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/omadm/omadm/api"
)

// UploadPackage stores body as a package of the server's catalogue
// (POST /packages). typ "" is application/octet-stream.
func (c *Client) UploadPackage(ctx context.Context, name, version, typ string, body io.Reader) (*api.Package, error) {
	q := url.Values{"name": {name}, "version": {version}}
	if typ != "" {
		q.Set("type", typ)
	}
	req, err := c.newRequest(ctx, http.MethodPost, api.Prefix+"/packages", q, nil)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(body)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var p api.Package
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&p); err != nil {
		return nil, fmt.Errorf("decoding the uploaded package: %w", err)
	}
	return &p, nil
}

// ListPackages lists the catalogue, newest first.
func (c *Client) ListPackages(ctx context.Context) ([]api.Package, error) {
	var out []api.Package
	return out, c.do(ctx, http.MethodGet, api.Prefix+"/packages", nil, nil, &out)
}

// GetPackage returns one package.
func (c *Client) GetPackage(ctx context.Context, id string) (*api.Package, error) {
	var out api.Package
	return &out, c.do(ctx, http.MethodGet, api.Prefix+"/packages/"+url.PathEscape(id), nil, nil, &out)
}

// DeletePackage removes a package (409 while the release policy names it).
func (c *Client) DeletePackage(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, api.Prefix+"/packages/"+url.PathEscape(id), nil, nil, nil)
}

// ReleasePolicy returns the release policy.
func (c *Client) ReleasePolicy(ctx context.Context) (*api.ReleasePolicy, error) {
	var out api.ReleasePolicy
	return &out, c.do(ctx, http.MethodGet, api.Prefix+"/release-policy", nil, nil, &out)
}

// SetReleasePolicy replaces the release policy.
func (c *Client) SetReleasePolicy(ctx context.Context, p api.ReleasePolicy) (*api.ReleasePolicy, error) {
	var out api.ReleasePolicy
	return &out, c.do(ctx, http.MethodPut, api.Prefix+"/release-policy", nil, p, &out)
}

// Bootstrap generates bootstrap profiles (POST /bootstrap).
func (c *Client) Bootstrap(ctx context.Context, r api.BootstrapRequest) (*api.BootstrapResult, error) {
	var out api.BootstrapResult
	return &out, c.do(ctx, http.MethodPost, api.Prefix+"/bootstrap", nil, r, &out)
}
