package handler

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// maxCampaignBody bounds POST /campaigns, whose explicit device list may be
// long (a million IDs of 20 bytes fit).
const maxCampaignBody = 64 << 20

// PublishCampaign sends a campaign's change to the event streams (the
// Campaigns' OnChange).
func (h *Handler) PublishCampaign(c *storage.Campaign, counts map[storage.TargetState]int) {
	v := api.CampaignFrom(c, counts)
	h.o.Hub.Publish(api.Update{Kind: api.UpdateCampaign, Time: c.UpdatedAt, Campaign: &v})
}

// campaignFail answers a campaigns error: a bad field 400, an unknown
// campaign 404, a change its state does not allow 409.
func (h *Handler) campaignFail(w http.ResponseWriter, r *http.Request, id int64, err error) {
	switch {
	case errors.Is(err, storage.ErrNotFound) && id != 0:
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown campaign %d", id))
	case errors.Is(err, fleet.ErrCampaignState):
		writeError(w, http.StatusConflict, err.Error())
	default:
		h.failOp(w, r, err)
	}
}

// createCampaign is POST /campaigns.
func (h *Handler) createCampaign(w http.ResponseWriter, r *http.Request) {
	var req api.CampaignRequest
	if err := h.decodeLimit(w, r, &req, max(h.o.MaxBody, maxCampaignBody)); err != nil {
		h.fail(w, r, err)
		return
	}
	fr, err := req.ToFleet()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.o.Campaigns.Create(r.Context(), fr)
	if err != nil {
		h.campaignFail(w, r, 0, err)
		return
	}
	_, counts, err := h.o.Campaigns.Get(r.Context(), c.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("campaign created", "campaign", c.ID, "devices", c.Total, "state", c.State)
	w.Header().Set("Location", api.Prefix+"/campaigns/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, api.CampaignFrom(c, counts))
}

// listCampaigns is GET /campaigns (?state=, ?after=, ?limit=).
func (h *Handler) listCampaigns(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	after, err := int64Param(r, "after")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := storage.CampaignFilter{AfterID: after, Limit: limit + 1}
	if s := r.URL.Query().Get("state"); s != "" {
		for st := range strings.SplitSeq(s, ",") {
			cs := storage.CampaignState(strings.TrimSpace(st))
			if !cs.Valid() {
				h.fail(w, r, &api.ValidationError{Field: "state", Msg: fmt.Sprintf("unknown state %q (want creating, running, paused, cancelling, cancelled or completed)", st)})
				return
			}
			f.States = append(f.States, cs)
		}
	}
	cs, err := h.o.Campaigns.List(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.CampaignList{Campaigns: make([]api.Campaign, 0, min(len(cs), limit))}
	for i, c := range cs {
		if i == limit {
			out.Next = strconv.FormatInt(cs[limit-1].ID, 10)
			break
		}
		_, counts, err := h.o.Campaigns.Get(r.Context(), c.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
		out.Campaigns = append(out.Campaigns, api.CampaignFrom(c, counts))
	}
	writeJSON(w, http.StatusOK, out)
}

// getCampaign is GET /campaigns/{cid}: the campaign with its counts.
func (h *Handler) getCampaign(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "cid", "id", "a campaign id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, counts, err := h.o.Campaigns.Get(r.Context(), id)
	if err != nil {
		h.campaignFail(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, api.CampaignFrom(c, counts))
}

// campaignDevices is GET /campaigns/{cid}/devices (?state=, ?cursor=,
// ?limit=): the devices in rollout order.
func (h *Handler) campaignDevices(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "cid", "id", "a campaign id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := storage.CampaignDeviceFilter{CampaignID: id, Limit: limit + 1}
	if s := r.URL.Query().Get("cursor"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			h.fail(w, r, &api.ValidationError{Field: "cursor", Msg: fmt.Sprintf("%q: want the next value of a previous page", s)})
			return
		}
		f.FromSeq = n
	}
	if s := r.URL.Query().Get("state"); s != "" {
		for st := range strings.SplitSeq(s, ",") {
			ts := storage.TargetState(strings.TrimSpace(st))
			if !ts.Valid() {
				h.fail(w, r, &api.ValidationError{Field: "state", Msg: fmt.Sprintf("unknown outcome %q (want pending, notified, in_progress, succeeded, failed, timed_out, cancelled or skipped)", st)})
				return
			}
			f.States = append(f.States, ts)
		}
	}
	ds, err := h.o.Campaigns.Devices(r.Context(), f)
	if err != nil {
		h.campaignFail(w, r, id, err)
		return
	}
	out := api.CampaignDeviceList{Devices: make([]api.CampaignDevice, 0, min(len(ds), limit))}
	for i, d := range ds {
		if i == limit {
			out.Next = strconv.Itoa(ds[limit-1].Seq + 1)
			break
		}
		out.Devices = append(out.Devices, api.CampaignDeviceFrom(d))
	}
	writeJSON(w, http.StatusOK, out)
}

// steerCampaign answers pause, resume and cancel with the campaign.
func (h *Handler) steerCampaign(w http.ResponseWriter, r *http.Request, verb string,
	fn func(id int64) (*storage.Campaign, error)) {
	id, err := pathID(r, "cid", "id", "a campaign id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := fn(id); err != nil {
		h.campaignFail(w, r, id, err)
		return
	}
	c, counts, err := h.o.Campaigns.Get(r.Context(), id)
	if err != nil {
		h.campaignFail(w, r, id, err)
		return
	}
	h.o.Logger.Info("campaign "+verb, "campaign", id, "state", c.State)
	writeJSON(w, http.StatusOK, api.CampaignFrom(c, counts))
}

// pauseCampaign is POST /campaigns/{cid}/pause (optional body {"reason"}).
func (h *Handler) pauseCampaign(w http.ResponseWriter, r *http.Request) {
	var body api.CampaignPause
	if r.ContentLength != 0 {
		if err := h.decode(w, r, &body); err != nil {
			h.fail(w, r, err)
			return
		}
		if !storage.Printable(body.Reason) || len(body.Reason) > 500 {
			h.fail(w, r, &api.ValidationError{Field: "reason", Msg: "must be at most 500 printable characters"})
			return
		}
	}
	h.steerCampaign(w, r, "paused", func(id int64) (*storage.Campaign, error) {
		return h.o.Campaigns.Pause(r.Context(), id, body.Reason)
	})
}

// resumeCampaign is POST /campaigns/{cid}/resume.
func (h *Handler) resumeCampaign(w http.ResponseWriter, r *http.Request) {
	h.steerCampaign(w, r, "resumed", func(id int64) (*storage.Campaign, error) { return h.o.Campaigns.Resume(r.Context(), id) })
}

// cancelCampaign is POST /campaigns/{cid}/cancel.
func (h *Handler) cancelCampaign(w http.ResponseWriter, r *http.Request) {
	h.steerCampaign(w, r, "cancelled", func(id int64) (*storage.Campaign, error) { return h.o.Campaigns.Cancel(r.Context(), id) })
}
