package handler

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
)

// tokenTouchEvery is how stale a token's stored last use may get: a request
// writes it only when it is older than this, so using a token costs one
// indexed read and, at most once a minute, one small write.
const tokenTouchEvery = time.Minute

// tokenPrefix starts every named token, so a leaked one is easy to find in
// logs and code (secret scanners can match it).
const tokenPrefix = "omadm_"

func (h *Handler) tokenRoutes() []Route {
	p := api.Prefix
	return []Route{
		{Method: "POST", Pattern: p + "/tokens", h: h.createToken},
		{Method: "GET", Pattern: p + "/tokens", h: h.listTokens},
		{Method: "DELETE", Pattern: p + "/tokens/{token}", h: h.revokeToken},
		{Method: "GET", Pattern: p + "/notification-senders", h: h.listSenders},
	}
}

// caller is which token authenticated a request.
type caller struct {
	token int64 // the named token's ID; 0 for the bootstrap token
}

type callerKey struct{}

func callerOf(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

// errTokenStore is a failed token lookup: the request is answered 503.
var errTokenStore = errors.New("token lookup failed")

// checkToken authenticates a bearer token: the bootstrap token (its
// SHA-256 compared in constant time), else a named token found by its
// SHA-256 in the store and compared again in constant time. Looking a
// token up by its hash leaks, through timing, at most how a hash compares
// with stored ones, which tells nothing about any token's plaintext.
// msg is the reason a refused token is refused.
func (h *Handler) checkToken(ctx context.Context, tok string) (c caller, msg string, err error) {
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], h.tokenHash[:]) == 1 {
		return caller{}, "", nil
	}
	if !strings.HasPrefix(tok, tokenPrefix) {
		return caller{}, "invalid API token", nil
	}
	t, err := h.o.Store.APITokenByHash(ctx, sum[:])
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return caller{}, "invalid API token", nil
	case err != nil:
		return caller{}, "", err
	case subtle.ConstantTimeCompare(t.Hash, sum[:]) != 1:
		return caller{}, "invalid API token", nil
	case t.Revoked():
		return caller{}, fmt.Sprintf("API token %q was revoked", t.Name), nil
	}
	if now := time.Now(); now.Sub(t.LastUsedAt) >= tokenTouchEvery {
		if err := h.o.Store.TouchAPIToken(ctx, t.ID, now); err != nil && !errors.Is(err, context.Canceled) {
			h.o.Logger.Warn("recording an API token's use", "token", t.Name, "err", err)
		}
	}
	return caller{token: t.ID}, "", nil
}

// newToken makes a token: the prefix and 32 random bytes, base64url.
func newToken() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// createToken is POST /tokens: the plaintext is in this answer only.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) {
	var req api.TokenRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := api.ValidateTokenRequest(&req); err != nil {
		h.fail(w, r, err)
		return
	}
	tok, err := newToken()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sum := sha256.Sum256([]byte(tok))
	t := &storage.APIToken{Name: req.Name, Prefix: tok[:api.TokenPrefixLen], Hash: sum[:]}
	if err := h.o.Store.CreateAPIToken(r.Context(), t); err != nil {
		if errors.Is(err, storage.ErrExists) {
			writeError(w, http.StatusConflict, fmt.Sprintf("an API token named %q exists: revoke it first or choose another name", req.Name))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("API token created", "token", t.Name, "id", t.ID)
	out := api.TokenFrom(t)
	out.Token = tok
	w.Header().Set("Location", api.Prefix+"/tokens/"+strconv.FormatInt(t.ID, 10))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

// listTokens is GET /tokens.
func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all := false
	if v := q.Get("revoked"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("revoked=%q: want true or false", v))
			return
		}
		all = b
	}
	ts, err := h.o.Store.ListAPITokens(r.Context(), all)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	me := callerOf(r.Context())
	out := api.TokenList{Tokens: make([]api.Token, 0, len(ts)), BootstrapCurrent: me.token == 0}
	for _, t := range ts {
		v := api.TokenFrom(t)
		v.Current = me.token != 0 && t.ID == me.token
		out.Tokens = append(out.Tokens, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeToken is DELETE /tokens/{token}, by ID or name: the token is
// refused from the next request on, on every node.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("token")
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil {
		if api.ValidateTokenRequest(&api.TokenRequest{Name: ref}) != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is neither a token ID nor a token name", ref))
			return
		}
		ts, err := h.o.Store.ListAPITokens(r.Context(), false)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, t := range ts {
			if t.Name == ref {
				id = t.ID
			}
		}
		if id == 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no API token named %q (the bootstrap token of omadm serve cannot be revoked here: replace it in the data directory or $OMADM_API_TOKEN and restart)", ref))
			return
		}
	}
	t, err := h.o.Store.RevokeAPIToken(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no API token with ID %d", id))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("API token revoked", "token", t.Name, "id", t.ID)
	writeJSON(w, http.StatusOK, api.TokenFrom(t))
}

// listSenders is GET /notification-senders: the configured package 0
// senders, described by themselves when they can (notification.Describer).
func (h *Handler) listSenders(w http.ResponseWriter, _ *http.Request) {
	out := api.NotificationSenderList{Senders: make([]api.NotificationSender, 0, len(h.o.Senders))}
	for scheme, s := range h.o.Senders {
		if s == nil {
			continue
		}
		v := api.NotificationSender{Scheme: scheme, Kind: strings.TrimPrefix(fmt.Sprintf("%T", s), "*")}
		if d, ok := s.(notification.Describer); ok {
			v.Description = d.Describe()
		}
		out.Senders = append(out.Senders, v)
	}
	sort.Slice(out.Senders, func(i, j int) bool { return out.Senders[i].Scheme < out.Senders[j].Scheme })
	writeJSON(w, http.StatusOK, out)
}
