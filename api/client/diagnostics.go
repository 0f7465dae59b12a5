package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/omadm/omadm/api"
)

// DiagnosticQuery filters Diagnostics.
type DiagnosticQuery struct {
	Function string // one function's reports ("" = all)
	Kind     string // "report", "trap", "trap-inactive" ("" = all)
	After    int64  // cursor (an event id)
	Limit    int
}

// Diagnostics returns one page of a device's DiagMon reports and traps
// (GET /devices/{id}/diagnostics), oldest first.
func (c *Client) Diagnostics(ctx context.Context, deviceID string, dq DiagnosticQuery) (*api.DiagnosticList, error) {
	q := url.Values{}
	if dq.Function != "" {
		q.Set("function", dq.Function)
	}
	if dq.Kind != "" {
		q.Set("kind", dq.Kind)
	}
	if dq.After > 0 {
		q.Set("after", strconv.FormatInt(dq.After, 10))
	}
	if dq.Limit > 0 {
		q.Set("limit", strconv.Itoa(dq.Limit))
	}
	var out api.DiagnosticList
	return &out, c.do(ctx, "GET", devicePath(deviceID, "/diagnostics"), q, nil, &out)
}

// Diagnostic returns the report a device sent in one event
// (GET /devices/{id}/diagnostics/{event}).
func (c *Client) Diagnostic(ctx context.Context, deviceID string, event int64) (*api.Diagnostic, error) {
	var out api.Diagnostic
	return &out, c.do(ctx, "GET", devicePath(deviceID, "/diagnostics/"+strconv.FormatInt(event, 10)), nil, nil, &out)
}
