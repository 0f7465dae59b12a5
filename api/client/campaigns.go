package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/omadm/omadm/api"
)

func campaignPath(id int64, rest string) string {
	return api.Prefix + "/campaigns/" + strconv.FormatInt(id, 10) + rest
}

// CreateCampaign creates a campaign (POST /campaigns).
func (c *Client) CreateCampaign(ctx context.Context, r api.CampaignRequest) (*api.Campaign, error) {
	var out api.Campaign
	return &out, c.do(ctx, "POST", api.Prefix+"/campaigns", nil, r, &out)
}

// GetCampaign returns a campaign with its counts (GET /campaigns/{id}).
func (c *Client) GetCampaign(ctx context.Context, id int64) (*api.Campaign, error) {
	var out api.Campaign
	return &out, c.do(ctx, "GET", campaignPath(id, ""), nil, nil, &out)
}

// ListCampaigns returns one page of campaigns (states "" = all).
func (c *Client) ListCampaigns(ctx context.Context, states []string, after int64, limit int) (*api.CampaignList, error) {
	q := url.Values{}
	if len(states) > 0 {
		q.Set("state", strings.Join(states, ","))
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.CampaignList
	return &out, c.do(ctx, "GET", api.Prefix+"/campaigns", q, nil, &out)
}

// CampaignDevices returns one page of a campaign's devices, filtered by
// outcome (empty: all); cursor is the previous page's Next.
func (c *Client) CampaignDevices(ctx context.Context, id int64, states []string, cursor string, limit int) (*api.CampaignDeviceList, error) {
	q := url.Values{}
	if len(states) > 0 {
		q.Set("state", strings.Join(states, ","))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.CampaignDeviceList
	return &out, c.do(ctx, "GET", campaignPath(id, "/devices"), q, nil, &out)
}

// PauseCampaign pauses a running campaign.
func (c *Client) PauseCampaign(ctx context.Context, id int64, reason string) (*api.Campaign, error) {
	var out api.Campaign
	var body any
	if reason != "" {
		body = api.CampaignPause{Reason: reason}
	}
	return &out, c.do(ctx, "POST", campaignPath(id, "/pause"), nil, body, &out)
}

// ResumeCampaign resumes a paused campaign.
func (c *Client) ResumeCampaign(ctx context.Context, id int64) (*api.Campaign, error) {
	var out api.Campaign
	return &out, c.do(ctx, "POST", campaignPath(id, "/resume"), nil, nil, &out)
}

// CancelCampaign cancels a campaign.
func (c *Client) CancelCampaign(ctx context.Context, id int64) (*api.Campaign, error) {
	var out api.Campaign
	return &out, c.do(ctx, "POST", campaignPath(id, "/cancel"), nil, nil, &out)
}
