package dmhttp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/syncml"
)

// Engine is what the HTTP handler drives: *server.Engine satisfies it. It is
// an interface so tests and middlewares can stand in for the engine.
type Engine interface {
	Handle(ctx context.Context, in *envelope.Inbound) (*envelope.Outbound, error)
}

// DefaultMaxBodySize is the request body limit when HandlerOptions gives none.
const DefaultMaxBodySize = 4 << 20

// HandlerOptions configure NewHandler. The zero value (or nil) is usable.
type HandlerOptions struct {
	// MaxBodySize bounds request bodies (413 beyond it). 0 = DefaultMaxBodySize.
	MaxBodySize int64
	// ExternalURL, when set (e.g. "https://dm.example.com"), is the scheme and
	// host devices reach us at behind a proxy; RespURIs are built from it
	// instead of the request's own Host.
	ExternalURL string
	// Logger receives one line per failed request (nil: slog.Default()).
	Logger *slog.Logger
}

type handler struct {
	e    Engine
	max  int64
	base *url.URL
	log  *slog.Logger
}

// NewHandler returns the device endpoint: POST of one DM message (XML or
// WBXML), answered with the engine's reply in the same encoding. Mount it at
// /dm. Errors: 405 for other methods, 415 for other content types, 413 for
// oversized bodies, 400 for malformed messages, 503 when a concurrent node
// changed the session first, 500 (logged) for anything else, panics included.
// An ExternalURL that is not absolute is logged and ignored.
func NewHandler(e Engine, opts *HandlerOptions) http.Handler {
	var o HandlerOptions
	if opts != nil {
		o = *opts
	}
	h := &handler{e: e, max: o.MaxBodySize, log: o.Logger}
	if h.max <= 0 {
		h.max = DefaultMaxBodySize
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if o.ExternalURL != "" {
		u, err := url.Parse(o.ExternalURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			h.log.Error("dmhttp: ExternalURL is not an absolute URL; using each request's host", "url", o.ExternalURL)
		} else {
			h.base = u
		}
	}
	return h
}

// isDMType reports whether a request Content-Type names a DM message.
func isDMType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case syncml.ContentTypeXML, syncml.ContentTypeWBXML:
		return true
	}
	return false
}

func (h *handler) requestURL(r *http.Request) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if h.base != nil {
		u.Scheme, u.Host = h.base.Scheme, h.base.Host
		u.Path = strings.TrimSuffix(h.base.Path, "/") + r.URL.Path
	}
	return u.String()
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("dm handler panic", "remote", r.RemoteAddr, "panic", v)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "DM messages are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if !isDMType(r.Header.Get("Content-Type")) {
		h.log.Warn("dm request rejected: content type", "remote", r.RemoteAddr, "content_type", r.Header.Get("Content-Type"))
		http.Error(w, "content type must be "+syncml.ContentTypeXML+" or "+syncml.ContentTypeWBXML, http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > h.max {
		h.log.Warn("dm request rejected: body too large", "remote", r.RemoteAddr, "length", r.ContentLength)
		http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
		return
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, h.max+1))
	if err != nil {
		h.log.Warn("dm request body read failed", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if n > h.max {
		h.log.Warn("dm request rejected: body too large", "remote", r.RemoteAddr, "max", h.max)
		http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
		return
	}
	out, err := h.e.Handle(r.Context(), &envelope.Inbound{
		Body: buf.Bytes(), ContentType: r.Header.Get("Content-Type"), HMAC: r.Header.Get(auth.HeaderHMAC),
		RequestURL: h.requestURL(r), RemoteAddr: r.RemoteAddr,
	})
	if err != nil {
		code := httpStatus(err)
		if code >= 500 {
			h.log.Error("dm request failed", "remote", r.RemoteAddr, "err", err)
		}
		http.Error(w, http.StatusText(code), code)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", out.ContentType)
	hd.Set("Cache-Control", "private")
	if out.HMAC != "" {
		hd.Set(auth.HeaderHMAC, out.HMAC)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Body)
}

// httpStatus maps an engine error (carrying a SyncML status) to HTTP.
func httpStatus(err error) int {
	switch syncml.StatusOf(err) {
	case syncml.StatusBadRequest:
		return http.StatusBadRequest
	case syncml.StatusEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	case syncml.StatusUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case syncml.StatusServiceUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
