package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/omadm/omadm/api"
)

// health answers GET /healthz, the liveness check: the process is up and
// serving HTTP. It looks at nothing else, so an orchestrator does not
// restart a server whose database is briefly away (that is /readyz).
func (h *Handler) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok", Version: h.o.Version})
}

// ready answers GET /readyz, the readiness check: 200 when the store answers
// a Ping and Options.Ready passes, else 503 with the reason. The check is
// public: a storage error (addresses, user and database names) goes to the
// log only, at most once per interval.
func (h *Handler) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := h.o.Store.Ping(ctx); err != nil {
		h.healthLog.Warn(h.o.Logger, "readiness check: storage unavailable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "unavailable", Error: "storage unavailable", Version: h.o.Version})
		return
	}
	if h.o.Ready != nil {
		if err := h.o.Ready(ctx); err != nil {
			h.healthLog.Warn(h.o.Logger, "readiness check failed", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "unavailable", Error: err.Error(), Version: h.o.Version})
			return
		}
	}
	writeJSON(w, http.StatusOK, api.Health{Status: "ok", Version: h.o.Version})
}
