package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/fleet/bootstrap"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
)

// maxBootstrapBatch bounds the devices of one POST /bootstrap.
const maxBootstrapBatch = 1000

var pushTID atomic.Uint32

// createBootstrap is POST /bootstrap.
func (h *Handler) createBootstrap(w http.ResponseWriter, r *http.Request) {
	var req api.BootstrapRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(req.DeviceIDs) == 0 || len(req.DeviceIDs) > maxBootstrapBatch {
		h.fail(w, r, &api.ValidationError{Field: "device_ids", Msg: fmt.Sprintf("want 1 to %d device IDs", maxBootstrapBatch)})
		return
	}
	if h.o.ServerID == "" {
		writeError(w, http.StatusServiceUnavailable, "this server has no ServerID configured for bootstrap profiles")
		return
	}
	sec := ""
	if req.Security != "" {
		var err error
		if sec, err = auth.ParseBootstrapSec(req.Security); err != nil {
			h.fail(w, r, &api.ValidationError{Field: "security", Msg: err.Error()})
			return
		}
	}
	if req.Push && sec == "" {
		h.fail(w, r, &api.ValidationError{Field: "security", Msg: "a pushed bootstrap needs security (OMA-TS-DM_Security-V1_2 §5.1.7.2.2: transport-neutral security over an unsecured bearer)"})
		return
	}
	url := req.ServerURL
	if url == "" {
		url = h.baseURL(r) + "/dm"
	}
	out := api.BootstrapResult{Profiles: []api.BootstrapProfile{}}
	for _, id := range req.DeviceIDs {
		br := bootstrap.Request{DeviceID: id, ServerID: h.o.ServerID, ServerURL: url, Format: req.Format,
			Password: req.Password, Security: sec, PIN: req.PIN}
		dev, err := h.o.Store.GetDevice(r.Context(), id)
		if errors.Is(err, storage.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown device %q", id))
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if imsi := cmpStr(req.IMSI, dev.Labels["imsi"]); imsi != "" && (sec == auth.BootstrapNetworkID || sec == auth.BootstrapUserPINNetworkID) {
			if br.Network, err = auth.IMSIKey(imsi); err != nil {
				h.fail(w, r, &api.ValidationError{Field: "imsi", Msg: err.Error()})
				return
			}
		}
		p, err := bootstrap.Generate(r.Context(), h.o.Store, br)
		if errors.Is(err, bootstrap.ErrUnsupported) {
			h.fail(w, r, &api.ValidationError{Field: "bootstrap", Msg: fmt.Sprintf("device %s: %v", id, err)})
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		bp := api.BootstrapProfile{DeviceID: p.DeviceID, Format: p.Format, ContentType: p.ContentType, Document: p.Body,
			Security: p.Security, MAC: p.MAC, UserPIN: p.UserPIN, PasswordChanged: p.PasswordChanged}
		if req.Push {
			if err := pushBootstrap(r.Context(), dev, p); err != nil {
				bp.PushError = err.Error()
			} else {
				bp.Pushed = true
			}
		}
		h.o.Logger.Info("bootstrap profile generated", "device", id, "format", p.Format, "security", p.Security,
			"password_changed", p.PasswordChanged, "pushed", bp.Pushed, "push_error", bp.PushError)
		out.Profiles = append(out.Profiles, bp)
	}
	writeJSON(w, http.StatusOK, out)
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// pushBootstrap sends a profile as a WAP push to the device's udp://
// notify address (the bearer DM notifications use).
func pushBootstrap(ctx context.Context, dev *storage.Device, p *bootstrap.Profile) error {
	if a, err := notification.ParseAddr(dev.NotifyAddr); err != nil || a.Scheme != notification.SchemeUDP {
		return fmt.Errorf("device has no udp:// notify_addr to push to (%q)", dev.NotifyAddr)
	}
	if p.ContentType != "application/vnd.syncml.dm+wbxml" {
		return fmt.Errorf("only WBXML profiles are pushed, not %s", p.Format)
	}
	code, _ := auth.BootstrapSecCode(p.Security)
	pdu, err := notification.EncodeBootstrapPush(byte(pushTID.Add(1)), p.Body, int(code), p.MAC)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return notification.PushUDP(ctx, dev.NotifyAddr, pdu)
}
