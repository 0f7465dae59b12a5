package handler

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

// Paging bounds: a page is never larger than maxLimit whatever the client asks.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// limitParam parses ?limit= (default 100, at most 1000).
func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, &api.ValidationError{Field: "limit", Msg: fmt.Sprintf("%q: want 1..%d", s, maxLimit)}
	}
	return n, nil
}

// int64Param parses a numeric cursor or id (0 when absent).
func int64Param(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, &api.ValidationError{Field: name, Msg: fmt.Sprintf("%q: want a non-negative integer", s)}
	}
	return n, nil
}

// generatePassword makes a server password for devices enrolled without one:
// 18 random bytes, base64url without padding (24 printable characters).
func generatePassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (h *Handler) createDevice(w http.ResponseWriter, r *http.Request) {
	var req api.DeviceCreate
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := api.ValidateDeviceCreate(&req); err != nil {
		h.fail(w, r, err)
		return
	}
	generated := ""
	if req.ServerPassword == "" {
		p, err := generatePassword()
		if err != nil {
			h.fail(w, r, err)
			return
		}
		req.ServerPassword, generated = p, p
	}
	d := &storage.Device{
		ID: req.ID, AuthScheme: req.Auth, Username: req.Username, Password: req.Password,
		ServerPassword: req.ServerPassword, NotifyAddr: req.NotifyAddr, Labels: req.Labels,
	}
	if err := api.ApplyAccountCreate(d, req.AccountFields); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.o.Store.CreateDevice(r.Context(), d); err != nil {
		if errors.Is(err, storage.ErrExists) {
			writeError(w, http.StatusConflict, fmt.Sprintf("device %q already exists", req.ID))
			return
		}
		h.fail(w, r, err)
		return
	}
	// Read back so the answer shows what was stored (CreatedAt and all).
	if got, err := h.o.Store.GetDevice(r.Context(), d.ID); err == nil {
		d = got
	}
	h.o.Logger.Info("device enrolled", "device", d.ID, "auth", d.AuthScheme)
	w.Header().Set("Location", api.Prefix+"/devices/"+d.ID)
	writeJSON(w, http.StatusCreated, api.DeviceCreated{Device: api.DeviceFrom(d), ServerPassword: generated})
}

// device loads the {id} device, answering 404 itself when it is unknown.
func (h *Handler) device(w http.ResponseWriter, r *http.Request) (*storage.Device, bool) {
	id := r.PathValue("id")
	d, err := h.o.Store.GetDevice(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown device %q", id))
		return nil, false
	}
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return d, true
}

func (h *Handler) getDevice(w http.ResponseWriter, r *http.Request) {
	if d, ok := h.device(w, r); ok {
		writeJSON(w, http.StatusOK, api.DeviceFrom(d))
	}
}

func (h *Handler) updateDevice(w http.ResponseWriter, r *http.Request) {
	var u api.DeviceUpdate
	if err := h.decode(w, r, &u); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := api.ValidateDeviceUpdate(&u); err != nil {
		h.fail(w, r, err)
		return
	}
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	if err := api.ApplyAccountUpdate(d, &u); err != nil {
		h.fail(w, r, err)
		return
	}
	api.ApplyDeviceUpdate(d, &u)
	if err := h.o.Store.UpdateDevice(r.Context(), d); err != nil {
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("device updated", "device", d.ID)
	writeJSON(w, http.StatusOK, api.DeviceFrom(d))
}

func (h *Handler) deleteDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.o.Store.DeleteDevice(r.Context(), id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown device %q", id))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("device deleted", "device", id)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) tree(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	nodes, err := h.o.Store.ListTreeNodes(r.Context(), d.ID, r.URL.Query().Get("prefix"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.Tree{Device: d.ID, Nodes: make([]api.TreeNode, 0, len(nodes))}
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, api.TreeNodeFrom(n))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) traces(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ts, err := h.o.Store.ListTraces(r.Context(), d.ID, r.URL.Query().Get("session"), limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.TraceList{Traces: make([]api.Trace, 0, len(ts))}
	for _, t := range ts {
		out.Traces = append(out.Traces, api.TraceFrom(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) deviceEvents(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	h.events(w, r, d.ID)
}

func (h *Handler) allEvents(w http.ResponseWriter, r *http.Request) { h.events(w, r, "") }

func (h *Handler) events(w http.ResponseWriter, r *http.Request, deviceID string) {
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
	es, err := h.o.Store.ListEvents(r.Context(), deviceID, after, limit+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.EventList{Events: make([]api.Event, 0, min(len(es), limit))}
	for i, e := range es {
		if i == limit {
			out.Next = strconv.FormatInt(es[limit-1].ID, 10)
			break
		}
		out.Events = append(out.Events, api.EventFrom(e))
	}
	writeJSON(w, http.StatusOK, out)
}
