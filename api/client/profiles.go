package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/omadm/omadm/api"
)

func profilePath(name string) string { return api.Prefix + "/profiles/" + url.PathEscape(name) }

// CreateProfile stores a connectivity profile (POST /profiles).
func (c *Client) CreateProfile(ctx context.Context, r api.ProfileRequest) (*api.Profile, error) {
	var out api.Profile
	return &out, c.do(ctx, "POST", api.Prefix+"/profiles", nil, r, &out)
}

// UpdateProfile replaces a profile's kind and settings (PUT /profiles/{name}).
func (c *Client) UpdateProfile(ctx context.Context, name string, r api.ProfileRequest) (*api.Profile, error) {
	var out api.Profile
	return &out, c.do(ctx, "PUT", profilePath(name), nil, r, &out)
}

// GetProfile returns a profile (GET /profiles/{name}).
func (c *Client) GetProfile(ctx context.Context, name string) (*api.Profile, error) {
	var out api.Profile
	return &out, c.do(ctx, "GET", profilePath(name), nil, nil, &out)
}

// ListProfiles returns one page of profiles by name.
func (c *Client) ListProfiles(ctx context.Context, after string, limit int) (*api.ProfileList, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.ProfileList
	return &out, c.do(ctx, "GET", api.Prefix+"/profiles", q, nil, &out)
}

// DeleteProfile deletes a profile (DELETE /profiles/{name}).
func (c *Client) DeleteProfile(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", profilePath(name), nil, nil, nil)
}
