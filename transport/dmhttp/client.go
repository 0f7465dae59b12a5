package dmhttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

// DefaultMaxResponse bounds a response body when ClientOptions.MaxResponse is 0.
const DefaultMaxResponse = 8 << 20

// ClientOptions configures the device side HTTP transport. Zero values are
// sensible defaults.
type ClientOptions struct {
	// CAFile is a PEM bundle of extra root certificates (a private DM CA),
	// trusted beside the system roots.
	CAFile string
	// PinnedCAFile is a PEM bundle of the only CAs trusted for the server:
	// the system roots are not (precedence over CAFile, after RootCAs).
	PinnedCAFile string
	// ServerCertSHA256 pins the server: the SHA-256 of its DER leaf
	// certificate must be one of these (hex, colons allowed, any case). With
	// no CA option the pin alone is the trust (self-signed servers): the
	// chain and host name are not checked; with one, both must hold.
	ServerCertSHA256 []string
	// RootCAs replaces the system roots when set (takes precedence over CAFile).
	RootCAs *x509.CertPool
	// CertFile and KeyFile are the PEM client certificate and key for TLS
	// client authentication (optional).
	CertFile, KeyFile string
	// Certificates are client certificates given directly.
	Certificates []tls.Certificate
	// InsecureSkipVerify disables server certificate checks (tests only).
	InsecureSkipVerify bool
	// Accept is the Accept header (default: both DM content types).
	Accept string
	// UserAgent is the User-Agent header (default "omadm-agent").
	UserAgent string
	// MaxResponse bounds the response body (default DefaultMaxResponse).
	MaxResponse int64
	// MaxRedirects bounds followed redirects (default 5; -1 disables them).
	MaxRedirects int
	// Timeout bounds a whole exchange; the engine's context usually does (default none).
	Timeout time.Duration
	// HTTPClient replaces the client built from the options above.
	HTTPClient *http.Client
}

// ClientTransport posts DM messages over HTTP(S). It implements client.Transport.
type ClientTransport struct {
	hc     *http.Client
	accept string
	ua     string
	max    int64
}

var (
	_ client.Transport      = (*ClientTransport)(nil)
	_ client.RespURIChecker = (*ClientTransport)(nil)
)

// HTTPStatusError is a non-2xx HTTP answer: a transport failure (DM errors travel
// as Status codes inside a 200 response).
type HTTPStatusError struct {
	Code   int
	Status string
}

func (e *HTTPStatusError) Error() string { return "dmhttp: server answered HTTP " + e.Status }

// HTTPStatus returns the HTTP status code, so callers that see the error
// wrapped by the engine (errors.As on an interface with this method) can tell
// a server refusing the request (4xx) from one failing (5xx) without
// importing this package.
func (e *HTTPStatusError) HTTPStatus() int { return e.Code }

// ErrResponseTooLarge is returned when a response exceeds MaxResponse.
var ErrResponseTooLarge = errors.New("dmhttp: response larger than the limit")

// NewClientTransport builds the transport, loading the CA bundle and client
// certificate named in o.
func NewClientTransport(o ClientOptions) (*ClientTransport, error) {
	t := &ClientTransport{hc: o.HTTPClient, accept: o.Accept, ua: o.UserAgent, max: o.MaxResponse}
	if t.accept == "" {
		t.accept = syncml.ContentTypeWBXML + ", " + syncml.ContentTypeXML
	}
	if t.ua == "" {
		t.ua = "omadm-agent"
	}
	if t.max <= 0 {
		t.max = DefaultMaxResponse
	}
	if t.hc != nil {
		return t, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify}
	switch {
	case o.RootCAs != nil:
		tc.RootCAs = o.RootCAs
	case o.PinnedCAFile != "":
		pem, err := os.ReadFile(o.PinnedCAFile)
		if err != nil {
			return nil, fmt.Errorf("dmhttp: reading pinned CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("dmhttp: no PEM certificates in %s", o.PinnedCAFile)
		}
		tc.RootCAs = pool
	case o.CAFile != "":
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("dmhttp: reading CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("dmhttp: no PEM certificates in %s", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if len(o.ServerCertSHA256) > 0 {
		pins := make(map[string]bool, len(o.ServerCertSHA256))
		for _, p := range o.ServerCertSHA256 {
			h, err := ParseCertSHA256(p)
			if err != nil {
				return nil, fmt.Errorf("dmhttp: server certificate pin: %w", err)
			}
			pins[h] = true
		}
		if o.RootCAs == nil && o.PinnedCAFile == "" && o.CAFile == "" {
			// The pin replaces chain verification; VerifyConnection still runs.
			tc.InsecureSkipVerify = true
		}
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("dmhttp: server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if got := hex.EncodeToString(sum[:]); !pins[got] {
				return fmt.Errorf("dmhttp: server certificate SHA-256 %s is not pinned", got)
			}
			return nil
		}
	}
	tc.Certificates = append(tc.Certificates, o.Certificates...)
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("dmhttp: loading client certificate: %w", err)
		}
		tc.Certificates = append(tc.Certificates, cert)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = 2
	tr.MaxResponseHeaderBytes = 64 << 10 // a hostile server's headers are bounded too
	maxRedir := o.MaxRedirects
	if maxRedir == 0 {
		maxRedir = 5
	}
	t.hc = &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if maxRedir < 0 || len(via) > maxRedir {
				return fmt.Errorf("dmhttp: stopped after %d redirects", len(via))
			}
			// A redirect re-posts the DM message, credentials included: it
			// never leaves TLS for clear text (OMA-TS-DM_Security-V1_2
			// §5.3: TLS authenticates the session as a whole).
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("dmhttp: refused redirect from %s to %s: it leaves TLS", via[0].URL.Redacted(), req.URL.Redacted())
			}
			return nil
		},
	}
	return t, nil
}

// ParseCertSHA256 normalises a certificate SHA-256 given as hex (colons and
// spaces allowed, any case, as `openssl x509 -fingerprint -sha256` prints
// it) to 64 lower-case hex digits.
func ParseCertSHA256(s string) (string, error) {
	h := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%q is not a SHA-256 in hex (64 digits)", s)
	}
	return h, nil
}

// RoundTrip posts one DM message and returns the server's message. Redirects
// 307/308 are followed with the body re-posted; a non-2xx answer is a
// transport failure (*HTTPStatusError), so the engine retries it.
func (t *ClientTransport) RoundTrip(ctx context.Context, req *client.Request) (*client.Response, error) {
	if req.URL == "" {
		return nil, errors.New("dmhttp: request without URL")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("dmhttp: %w", err)
	}
	body := req.Body
	hr.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	ct := req.ContentType
	if ct == "" {
		ct = syncml.ContentTypeXML
	}
	hr.Header.Set("Content-Type", ct)
	hr.Header.Set("Accept", t.accept)
	hr.Header.Set("Accept-Charset", "utf-8")
	hr.Header.Set("Cache-Control", "no-store")
	hr.Header.Set("User-Agent", t.ua)
	if req.HMAC != "" {
		hr.Header.Set(auth.HeaderHMAC, req.HMAC)
	}
	resp, err := t.hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("dmhttp: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, &HTTPStatusError{Code: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > t.max {
		return nil, fmt.Errorf("%w (%d > %d bytes)", ErrResponseTooLarge, resp.ContentLength, t.max)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, t.max+1))
	if err != nil {
		return nil, fmt.Errorf("dmhttp: reading response: %w", err)
	}
	if int64(len(b)) > t.max {
		return nil, fmt.Errorf("%w (> %d bytes)", ErrResponseTooLarge, t.max)
	}
	return &client.Response{
		ContentType: resp.Header.Get("Content-Type"),
		HMAC:        resp.Header.Get(auth.HeaderHMAC),
		Body:        b,
		// TLS authenticates the session as a whole (OMA-TS-DM_Security-V1_2 §5.3).
		SecureSession: resp.TLS != nil,
	}, nil
}

// CheckRespURI refuses a RespURI the session must not follow
// (client.RespURIChecker): one that is not an absolute http or https URL,
// or a plain http one while the session runs over https. Following the
// latter would carry the rest of the session, credentials included, in
// clear text on a session the device authenticated as a whole by TLS
// (OMA-TS-DM_Security-V1_2 §5.3): whether the transport is secured is the
// account's choice (AppAddr), not one message's.
func (t *ClientTransport) CheckRespURI(cur, next string) error { return CheckRespURI(cur, next) }

// CheckRespURI is ClientTransport.CheckRespURI, for transports that wrap
// the HTTP one or stand in for it.
func CheckRespURI(cur, next string) error {
	u, err := url.Parse(next)
	if err != nil || u.Host == "" {
		return fmt.Errorf("RespURI %q is not an absolute URL", next)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if c, err := url.Parse(cur); err == nil && strings.EqualFold(c.Scheme, "https") {
			return fmt.Errorf("RespURI %q would move the session from https to plain http", next)
		}
	default:
		return fmt.Errorf("RespURI %q: scheme %q is not http or https", next, u.Scheme)
	}
	return nil
}
