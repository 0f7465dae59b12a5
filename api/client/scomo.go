package client

import (
	"context"
	"net/url"

	"github.com/omadm/omadm/api"
)

// SCOMOInventory returns a device's software components as the server last
// read them (GET /devices/{id}/scomo/inventory; node "" = ./SCOMO).
func (c *Client) SCOMOInventory(ctx context.Context, deviceID, node string) (*api.SCOMOInventory, error) {
	q := url.Values{}
	if node != "" {
		q.Set("node", node)
	}
	var out api.SCOMOInventory
	return &out, c.do(ctx, "GET", devicePath(deviceID, "/scomo/inventory"), q, nil, &out)
}

// ReadSCOMOInventory queues a Get of the device's SCOMO inventory (POST
// /devices/{id}/scomo/inventory) and returns its job; once the job is done
// SCOMOInventory shows what it read.
func (c *Client) ReadSCOMOInventory(ctx context.Context, deviceID string, r api.SCOMOInventoryRequest) (*api.Job, error) {
	var out api.Job
	return &out, c.do(ctx, "POST", devicePath(deviceID, "/scomo/inventory"), nil, r, &out)
}
