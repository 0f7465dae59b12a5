package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/omadm/omadm/api"
)

// DeviceQuery is a device search of GET /devices: a selector (see
// fleet.ParseSelector), an order and a page.
type DeviceQuery struct {
	Q      string // selector, "" = every device
	Sort   string // id (default), last_seen or created
	Desc   bool
	Cursor string // NextCursor of the previous page
	Limit  int    // 0 = server default (100)
}

func (dq DeviceQuery) values() url.Values {
	q := url.Values{}
	if dq.Q != "" {
		q.Set("q", dq.Q)
	}
	if dq.Sort != "" {
		q.Set("sort", dq.Sort)
	}
	if dq.Desc {
		q.Set("order", "desc")
	}
	if dq.Cursor != "" {
		q.Set("cursor", dq.Cursor)
	}
	if dq.Limit > 0 {
		q.Set("limit", strconv.Itoa(dq.Limit))
	}
	return q
}

// QueryDevices returns one page of the devices dq selects.
func (c *Client) QueryDevices(ctx context.Context, dq DeviceQuery) (*api.DeviceList, error) {
	var out api.DeviceList
	return &out, c.do(ctx, "GET", api.Prefix+"/devices", dq.values(), nil, &out)
}

// EachDevicePage calls fn with every page of dq, following NextCursor to
// the end (or until fn returns an error, returned as is).
func (c *Client) EachDevicePage(ctx context.Context, dq DeviceQuery, fn func(*api.DeviceList) error) error {
	for {
		page, err := c.QueryDevices(ctx, dq)
		if err != nil {
			return err
		}
		if err := fn(page); err != nil {
			return err
		}
		if page.NextCursor == "" {
			return nil
		}
		if page.NextCursor == dq.Cursor {
			return fmt.Errorf("server returned the same cursor twice")
		}
		dq.Cursor = page.NextCursor
	}
}

// ChangeLabels sets and removes labels of one device.
func (c *Client) ChangeLabels(ctx context.Context, id string, ch api.LabelChange) (*api.Device, error) {
	var out api.Device
	return &out, c.do(ctx, "PATCH", devicePath(id, "/labels"), nil, ch, &out)
}

// ChangeLabelsBySelector sets and removes labels of every device a selector
// matches.
func (c *Client) ChangeLabelsBySelector(ctx context.Context, r api.BulkLabelRequest) (*api.BulkLabelResult, error) {
	var out api.BulkLabelResult
	return &out, c.do(ctx, "POST", api.Prefix+"/devices/labels", nil, r, &out)
}

// ImportDevices sends an import body (NDJSON, or a JSON array of device
// records) as it is read from r.
func (c *Client) ImportDevices(ctx context.Context, r io.Reader) (*api.ImportResult, error) {
	req, err := c.newRequest(ctx, "POST", api.Prefix+"/devices/import", nil, nil)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(r)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out api.ImportResult
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding answer of import: %w", err)
	}
	return &out, nil
}

func groupPath(name string, rest ...string) string {
	p := api.Prefix + "/groups/" + url.PathEscape(name)
	for _, r := range rest {
		p += r
	}
	return p
}

// CreateGroup creates a static group (Selector "") or a dynamic one.
func (c *Client) CreateGroup(ctx context.Context, g api.GroupCreate) (*api.Group, error) {
	var out api.Group
	return &out, c.do(ctx, "POST", api.Prefix+"/groups", nil, g, &out)
}

// ListGroups returns one page of groups with name > after.
func (c *Client) ListGroups(ctx context.Context, after string, limit int) (*api.GroupList, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.GroupList
	return &out, c.do(ctx, "GET", api.Prefix+"/groups", q, nil, &out)
}

// GetGroup returns one group.
func (c *Client) GetGroup(ctx context.Context, name string) (*api.Group, error) {
	var out api.Group
	return &out, c.do(ctx, "GET", groupPath(name), nil, nil, &out)
}

// DeleteGroup deletes a group (its devices stay).
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", groupPath(name), nil, nil, nil)
}

// ChangeMembers adds and removes members of a static group.
func (c *Client) ChangeMembers(ctx context.Context, name string, ch api.MembersChange) (*api.MembersResult, error) {
	var out api.MembersResult
	return &out, c.do(ctx, "PATCH", groupPath(name, "/members"), nil, ch, &out)
}

// GroupMembers returns one page of a group's devices (dq.Q may filter them).
func (c *Client) GroupMembers(ctx context.Context, name string, dq DeviceQuery) (*api.DeviceList, error) {
	var out api.DeviceList
	return &out, c.do(ctx, "GET", groupPath(name, "/members"), dq.values(), nil, &out)
}
