package dmhttp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/internal/lograte"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/syncml"
)

// Engine is what the HTTP handler drives: *server.Engine satisfies it. It is
// an interface so tests and middlewares can stand in for the engine.
type Engine interface {
	Handle(ctx context.Context, in *envelope.Inbound) (*envelope.Outbound, error)
}

// DefaultMaxBodySize is the request body limit when HandlerOptions gives none
// and the engine does not tell its own (MessageLimiter).
const DefaultMaxBodySize = 4 << 20

// MessageLimiter is an optional ability of an Engine: the largest message it
// accepts. The handler reads no more body than that (*server.Engine has it).
type MessageLimiter interface {
	MaxMessageSize() int
}

// HandlerOptions configure NewHandler. The zero value (or nil) is usable.
type HandlerOptions struct {
	// MaxBodySize bounds request bodies (413 beyond it). 0 = the engine's
	// MaxMessageSize when it is a MessageLimiter, else DefaultMaxBodySize.
	MaxBodySize int64
	// ExternalURL, when set (e.g. "https://dm.example.com"), is the scheme and
	// host devices reach us at behind a proxy; RespURIs are built from it
	// instead of the request's own Host.
	ExternalURL string
	// Logger receives the lines about failed requests (nil: slog.Default()).
	Logger *slog.Logger
	// LogEvery is the least time between two lines about refused requests
	// of one kind (content type, body too large, unreadable body): peers
	// cause them, so the next line sums up those left out (zero:
	// DefaultLogEvery; negative: every one is logged).
	LogEvery time.Duration
}

// DefaultLogEvery is HandlerOptions.LogEvery when it is zero.
const DefaultLogEvery = 10 * time.Second

type handler struct {
	e    Engine
	max  int64
	base *url.URL
	log  *slog.Logger
	lim  *lograte.Limiter
}

// NewHandler returns the device endpoint: POST of one DM message (XML or
// WBXML), answered with the engine's reply in the same encoding. Mount it at
// /dm. Requests may use the DM media types or the DS ones
// (ContentTypeDSXML, ContentTypeDSWBXML); the reply uses the family of the
// request. Errors: 405 for other methods, 415 for other content types, 413
// for oversized bodies (refused on their Content-Length before reading),
// 400 for malformed messages, 503 when a concurrent node changed the session
// first, 500 (logged) for anything else, panics included. Over TLS, the
// client certificate's SHA-256 is passed to the engine (ClientCertSHA256).
// An ExternalURL that is not absolute is logged and ignored.
func NewHandler(e Engine, opts *HandlerOptions) http.Handler {
	var o HandlerOptions
	if opts != nil {
		o = *opts
	}
	if o.LogEvery == 0 {
		o.LogEvery = DefaultLogEvery
	}
	h := &handler{e: e, max: o.MaxBodySize, log: o.Logger, lim: lograte.New(o.LogEvery)}
	if l, ok := e.(MessageLimiter); ok && h.max <= 0 {
		h.max = int64(l.MaxMessageSize())
	}
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

// RequestAddressing is the HTTP binding's session addressing for a message
// POSTed to requestURL (absolute, query included): its token is the "s"
// query parameter, and the RespURI of a session is requestURL without its
// query and fragment plus "?s=<token>". The device posts its next message
// there (OMA-TS-DM_Protocol-V1_2, SyncHdr RespURI). A requestURL that does
// not parse has no token and gives no RespURI.
func RequestAddressing(requestURL string) envelope.Addressing { return parseRequestAddr(requestURL) }

func parseRequestAddr(requestURL string) *requestAddr {
	a := &requestAddr{}
	if u, err := url.Parse(requestURL); err == nil && requestURL != "" {
		a.u = u
		a.token = u.Query().Get("s")
	}
	return a
}

type requestAddr struct {
	u     *url.URL // nil: no RespURI
	token string
}

func (a *requestAddr) Token() string { return a.token }

func (a *requestAddr) RespURI(token string) string {
	if a.u == nil {
		return ""
	}
	u := *a.u
	u.RawQuery = url.Values{"s": {token}}.Encode()
	u.Fragment = ""
	return u.String()
}

// SecureURL reports whether a message posted to requestURL came over TLS
// (its scheme is https: directly, or behind a proxy named by
// HandlerOptions.ExternalURL), which authenticates the session as a whole
// (OMA-TS-DM_Security-V1_2 §5.3).
func SecureURL(requestURL string) bool {
	u, err := url.Parse(requestURL)
	return err == nil && u.Scheme == "https"
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
	ct := r.Header.Get("Content-Type")
	family, ok := parseMediaType(ct)
	if !ok {
		h.lim.Warn(h.log, "dm request rejected: content type", "remote", r.RemoteAddr, "content_type", ct)
		http.Error(w, "unsupported content type "+strconv.Quote(ct)+"; DM messages are "+acceptedTypes, http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > h.max {
		// Refused on the announcement, before a byte of the body is read;
		// the connection is not reused (the body was not drained).
		h.lim.Warn(h.log, "dm request rejected: body too large", "remote", r.RemoteAddr, "length", r.ContentLength, "max", h.max)
		w.Header().Set("Connection", "close")
		http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
		return
	}
	// The buffer grows with the bytes that actually arrive: a Content-Length
	// is only a claim, and preallocating it lets idle connections pin memory.
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.max))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			h.lim.Warn(h.log, "dm request rejected: body too large", "remote", r.RemoteAddr, "max", h.max)
			http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.lim.Warn(h.log, "dm request body read failed", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	addr := parseRequestAddr(h.requestURL(r))
	out, err := h.e.Handle(r.Context(), &envelope.Inbound{
		Body: buf.Bytes(), ContentType: ct, HMAC: r.Header.Get(auth.HeaderHMAC),
		Addr: addr, SecureSession: addr.u != nil && addr.u.Scheme == "https", // as SecureURL
		RemoteAddr: r.RemoteAddr, ClientCertSHA256: ClientCertSHA256(r.TLS),
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
	hd.Set("Content-Type", family.reply(out.ContentType))
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
