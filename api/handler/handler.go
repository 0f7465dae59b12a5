// Package handler serves the omadm operator REST API (/api/v1): devices and
// their inventory (selectors, labels, static and dynamic groups, bulk
// import), the per-device job queue, notifications, MO operations
// (FUMO, LAWMO, SCOMO, DiagMon diagnostics), campaigns, update packages and
// their downloads, connectivity and bootstrap profiles, the tree cache,
// events, wire traces, health and readiness, a server-sent-events stream of
// live updates and the OpenAPI document. It
// works on storage.Store and a small Notifier interface, so it can be tested
// without a running engine and mounted next to any DM endpoint; the Relay
// takes the engine's live updates (server.Update) as they are.
package handler

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/fleet/content"
	"github.com/omadm/omadm/internal/lograte"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
)

// Notifier asks a device for an immediate session by sending it package 0.
// *server.Engine implements it.
type Notifier interface {
	Notify(ctx context.Context, deviceID string) error
}

// Options configures the API handler. Store and Token (or TokenSHA256) are
// required; nil or zero values of the others get sensible defaults.
type Options struct {
	Store storage.Store
	// Notifier sends package 0; nil makes notify requests fail with 503.
	Notifier Notifier
	// Token is the bearer token every request must carry.
	Token string
	// TokenSHA256 is the SHA-256 of the token, for a server that keeps
	// only the hash (set one of Token and TokenSHA256). The handler itself
	// never holds more than the hash: it compares the hash of each
	// request's token, in constant time.
	TokenSHA256 []byte
	// Hub carries live updates to /events/stream; nil creates a private one
	// (see Handler.Hub), which only sees what is published to it.
	Hub    *Hub
	Logger *slog.Logger
	// MaxBody bounds request bodies (default 8 MiB: a job may carry a 4 MiB
	// large object as base64).
	MaxBody int64
	// MaxImportBody bounds the body of POST /devices/import (default 1 GiB;
	// the records are stored as they arrive, in batches).
	MaxImportBody int64
	// Heartbeat is the interval of SSE keep-alive comments (default 15 s).
	Heartbeat time.Duration
	// Version is reported by /healthz and /readyz.
	Version string
	// Ready is /readyz's check beyond Store.Ping (omadm serve: every schema
	// migration is applied); nil = Ping only. Its error's text is the
	// public reason in the 503 answer, so it must not name hosts or users.
	Ready func(context.Context) error
	// Operations creates and follows operations (POST
	// /devices/{id}/operations, /fumo, /lawmo); nil makes one on Store
	// whose changes go to Hub (it then sees only what this handler does:
	// `omadm serve` passes the one its scheduler and engine feed).
	Operations *fleet.Manager
	// Campaigns creates and steers campaigns (/campaigns); nil makes one
	// on Operations, without notifications, whose changes go to Hub.
	Campaigns *fleet.Campaigns
	// Content is the package catalogue (/packages, /release-policy and,
	// through Downloads, /dl/); nil answers those routes with 503.
	Content *content.Catalogue
	// PublicURL is the base of the URLs given to devices (download
	// descriptors, bootstrap profiles); "" takes the URL each request came to.
	PublicURL string
	// ServerID is our DM ServerID, which bootstrap profiles name; "" makes
	// POST /bootstrap answer 503.
	ServerID string
	// Senders are the package 0 senders by address scheme, as given to the
	// engine, listed by GET /notification-senders (nil: none listed).
	Senders map[string]notification.Sender
}

// Handler is the /api/v1 HTTP handler.
type Handler struct {
	o         Options
	mux       *http.ServeMux
	tokenHash [32]byte
	routes    []Route
	healthLog *lograte.Limiter
}

// Route is one method and path pattern the API serves, exposed so tests and
// documentation can check every route is described in the OpenAPI document.
type Route struct {
	Method  string
	Pattern string // Go ServeMux / OpenAPI path syntax, e.g. /api/v1/devices/{id}
	Public  bool   // served without the bearer token
	h       http.HandlerFunc
}

// New builds the API handler. It fails when the store or token is missing,
// because an API without authentication must never be served by accident.
func New(o Options) (*Handler, error) {
	if o.Store == nil {
		return nil, errors.New("api handler: Options.Store is required")
	}
	var tokenHash [sha256.Size]byte
	switch {
	case o.Token != "" && o.TokenSHA256 != nil:
		return nil, errors.New("api handler: set Options.Token or Options.TokenSHA256, not both")
	case o.Token != "":
		tokenHash = sha256.Sum256([]byte(o.Token))
		o.Token = ""
	case len(o.TokenSHA256) == sha256.Size:
		copy(tokenHash[:], o.TokenSHA256)
	case o.TokenSHA256 != nil:
		return nil, fmt.Errorf("api handler: Options.TokenSHA256 is %d bytes, want %d", len(o.TokenSHA256), sha256.Size)
	default:
		return nil, errors.New("api handler: Options.Token is required")
	}
	if o.Hub == nil {
		o.Hub = NewHub()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 8 << 20
	}
	if o.MaxImportBody <= 0 {
		o.MaxImportBody = 1 << 30
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	h := &Handler{o: o, mux: http.NewServeMux(), tokenHash: tokenHash, healthLog: lograte.New(10 * time.Second)}
	if h.o.Operations == nil {
		m, err := fleet.New(fleet.Options{Store: o.Store, Logger: o.Logger, OnChange: h.publishOperation})
		if err != nil {
			return nil, err
		}
		h.o.Operations = m
	}
	if h.o.Campaigns == nil {
		h.o.Campaigns = fleet.NewCampaigns(h.o.Operations, fleet.CampaignOptions{OnChange: h.PublishCampaign})
	}
	p := api.Prefix
	h.routes = []Route{
		{Method: "GET", Pattern: "/healthz", Public: true, h: h.health},
		{Method: "GET", Pattern: "/readyz", Public: true, h: h.ready},
		{Method: "GET", Pattern: p + "/openapi.json", Public: true, h: h.openapi},
		{Method: "POST", Pattern: p + "/devices", h: h.createDevice},
		{Method: "GET", Pattern: p + "/devices/{id}", h: h.getDevice},
		{Method: "PATCH", Pattern: p + "/devices/{id}", h: h.updateDevice},
		{Method: "DELETE", Pattern: p + "/devices/{id}", h: h.deleteDevice},
		{Method: "POST", Pattern: p + "/devices/{id}/jobs", h: h.createJob},
		{Method: "GET", Pattern: p + "/devices/{id}/jobs", h: h.listJobs},
		{Method: "POST", Pattern: p + "/devices/{id}/fumo", h: h.createFUMO},
		{Method: "POST", Pattern: p + "/devices/{id}/lawmo", h: h.createLAWMO},
		{Method: "POST", Pattern: p + "/devices/{id}/operations", h: h.createOperation},
		{Method: "GET", Pattern: p + "/devices/{id}/operations", h: h.listOperations},
		{Method: "GET", Pattern: p + "/operations/{opid}", h: h.getOperation},
		{Method: "POST", Pattern: p + "/operations/{opid}/cancel", h: h.cancelOperation},
		{Method: "POST", Pattern: p + "/campaigns", h: h.createCampaign},
		{Method: "GET", Pattern: p + "/campaigns", h: h.listCampaigns},
		{Method: "GET", Pattern: p + "/campaigns/{cid}", h: h.getCampaign},
		{Method: "GET", Pattern: p + "/campaigns/{cid}/devices", h: h.campaignDevices},
		{Method: "POST", Pattern: p + "/campaigns/{cid}/pause", h: h.pauseCampaign},
		{Method: "POST", Pattern: p + "/campaigns/{cid}/resume", h: h.resumeCampaign},
		{Method: "POST", Pattern: p + "/campaigns/{cid}/cancel", h: h.cancelCampaign},
		{Method: "GET", Pattern: p + "/jobs", h: h.allJobs},
		{Method: "GET", Pattern: p + "/jobs/{jobid}", h: h.getJob},
		{Method: "POST", Pattern: p + "/jobs/{jobid}/cancel", h: h.cancelJob},
		{Method: "POST", Pattern: p + "/devices/{id}/notify", h: h.notify},
		{Method: "GET", Pattern: p + "/devices/{id}/tree", h: h.tree},
		{Method: "GET", Pattern: p + "/devices/{id}/scomo/inventory", h: h.scomoInventory},
		{Method: "POST", Pattern: p + "/devices/{id}/scomo/inventory", h: h.readSCOMOInventory},
		{Method: "GET", Pattern: p + "/devices/{id}/events", h: h.deviceEvents},
		{Method: "GET", Pattern: p + "/devices/{id}/diagnostics", h: h.listDiagnostics},
		{Method: "GET", Pattern: p + "/devices/{id}/diagnostics/{event}", h: h.getDiagnostic},
		{Method: "POST", Pattern: p + "/profiles", h: h.createProfile},
		{Method: "GET", Pattern: p + "/profiles", h: h.listProfiles},
		{Method: "GET", Pattern: p + "/profiles/{name}", h: h.getProfile},
		{Method: "PUT", Pattern: p + "/profiles/{name}", h: h.updateProfile},
		{Method: "DELETE", Pattern: p + "/profiles/{name}", h: h.deleteProfile},
		{Method: "GET", Pattern: p + "/events", h: h.allEvents},
		{Method: "GET", Pattern: p + "/devices/{id}/traces", h: h.traces},
		{Method: "GET", Pattern: p + "/events/stream", h: h.stream},
		{Method: "GET", Pattern: p + "/mos", h: h.listMOs},
	}
	h.routes = append(h.routes, h.contentRoutes()...)
	h.routes = append(h.routes, h.inventoryRoutes()...)
	h.routes = append(h.routes, h.tokenRoutes()...)
	for _, rt := range h.routes {
		hf, err := knownQuery(rt, rt.h)
		if err != nil {
			return nil, err
		}
		if !rt.Public {
			hf = h.authenticated(hf)
		}
		h.mux.Handle(rt.Method+" "+rt.Pattern, hf)
	}
	return h, nil
}

// Routes lists what the handler serves.
func (h *Handler) Routes() []Route { return append([]Route(nil), h.routes...) }

// Hub is where live updates are published for the event stream.
func (h *Handler) Hub() *Hub { return h.o.Hub }

// ServeHTTP routes the request, answering unknown paths and methods with
// JSON errors (404, 405 with Allow) like every other failure, and turning a
// handler panic into a logged 500 instead of a dropped connection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.o.Logger.Error("api handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	if _, pat := h.mux.Handler(r); pat == "" {
		var allow []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := h.mux.Handler(probe); p != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		writeError(w, http.StatusNotFound, "no such API route: "+r.URL.Path)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// authenticated checks the bearer token (checkToken: the bootstrap token or
// a named one, compared as SHA-256 digests in constant time, so neither
// content nor length leaks through timing).
func (h *Handler) authenticated(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok = strings.TrimSpace(tok)
		msg := "missing bearer token (Authorization: Bearer <token>)"
		if ok && tok != "" {
			c, why, err := h.checkToken(r.Context(), tok)
			if err != nil {
				h.o.Logger.Error("API token lookup failed", "err", err)
				writeError(w, http.StatusServiceUnavailable, errTokenStore.Error()+": storage unavailable, try again")
				return
			}
			if why == "" {
				next(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
				return
			}
			msg = why
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="omadm"`)
		writeError(w, http.StatusUnauthorized, msg)
	}
}

func (h *Handler) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(api.OpenAPI())
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, api.Error{Error: msg})
}

// fail maps an error to its HTTP status in one place: validation → 400,
// storage sentinels → 404/409, oversized bodies → 413, anything else is
// logged and becomes 500 without leaking internals.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *api.ValidationError
	var me *http.MaxBytesError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, ve.Error())
	case errors.As(err, &me):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", me.Limit))
	case errors.Is(err, errBadJSON):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, storage.ErrExists), errors.Is(err, storage.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		h.o.Logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

var errBadJSON = errors.New("bad JSON body")

// decode reads one JSON object from the bounded body, rejecting unknown
// fields (a typo must not silently do nothing) and trailing data.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return h.decodeLimit(w, r, v, h.o.MaxBody)
}

// decodeLimit is decode with a body limit of its own.
func (h *Handler) decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: empty body, want a JSON object", errBadJSON)
		}
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return err
		}
		return fmt.Errorf("%w: trailing data after the JSON object", errBadJSON)
	}
	return nil
}

// pathID parses the positive integer ID in path parameter param (a job,
// operation or campaign id); a bad one is a ValidationError on field saying
// it is not what ("a job id").
func pathID(r *http.Request, param, field, what string) (int64, error) {
	s := r.PathValue(param)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, &api.ValidationError{Field: field, Msg: fmt.Sprintf("%q is not %s", s, what)}
	}
	return n, nil
}
